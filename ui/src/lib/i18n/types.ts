/**
 * Shapes shared by every dictionary.
 *
 * A message is either a plain string or a set of plural forms keyed by the CLDR plural categories
 * that `Intl.PluralRules` returns. `other` is mandatory because every locale has it and it is the
 * fallback for any category a dictionary leaves out (for example Spanish `many`).
 *
 * Placeholders are written `{name}`; in plural forms `{count}` is the number being pluralised.
 */
export type PluralCategory = Intl.LDMLPluralRule;

export type PluralMessage = { readonly other: string } & {
  readonly [C in Exclude<PluralCategory, 'other'>]?: string;
};

export type Message = string | PluralMessage;

export type Dictionary = Readonly<Record<string, Message>>;

/** Values a placeholder can take. Numbers are formatted for the active locale. */
export type ParamValue = string | number;
export type Params = Readonly<Record<string, ParamValue>>;
