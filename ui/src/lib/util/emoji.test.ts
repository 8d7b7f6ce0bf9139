import { beforeAll, describe, expect, it } from 'vitest';
import {
  addRecent,
  completeShortcode,
  isEmojiOnly,
  loadEmoji,
  quickRow,
  QUICK_DEFAULT,
  RECENT_MAX,
  searchEmoji,
  shortcodeAt,
  withSkin,
  type EmojiEntry,
} from './emoji';

let index: EmojiEntry[];
beforeAll(async () => {
  index = await loadEmoji();
});

const emojiOf = (query: string, limit = 8) => searchEmoji(index, query, limit).map((e) => e.emoji);

describe('the bundled data', () => {
  it('has the emoji of every group but the bare components, with names, shortcodes and skin tones', () => {
    expect(index.length).toBeGreaterThan(1500);
    expect(index.some((e) => e.group === 2)).toBe(false);
    const thumbs = index.find((e) => e.emoji === '👍')!;
    expect(thumbs.codes).toContain('thumbsup');
    expect(thumbs.skins).toHaveLength(5);
    expect(withSkin(thumbs, 0)).toBe('👍');
    expect(withSkin(thumbs, 5)).toBe('👍🏿');
    const heart = index.find((e) => e.emoji === '❤️');
    expect(heart?.skins ?? null).toBeNull();
    expect(withSkin(heart!, 3)).toBe('❤️');
  });
});

describe('searchEmoji', () => {
  it('finds by English words and shortcodes, the exact shortcode first', () => {
    expect(emojiOf('thumbsup')[0]).toBe('👍');
    expect(emojiOf('thu')).toContain('👍');
    expect(emojiOf('heart')[0]).toBe('❤️');
    expect(emojiOf('tears joy')).toContain('😂');
    expect(emojiOf(':+1:')[0]).toBe('👍');
  });

  it('finds by Spanish words, without case or accents', () => {
    expect(emojiOf('corazon')).toContain('❤️');
    expect(emojiOf('Corazón rojo')[0]).toBe('❤️');
    expect(emojiOf('pulgar')).toContain('👍');
    expect(emojiOf('llorando de risa')).toContain('😂');
    expect(emojiOf('RISA', 40)).toContain('😂');
  });

  it('finds nothing for nothing, and respects the limit', () => {
    expect(emojiOf('')).toEqual([]);
    expect(emojiOf('   ')).toEqual([]);
    expect(emojiOf('zzzzqqq')).toEqual([]);
    expect(searchEmoji(index, 'face', 5)).toHaveLength(5);
  });
});

describe('shortcode completion', () => {
  it('finds a :shortcode being typed before the cursor', () => {
    expect(shortcodeAt(':thu', 4)).toEqual({ start: 0, prefix: 'thu' });
    expect(shortcodeAt('ok :corazón', 11)).toEqual({ start: 3, prefix: 'corazón' });
    expect(shortcodeAt('ok :t', 5)).toBeNull(); // one character is not enough
    expect(shortcodeAt('time 10:30', 10)).toBeNull(); // not after a space
    expect(shortcodeAt('see :thu later', 14)).toBeNull();
    expect(shortcodeAt('see :thu later', 8)).toEqual({ start: 4, prefix: 'thu' });
  });

  it('writes the emoji in place of the shortcode (and a closing colon)', () => {
    const at = shortcodeAt('great :thu', 10)!;
    expect(completeShortcode('great :thu', 10, at, '👍')).toEqual({ text: 'great 👍', cursor: 8 });
    const mid = shortcodeAt('a :thumbsup: b', 11)!;
    expect(completeShortcode('a :thumbsup: b', 11, mid, '👍')).toEqual({ text: 'a 👍 b', cursor: 4 });
  });

  it('":thu" offers 👍 among the first suggestions', () => {
    const at = shortcodeAt(':thu', 4)!;
    expect(searchEmoji(index, at.prefix, 6).map((e) => e.emoji)).toContain('👍');
  });
});

describe('recent emoji and the quick row', () => {
  it('starts with the defaults, puts recent ones first, six in all, each once', () => {
    expect(quickRow([])).toEqual([...QUICK_DEFAULT]);
    expect(quickRow(['🎉', '👍'])).toEqual(['🎉', '👍', '❤️', '😂', '😮', '😢']);
  });

  it('keeps the newest first, once, and at most RECENT_MAX', () => {
    let recent: string[] = [];
    recent = addRecent(recent, '👍');
    recent = addRecent(recent, '🎉');
    recent = addRecent(recent, '👍');
    expect(recent).toEqual(['👍', '🎉']);
    for (const e of index.slice(0, 40)) recent = addRecent(recent, e.emoji);
    expect(recent).toHaveLength(RECENT_MAX);
  });
});

describe('isEmojiOnly', () => {
  it('is true for one to three emoji, with spaces, flags, skin tones, ZWJ sequences and keycaps', () => {
    for (const text of ['👍', '😂😂', ' 🎉 ❤️ 🙏 ', '🇪🇸', '👍🏽', '👨‍👩‍👧', '1️⃣', '❤️']) expect(isEmojiOnly(text), text).toBe(true);
  });

  it('is false for text, digits, symbols shown as text, nothing, or more than three', () => {
    for (const text of ['', '  ', 'ok 👍', '👍!', '1', '©', '#', '😂😂😂😂', 'hola']) expect(isEmojiOnly(text), text).toBe(false);
  });
});
