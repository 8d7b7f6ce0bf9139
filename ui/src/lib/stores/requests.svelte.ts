/**
 * Message requests: conversations with strangers (not in the roster, never written to), listed
 * apart from ordinary chats, as the core reports them (`message_requests`, reloaded on
 * `requests_changed`). They are not counted as unread; this store has its own count.
 */
import { SvelteMap } from 'svelte/reactivity';
import type { Backend } from '$lib/api';
import type { AccountId, MessageRequest } from '$lib/contract';
import { chatKey } from './unread.svelte';

export class RequestsStore {
  readonly #backend: Backend;
  /** Requests by chat key, per account newest first. */
  readonly byKey = new SvelteMap<string, MessageRequest>();
  /** Whether each account's server takes spam reports (XEP-0377). */
  readonly canReport = new SvelteMap<AccountId, boolean>();
  /** The request list is open in the sidebar. */
  expanded = $state(false);
  readonly list: MessageRequest[] = $derived(
    [...this.byKey.values()].sort((a, b) => b.last.id - a.last.id),
  );
  readonly total: number = $derived(this.list.length);

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  has(account: AccountId, peer: string): boolean {
    return this.byKey.has(chatKey(account, peer));
  }

  get(account: AccountId, peer: string): MessageRequest | undefined {
    return this.byKey.get(chatKey(account, peer));
  }

  /** Reads the account's requests (and whether its server takes reports) again. */
  async load(account: AccountId): Promise<void> {
    const [requests, report] = await Promise.all([
      this.#backend.messageRequests(account),
      this.#backend.canReport(account).catch(() => false),
    ]);
    for (const [key, r] of this.byKey) if (r.account_id === account) this.byKey.delete(key);
    for (const r of requests) this.byKey.set(chatKey(account, r.peer), r);
    this.canReport.set(account, report);
  }

  /** The request is no longer one (answered, accepted, blocked or deleted). */
  remove(account: AccountId, peer: string): void {
    this.byKey.delete(chatKey(account, peer));
  }

  /** Requests whose address contains `query` (case-insensitive), for the quick switcher. */
  search(query: string): MessageRequest[] {
    const q = query.trim().toLowerCase();
    return q === '' ? this.list : this.list.filter((r) => r.peer.toLowerCase().includes(q));
  }

  drop(account: AccountId): void {
    for (const [key, r] of this.byKey) if (r.account_id === account) this.byKey.delete(key);
    this.canReport.delete(account);
  }

  reset(): void {
    this.byKey.clear();
    this.canReport.clear();
    this.expanded = false;
  }
}
