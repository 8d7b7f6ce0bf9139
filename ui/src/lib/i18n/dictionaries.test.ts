import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCALE, DICTIONARIES, LOCALES, type Message } from '$lib/i18n';

/** The text of every form of a message. */
function texts(message: Message): string[] {
  return typeof message === 'string' ? [message] : Object.values(message);
}

function placeholders(message: Message): string[] {
  const names = new Set<string>();
  for (const text of texts(message)) {
    for (const match of text.matchAll(/\{(\w+)\}/g)) names.add(match[1] ?? '');
  }
  return [...names].sort();
}

const reference = DICTIONARIES[DEFAULT_LOCALE];
const referenceKeys = Object.keys(reference).sort();

describe.each(LOCALES.filter((l) => l !== DEFAULT_LOCALE))('dictionary %s', (locale) => {
  const dictionary = DICTIONARIES[locale];

  it('has exactly the same keys as English', () => {
    expect(Object.keys(dictionary).sort()).toEqual(referenceKeys);
  });

  it('makes the same messages plural and uses the same placeholders', () => {
    for (const key of referenceKeys) {
      const ours = dictionary[key];
      const theirs = reference[key];
      expect(ours, key).toBeDefined();
      if (ours === undefined || theirs === undefined) continue;
      expect(typeof ours, key).toBe(typeof theirs);
      expect(placeholders(ours), key).toEqual(placeholders(theirs));
    }
  });
});

describe.each(LOCALES)('dictionary %s content', (locale) => {
  const dictionary = DICTIONARIES[locale];
  const categories = new Set<string>(new Intl.PluralRules(locale).resolvedOptions().pluralCategories);

  it('has no empty or untrimmed messages', () => {
    for (const [key, message] of Object.entries(dictionary)) {
      for (const text of texts(message)) {
        expect(text.length, key).toBeGreaterThan(0);
        expect(text, key).toBe(text.trim());
      }
    }
  });

  it('uses only plural categories the locale has, always with other', () => {
    for (const [key, message] of Object.entries(dictionary)) {
      if (typeof message === 'string') continue;
      expect(message.other, key).toBeTypeOf('string');
      for (const category of Object.keys(message)) {
        expect(categories.has(category), `${key}: ${category}`).toBe(true);
      }
    }
  });
});
