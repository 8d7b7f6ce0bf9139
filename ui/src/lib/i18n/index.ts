/**
 * Charla's i18n: a tiny typed dictionary lookup with plural forms chosen by `Intl.PluralRules`.
 *
 * - `translate(locale, key, params?)` returns the message for `key` in `locale`, falling back to
 *   English when a locale lacks the key (and to the key itself if even English lacks it, which the
 *   types make impossible for literal keys).
 * - A plural message needs `params.count`; the form is picked with `Intl.PluralRules(locale)`,
 *   falling back to `other`.
 * - `{name}` placeholders are replaced from `params`; numbers are formatted with
 *   `Intl.NumberFormat(locale)`. Unknown placeholders are left as written so mistakes are visible.
 * - `negotiateLocale(preferred)` maps a list like `navigator.languages` to a supported locale.
 *
 * Pure functions, no DOM: the reactive state lives in `$lib/stores/locale.svelte.ts`.
 */
import { en, type MessageKey } from './en';
import { es } from './es';
import type { Dictionary, Message, Params, PluralMessage } from './types';

export type { MessageKey } from './en';
export type { Dictionary, Message, Params, ParamValue, PluralCategory, PluralMessage } from './types';

export const LOCALES = ['en', 'es'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

/** Each language's name in that language: shown the same whatever the UI language is. */
export const LOCALE_NAMES: Readonly<Record<Locale, string>> = {
  en: 'English',
  es: 'Español',
};

export const DICTIONARIES: Readonly<Record<Locale, Dictionary>> = { en, es };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * The first supported locale matching a list of BCP 47 tags in order of preference
 * (`navigator.languages`), comparing the primary language subtag case-insensitively:
 * `es-MX` → `es`, `EN_gb` → `en`. Falls back to English.
 */
export function negotiateLocale(preferred: readonly string[]): Locale {
  for (const tag of preferred) {
    const primary = tag.trim().split(/[-_]/, 1)[0]?.toLowerCase();
    if (isLocale(primary)) return primary;
  }
  return DEFAULT_LOCALE;
}

const pluralRules = new Map<Locale, Intl.PluralRules>();
const numberFormats = new Map<Locale, Intl.NumberFormat>();

function pluralRulesFor(locale: Locale): Intl.PluralRules {
  let rules = pluralRules.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(locale);
    pluralRules.set(locale, rules);
  }
  return rules;
}

function numberFormatFor(locale: Locale): Intl.NumberFormat {
  let format = numberFormats.get(locale);
  if (!format) {
    format = new Intl.NumberFormat(locale);
    numberFormats.set(locale, format);
  }
  return format;
}

function selectPlural(locale: Locale, message: PluralMessage, count: number): string {
  const category = pluralRulesFor(locale).select(count);
  return message[category] ?? message.other;
}

function interpolate(locale: Locale, text: string, params: Params | undefined): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === 'number' ? numberFormatFor(locale).format(value) : value;
  });
}

/** Formats one message (plain or plural) for `locale`. */
export function formatMessage(locale: Locale, message: Message, params?: Params): string {
  if (typeof message === 'string') return interpolate(locale, message, params);
  const count = params?.['count'];
  const text = selectPlural(locale, message, typeof count === 'number' ? count : Number.NaN);
  return interpolate(locale, text, params);
}

/**
 * Looks `key` up in `dictionaries[locale]`, then in the default locale's dictionary, and formats
 * it; returns the key itself when neither has it. `translate` is this over the built-in
 * dictionaries; taking them as an argument keeps the fallback path testable.
 */
export function translateIn(
  dictionaries: Readonly<Record<Locale, Dictionary>>,
  locale: Locale,
  key: string,
  params?: Params,
): string {
  const message = dictionaries[locale][key] ?? dictionaries[DEFAULT_LOCALE][key];
  return message === undefined ? key : formatMessage(locale, message, params);
}

export function translate(locale: Locale, key: MessageKey, params?: Params): string {
  return translateIn(DICTIONARIES, locale, key, params);
}

export type Translate = (key: MessageKey, params?: Params) => string;

/** A `t` bound to one locale. */
export function createTranslator(locale: Locale): Translate {
  return (key, params) => translate(locale, key, params);
}
