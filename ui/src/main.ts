import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
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

const target = document.getElementById('app');
if (!target) throw new Error('#app element missing from index.html');

export default mount(App, { target });
