/**
 * The user's emoji: the recently used ones (first in the picker, and the quick row of
 * reactions) and the chosen skin tone, kept between runs through an injected storage (the
 * webview's `localStorage` in the app).
 */
import { addRecent, loadEmoji, quickRow, type EmojiEntry } from '$lib/util/emoji';
import type { PreferenceStorage } from './locale.svelte';

export class EmojiStore {
  recent = $state.raw<readonly string[]>([]);
  /** 0: none (the default yellow), 1–5: lightest to darkest. */
  skinTone = $state(0);
  readonly quick: string[] = $derived(quickRow(this.recent));
  /** The bundled emoji, once loaded ({@link ensure}). */
  entries = $state.raw<readonly EmojiEntry[] | null>(null);
  #storage: PreferenceStorage | null;

  constructor(storage: PreferenceStorage | null = null) {
    this.#storage = storage;
    this.connect(storage);
  }

  /** Loads what was kept in `storage`, which keeps changes from now on. */
  connect(storage: PreferenceStorage | null): void {
    this.#storage = storage;
    const kept = storage?.load();
    if (!kept) return;
    try {
      const value = JSON.parse(kept) as { recent?: unknown; skinTone?: unknown };
      if (Array.isArray(value.recent)) {
        this.recent = value.recent.filter((e): e is string => typeof e === 'string' && e.length <= 32).slice(0, 24);
      }
      if (typeof value.skinTone === 'number' && value.skinTone >= 0 && value.skinTone <= 5) this.skinTone = value.skinTone;
    } catch {
      // A damaged value: start afresh.
    }
  }

  /** Loads the bundled emoji (once). */
  async ensure(): Promise<readonly EmojiEntry[]> {
    if (this.entries) return this.entries;
    const entries = await loadEmoji();
    this.entries = entries;
    return entries;
  }

  /** `emoji` was just used (a reaction, the picker, a shortcode). */
  use(emoji: string): void {
    this.recent = addRecent(this.recent, emoji);
    this.#save();
  }

  setSkinTone(tone: number): void {
    this.skinTone = tone;
    this.#save();
  }

  #save(): void {
    this.#storage?.save(JSON.stringify({ recent: this.recent, skinTone: this.skinTone }));
  }
}
