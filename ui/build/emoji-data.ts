/**
 * `virtual:emoji-data`: the emoji the picker and `:shortcode:` completion offer, made at build
 * time from the `emojibase-data` package (Unicode's CLDR names and keywords in English and
 * Spanish, and Emojibase's shortcodes), keeping only what the UI searches and shows. Nothing is
 * fetched at run time; the module is a chunk of its own, loaded the first time it is needed.
 *
 * Each row: `[emoji, group, english words, spanish words, shortcodes, skin tones?]`, where the
 * words are the name, a `|`, and the keywords (space-separated, lower case), and the skin tones are the five
 * variants, lightest first, for emoji that have them. Components (bare skin tones, hair) are left
 * out.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Plugin } from 'vite';

interface Entry {
  label: string;
  hexcode: string;
  emoji: string;
  tags?: string[];
  type: number;
  group?: number;
  order?: number;
  skins?: { hexcode: string; emoji: string }[];
}

export type EmojiRow = [string, number, string, string, string, string[]?];

const ID = 'virtual:emoji-data';
const RESOLVED = `\0${ID}`;

const require = createRequire(import.meta.url);

function load(path: string): unknown {
  return JSON.parse(readFileSync(require.resolve(`emojibase-data/${path}`), 'utf8'));
}

/** The emoji as it is written: one code point of text presentation gets VS16, others are as given. */
function written(entry: { hexcode: string; emoji: string; type?: number }): string {
  const points = entry.hexcode.split('-').map((h) => Number.parseInt(h, 16));
  if (points.length === 1) return String.fromCodePoint(points[0]!) + (entry.type === 0 ? '\uFE0F' : '');
  if (!points.includes(0x200d)) return String.fromCodePoint(...points);
  return entry.emoji;
}

function words(entry: Entry | undefined): string {
  if (!entry) return '';
  return `${entry.label}|${(entry.tags ?? []).join(' ')}`.toLowerCase();
}

export function emojiRows(): EmojiRow[] {
  const en = load('en/data.json') as Entry[];
  const es = new Map((load('es/data.json') as Entry[]).map((e) => [e.hexcode, e]));
  const shortcodes = load('en/shortcodes/emojibase.json') as Record<string, string | string[]>;
  const github = load('en/shortcodes/github.json') as Record<string, string | string[]>;
  const codes = (hexcode: string) =>
    [...new Set([github[hexcode] ?? [], shortcodes[hexcode] ?? []].flat())].join(' ');
  return en
    .filter((e) => e.group !== undefined && e.group !== 2)
    .sort((a, b) => (a.order ?? 0) - (b.order ?? 0))
    .map((e) => {
      const row: EmojiRow = [written(e), e.group!, words(e), words(es.get(e.hexcode)), codes(e.hexcode)];
      if (e.skins && e.skins.length === 5) row.push(e.skins.map((s) => written(s)));
      return row;
    });
}

export function emojiData(): Plugin {
  return {
    name: 'charla-emoji-data',
    resolveId: (id) => (id === ID ? RESOLVED : null),
    load: (id) => (id === RESOLVED ? `export default ${JSON.stringify(emojiRows())};` : null),
  };
}
