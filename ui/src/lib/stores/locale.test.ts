import { describe, expect, it } from 'vitest';
import { useFakeTime } from '$lib/testing/time';
import { LocaleStore, type PreferenceStorage } from './locale.svelte';

useFakeTime();

function memoryStorage(initial: string | null = null): PreferenceStorage & { value: string | null } {
  return {
    value: initial,
    load() {
      return this.value;
    },
    save(value) {
      this.value = value;
    },
  };
}

describe('LocaleStore', () => {
  it('follows the system languages by default', () => {
    const store = new LocaleStore(['es-ES', 'en']);
    expect(store.preference).toBe('system');
    expect(store.locale).toBe('es');
    expect(store.t('login.submit')).toBe('Entrar');
    store.setSystemLanguages(['en-GB']);
    expect(store.locale).toBe('en');
    expect(store.t('login.submit')).toBe('Log in');
  });

  it('lets the user override the system and go back to it', () => {
    const storage = memoryStorage();
    const store = new LocaleStore(['en-US'], storage);
    store.setPreference('es');
    expect(store.locale).toBe('es');
    expect(storage.value).toBe('es');
    store.setPreference('system');
    expect(store.locale).toBe('en');
    expect(storage.value).toBeNull();
  });

  it('restores a saved choice and ignores an unknown one', () => {
    expect(new LocaleStore(['en'], memoryStorage('es')).locale).toBe('es');
    const store = new LocaleStore(['en'], memoryStorage('klingon'));
    expect(store.preference).toBe('system');
    expect(store.locale).toBe('en');
  });
});
