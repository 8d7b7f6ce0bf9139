/**
 * The UI language: follows the system languages (`navigator.languages`, passed in by `main.ts`)
 * unless the user picked one. No DOM access here; persistence goes through an injected adapter.
 */
import {
  isLocale,
  negotiateLocale,
  translate,
  type Locale,
  type MessageKey,
  type Params,
} from '$lib/i18n';

export type LocalePreference = Locale | 'system';

/** Where the user's choice is kept between runs (e.g. a `localStorage` wrapper). */
export interface PreferenceStorage {
  load(): string | null;
  save(value: string | null): void;
}

export class LocaleStore {
  /** `'system'` or a locale chosen by the user. */
  preference = $state<LocalePreference>('system');
  /** The system's preferred languages, most preferred first. */
  systemLanguages = $state<readonly string[]>([]);
  /** The locale in effect. */
  readonly locale: Locale = $derived(
    this.preference === 'system' ? negotiateLocale(this.systemLanguages) : this.preference,
  );

  #storage: PreferenceStorage | undefined;

  constructor(systemLanguages: readonly string[] = [], storage?: PreferenceStorage) {
    this.connect(systemLanguages, storage);
  }

  /** Sets the system languages and loads a saved preference, if any. */
  connect(systemLanguages: readonly string[], storage?: PreferenceStorage): void {
    this.systemLanguages = [...systemLanguages];
    this.#storage = storage;
    const saved = storage?.load();
    this.preference = isLocale(saved) ? saved : 'system';
  }

  setSystemLanguages(languages: readonly string[]): void {
    this.systemLanguages = [...languages];
  }

  setPreference(preference: LocalePreference): void {
    this.preference = preference;
    this.#storage?.save(preference === 'system' ? null : preference);
  }

  /** Translates in the current locale; reading it inside a template or `$derived` is reactive. */
  t = (key: MessageKey, params?: Params): string => translate(this.locale, key, params);
}

/** The app's single locale store. */
export const i18n = new LocaleStore();
