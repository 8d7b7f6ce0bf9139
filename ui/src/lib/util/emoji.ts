/**
 * Emoji: the bundled data (`virtual:emoji-data`, made at build time from `emojibase-data`: names
 * and keywords in English and Spanish, shortcodes, skin tones), searching it without case or
 * accents ("corazon" finds ❤️), `:shortcode:` completion in the composer, the quick row of
 * reactions and the recently used ones, and telling a message that is only emoji.
 *
 * Pure functions; the data is loaded once, on first use (`loadEmoji`), as a chunk of its own.
 */

/** Emojibase's groups, in the picker's order (2, the bare components, is left out). */
export const GROUPS = [0, 1, 3, 4, 5, 6, 7, 8, 9] as const;
export type EmojiGroup = (typeof GROUPS)[number];

export interface EmojiEntry {
  emoji: string;
  group: number;
  /** English name (the first words of the English text). */
  name: string;
  /** Shortcodes, without colons (`thumbsup`, `+1`). */
  codes: string[];
  /** The five skin tone variants, lightest first, if it has them. */
  skins: string[] | null;
  /** Everything searched: names, keywords and shortcodes in both languages, folded. */
  words: string[];
  /** Its names in English and Spanish, folded. */
  names: string[];
}

type Row = [string, number, string, string, string, string[]?];

/** Lower case without accents: "Corazón" → "corazon". */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

export function buildIndex(rows: readonly Row[]): EmojiEntry[] {
  return rows.map(([emoji, group, en, es, codes, skins]) => {
    const codeList = codes === '' ? [] : codes.split(' ');
    const text = fold(`${en} ${es}`).replace(/\|/g, ' ');
    const words = new Set([...text.split(/\s+/), ...codeList.map(fold)].filter((w) => w !== ''));
    const names = [en, es].map((n) => fold(n.split('|')[0] ?? ''));
    return { emoji, group, name: en.split('|')[0] ?? en, codes: codeList, skins: skins ?? null, words: [...words], names };
  });
}

let loading: Promise<EmojiEntry[]> | null = null;

/** The bundled emoji, in Unicode's order (loaded once). */
export function loadEmoji(): Promise<EmojiEntry[]> {
  loading ??= import('virtual:emoji-data').then((module) => buildIndex(module.default));
  return loading;
}

/**
 * The emoji whose words start with every word of `query` (any order, any language): those
 * whose shortcode or name is the query come first, then those whose shortcode or name starts
 * with it (shorter names first), then those with a keyword that is a word of it, then the rest,
 * in Unicode's order. An empty query finds nothing.
 */
export function searchEmoji(index: readonly EmojiEntry[], query: string, limit = 80): EmojiEntry[] {
  const terms = fold(query).replace(/^:|:$/g, '').split(/\s+/).filter((t) => t !== '');
  if (terms.length === 0) return [];
  const ranked: [number, number, EmojiEntry][] = [];
  index.forEach((entry, order) => {
    if (!terms.every((term) => entry.words.some((word) => word.startsWith(term)))) return;
    const whole = terms.join('_');
    const phrase = terms.join(' ');
    const named = entry.names.filter((n) => n.startsWith(phrase));
    const rank =
      entry.codes.some((c) => fold(c) === whole) || entry.names.includes(phrase)
        ? 0
        : entry.codes.some((c) => fold(c).startsWith(whole)) || named.length > 0
          ? 1 + Math.min(...named.map((n) => n.length), 99) / 100
          : entry.words.some((w) => terms.includes(w))
            ? 2
            : 3;
    ranked.push([rank, order, entry]);
  });
  ranked.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return ranked.slice(0, limit).map(([, , entry]) => entry);
}

/** The emoji with a skin tone (1–5, lightest first; 0: none), where it has tones. */
export function withSkin(entry: EmojiEntry, tone: number): string {
  return tone >= 1 && tone <= 5 && entry.skins ? (entry.skins[tone - 1] ?? entry.emoji) : entry.emoji;
}

/** A `:shortcode` being typed before the cursor: at least two characters after a lone colon. */
export interface ShortcodeAt {
  /** Where the colon is. */
  start: number;
  /** What follows it, up to the cursor. */
  prefix: string;
}

export function shortcodeAt(text: string, cursor: number): ShortcodeAt | null {
  const before = text.slice(0, cursor);
  const match = /(^|\s):([\p{L}\p{N}_+-]{2,})$/u.exec(before);
  if (!match) return null;
  return { start: before.length - match[2]!.length - 1, prefix: match[2]! };
}

/** Puts `emoji` in place of the `:shortcode` at `at`; the cursor goes after it. */
export function completeShortcode(text: string, cursor: number, at: ShortcodeAt, emoji: string): { text: string; cursor: number } {
  const head = text.slice(0, at.start) + emoji;
  const tail = text.slice(cursor).replace(/^:/, '');
  return { text: head + tail, cursor: head.length };
}

/** The quick row of reactions when nothing was used yet. */
export const QUICK_DEFAULT = ['👍', '❤️', '😂', '😮', '😢', '🙏'] as const;
/** How many recently used emoji are kept. */
export const RECENT_MAX = 24;

/** The quick row: the recently used emoji first, then the defaults, six in all. */
export function quickRow(recent: readonly string[], size = QUICK_DEFAULT.length): string[] {
  return [...new Set([...recent, ...QUICK_DEFAULT])].slice(0, size);
}

/** `recent` with `emoji` first (once), at most {@link RECENT_MAX}. */
export function addRecent(recent: readonly string[], emoji: string): string[] {
  return [emoji, ...recent.filter((e) => e !== emoji)].slice(0, RECENT_MAX);
}

/** An emoji's first character, and what makes it shown as emoji (not "©" or "1" as text). */
const PICTOGRAPH = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[#*0-9])/u;
const PRESENTED = /\p{Emoji_Presentation}|\p{Emoji_Modifier}|\uFE0F|\u20E3/u;
const segmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

/** Whether the text is one to three emoji (and spaces) alone, to be shown large. */
export function isEmojiOnly(text: string, max = 3): boolean {
  const squeezed = text.replace(/\s+/g, '');
  if (squeezed === '' || squeezed.length > 64 || !segmenter) return false;
  let count = 0;
  for (const { segment } of segmenter.segment(squeezed)) {
    if (!PICTOGRAPH.test(segment) || !PRESENTED.test(segment)) return false;
    count += 1;
    if (count > max) return false;
  }
  return true;
}
