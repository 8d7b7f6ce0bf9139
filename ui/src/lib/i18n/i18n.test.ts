import { describe, expect, it } from 'vitest';
import {
  createTranslator,
  formatMessage,
  negotiateLocale,
  translate,
  translateIn,
  type Dictionary,
  type Locale,
} from '$lib/i18n';

describe('translate', () => {
  it('looks up plain messages in each language', () => {
    expect(translate('en', 'login.password')).toBe('Password');
    expect(translate('es', 'login.password')).toBe('Contraseña');
    expect(translate('en', 'app.name')).toBe('Charla');
    expect(translate('es', 'app.name')).toBe('Charla');
  });

  it('picks English plural forms', () => {
    const t = createTranslator('en');
    expect(t('login.errorSummary', { count: 1 })).toBe('Please correct 1 field.');
    expect(t('login.errorSummary', { count: 0 })).toBe('Please correct 0 fields.');
    expect(t('login.errorSummary', { count: 2 })).toBe('Please correct 2 fields.');
    expect(t('login.errorSummary', { count: 1.5 })).toBe('Please correct 1.5 fields.');
  });

  it('picks Spanish plural forms, falling back to other for many', () => {
    const t = createTranslator('es');
    expect(t('login.errorSummary', { count: 1 })).toBe('Corrige 1 campo.');
    expect(t('login.errorSummary', { count: 0 })).toBe('Corrige 0 campos.');
    expect(t('login.errorSummary', { count: 3 })).toBe('Corrige 3 campos.');
    // CLDR puts 1 000 000 in Spanish `many`, which our dictionary leaves to `other`.
    expect(new Intl.PluralRules('es').select(1_000_000)).toBe('many');
    expect(t('login.errorSummary', { count: 1_000_000 })).toBe('Corrige 1.000.000 campos.');
  });

  it('formats numbers for the locale', () => {
    expect(translate('en', 'login.errorSummary', { count: 12345 })).toBe(
      'Please correct 12,345 fields.',
    );
    expect(translate('es', 'login.errorSummary', { count: 12345 })).toBe('Corrige 12.345 campos.');
  });

  it('uses other when a plural message gets no count', () => {
    expect(translate('en', 'login.errorSummary')).toBe('Please correct {count} fields.');
  });
});

describe('translateIn fallback', () => {
  const dictionaries: Record<Locale, Dictionary> = {
    en: {
      greeting: 'Hello, {name}!',
      onlyEnglish: 'Only in English',
      items: { one: '{count} item', other: '{count} items' },
    },
    es: {
      greeting: '¡Hola, {name}!',
      items: { one: '{count} elemento', other: '{count} elementos' },
    },
  };

  it('uses the locale when it has the key', () => {
    expect(translateIn(dictionaries, 'es', 'greeting', { name: 'Ana' })).toBe('¡Hola, Ana!');
  });

  it('falls back to English for a missing key', () => {
    expect(translateIn(dictionaries, 'es', 'onlyEnglish')).toBe('Only in English');
  });

  it('returns the key when no dictionary has it', () => {
    expect(translateIn(dictionaries, 'es', 'nowhere')).toBe('nowhere');
  });

  it('leaves unknown placeholders visible', () => {
    expect(translateIn(dictionaries, 'en', 'greeting')).toBe('Hello, {name}!');
    expect(translateIn(dictionaries, 'en', 'greeting', { other: 'x' })).toBe('Hello, {name}!');
  });

  it('applies plural rules of the requested locale', () => {
    expect(translateIn(dictionaries, 'es', 'items', { count: 1 })).toBe('1 elemento');
    expect(translateIn(dictionaries, 'es', 'items', { count: 2 })).toBe('2 elementos');
  });
});

describe('formatMessage', () => {
  it('substitutes string and number parameters', () => {
    expect(formatMessage('en', '{a} and {b}', { a: 'x', b: 1000 })).toBe('x and 1,000');
  });

  it('prefers an explicit zero form when a dictionary gives one for a locale using it', () => {
    // English has no `zero` category, so a zero form is ignored and `other` is used.
    expect(formatMessage('en', { zero: 'none', other: '{count}' }, { count: 0 })).toBe('0');
  });
});

describe('negotiateLocale', () => {
  it('matches the primary language subtag in order of preference', () => {
    expect(negotiateLocale(['es-MX', 'en-US'])).toBe('es');
    expect(negotiateLocale(['fr-FR', 'en-GB', 'es'])).toBe('en');
    expect(negotiateLocale(['de', 'ES_ar'])).toBe('es');
    expect(negotiateLocale([' EN '])).toBe('en');
  });

  it('falls back to English', () => {
    expect(negotiateLocale([])).toBe('en');
    expect(negotiateLocale(['fr', 'de-CH', ''])).toBe('en');
  });
});
