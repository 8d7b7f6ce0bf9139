import { render } from 'svelte/server';
import { afterEach, describe, expect, it } from 'vitest';
import App from './App.svelte';
import { DICTIONARIES, LOCALES } from '$lib/i18n';
import { i18n } from '$lib/stores/locale.svelte';

afterEach(() => i18n.connect([]));

const SHOWN = [
  'app.name',
  'app.tagline',
  'login.title',
  'login.jid',
  'login.password',
  'login.advanced',
  'login.host',
  'login.port',
  'login.submit',
  'language.label',
] as const;

describe.each(LOCALES)('first screen in %s', (locale) => {
  it('renders the placeholder screen from the dictionary', () => {
    i18n.connect([locale]);
    const { body } = render(App);
    const dictionary = DICTIONARIES[locale];
    for (const key of SHOWN) {
      const message = dictionary[key];
      expect(typeof message).toBe('string');
      expect(body, key).toContain(String(message).replace(/&/g, '&amp;'));
    }
    // No raw message key leaked into the page.
    expect(body).not.toMatch(/\b(app|login|language)\.[a-z]/);
  });
});
