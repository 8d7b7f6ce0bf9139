import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { tauriBackend } from '$lib/api';
import { installContextMenu } from '$lib/contextmenu';
import { AppStore } from '$lib/stores/app.svelte';
import { startClock } from '$lib/stores/clock.svelte';
import { i18n, type PreferenceStorage } from '$lib/stores/locale.svelte';

const LOCALE_KEY = 'charla.locale';

/** Keeps the language choice in the webview's localStorage; tolerates it being unavailable. */
const storage: PreferenceStorage = {
  load() {
    try {
      return localStorage.getItem(LOCALE_KEY);
    } catch {
      return null;
    }
  },
  save(value) {
    try {
      if (value === null) localStorage.removeItem(LOCALE_KEY);
      else localStorage.setItem(LOCALE_KEY, value);
    } catch {
      // Not persisted; the choice still applies for this run.
    }
  },
};

i18n.connect(navigator.languages, storage);
window.addEventListener('languagechange', () => i18n.setSystemLanguages(navigator.languages));

// The webview never navigates: links go to the system through `open_link` (see MessageText).
// This catches any anchor that a component might render without its own handler.
for (const type of ['click', 'auxclick'] as const) {
  document.addEventListener(
    type,
    (event) => {
      const target = event.target instanceof Element ? event.target.closest('a[href]') : null;
      if (target && !event.defaultPrevented) event.preventDefault();
    },
    { capture: false },
  );
}
// Dropping a file or link on the window must not navigate to it either.
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => event.preventDefault());

const target = document.getElementById('app');
if (!target) throw new Error('#app element missing from index.html');

const app = new AppStore(tauriBackend);
// Recently used emoji and the skin tone, kept like the language.
const EMOJI_KEY = 'charla.emoji';
app.emoji.connect({
  load() {
    try {
      return localStorage.getItem(EMOJI_KEY);
    } catch {
      return null;
    }
  },
  save(value) {
    try {
      if (value === null) localStorage.removeItem(EMOJI_KEY);
      else localStorage.setItem(EMOJI_KEY, value);
    } catch {
      // Not kept; the recent emoji still apply for this run.
    }
  },
});
// A draft typed just before the window goes is kept at once.
window.addEventListener('pagehide', () => app.drafts.flush());
startClock();
// Charla's own context menu everywhere, never WebKit's (whose "Open Link" navigated the window).
installContextMenu({
  menu: app.contextMenu,
  openLink: (url) => app.links.openLink(url),
  devtools: () => app.session.info?.devtools ?? false,
});
void app.start();

export default mount(App, { target, props: { app } });
