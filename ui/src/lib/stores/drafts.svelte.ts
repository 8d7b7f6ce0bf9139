/**
 * Drafts: the unsent text of each chat and group chat, kept by the backend (`set_draft`) as the
 * user types, at most once per {@link DRAFT_SAVE_MS} per chat, and restored from `drafts` at
 * start (per account and chat), so that a draft survives closing its tab, switching accounts and
 * restarting. The buddy list shows them ("Draft: …").
 */
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { Backend } from '$lib/api';
import type { AccountId } from '$lib/contract';
import { chatKey } from './unread.svelte';

/** How long the text must rest before it is kept. */
export const DRAFT_SAVE_MS = 400;

interface Pending {
  account: AccountId;
  chat: string;
  body: string;
  timer: ReturnType<typeof setTimeout>;
}

export class DraftStore {
  /** Non-empty drafts by `chatKey(account, chat)`. */
  readonly bodies = new SvelteMap<string, string>();
  /** Chats whose draft is not kept yet (waiting for the pause, or on its way to the backend). */
  readonly saving = new SvelteSet<string>();
  /** Kept drafts have been read from the backend. */
  loaded = $state(false);
  readonly #backend: Backend;
  readonly #pending = new Map<string, Pending>();
  /** Chats edited before the kept drafts arrived: what the user typed wins. */
  readonly #touched = new Set<string>();

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** The draft of a chat ('' if none). */
  get(account: AccountId, chat: string): string {
    return this.bodies.get(chatKey(account, chat)) ?? '';
  }

  /** Reads the kept drafts (of every account). */
  async load(): Promise<void> {
    try {
      for (const draft of await this.#backend.drafts()) {
        const key = chatKey(draft.account_id, draft.chat);
        if (!this.#touched.has(key) && draft.body !== '') this.bodies.set(key, draft.body);
      }
    } catch {
      // Without the kept drafts the composers start empty; typing keeps new ones.
    }
    this.loaded = true;
  }

  /** The user changed the text: kept once it rests for {@link DRAFT_SAVE_MS}. */
  edit(account: AccountId, chat: string, body: string): void {
    const key = chatKey(account, chat);
    this.#touched.add(key);
    if (body.trim() === '') body = '';
    if (body === this.get(account, chat) && !this.#pending.has(key)) return;
    if (body === '') this.bodies.delete(key);
    else this.bodies.set(key, body);
    const pending = this.#pending.get(key);
    if (pending) clearTimeout(pending.timer);
    this.#pending.set(key, { account, chat, body, timer: setTimeout(() => this.#save(key), DRAFT_SAVE_MS) });
    this.saving.add(key);
  }

  /** The text was sent: the draft goes at once. */
  clear(account: AccountId, chat: string): void {
    const key = chatKey(account, chat);
    const pending = this.#pending.get(key);
    const kept = this.bodies.has(key);
    if (pending) clearTimeout(pending.timer);
    this.#pending.delete(key);
    this.bodies.delete(key);
    this.#touched.add(key);
    if (kept || pending) this.#send(account, chat, '');
  }

  /** Keeps every waiting draft now (before the window goes). */
  flush(): void {
    for (const key of [...this.#pending.keys()]) this.#save(key);
  }

  #save(key: string): void {
    const pending = this.#pending.get(key);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending.delete(key);
    this.#send(pending.account, pending.chat, pending.body);
  }

  /** Whether the chat's draft is kept as it is now (nothing waiting or on its way). */
  kept(account: AccountId, chat: string): boolean {
    return !this.saving.has(chatKey(account, chat));
  }

  #send(account: AccountId, chat: string, body: string): void {
    const key = chatKey(account, chat);
    this.saving.add(key);
    this.#backend
      .setDraft(account, chat, body)
      .catch(() => {
        // A draft is a convenience: the text is still in the composer.
      })
      .finally(() => {
        if (!this.#pending.has(key)) this.saving.delete(key);
      });
  }
}
