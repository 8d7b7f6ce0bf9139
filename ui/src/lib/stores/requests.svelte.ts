/**
 * Message requests: conversations with strangers (not in the roster, never written to), listed
 * apart from ordinary chats, as the core reports them (`message_requests`, reloaded on
 * `requests_changed`). They are not counted as unread; this store has its own count. Each can be
 * accepted (the add-contact dialog), blocked (with a spam report where the server takes one) or
 * deleted.
 */
import { SvelteMap } from 'svelte/reactivity';
import type { Backend } from '$lib/api';
import type { AccountId, MessageRequest } from '$lib/contract';
import type { ChatsStore } from './chats.svelte';
import type { LinkStore } from './links.svelte';
import type { NoticeStore } from './notices.svelte';
import { chatKey } from './unread.svelte';

/** The stores answering a request changes. */
export interface RequestsStores {
  chats: ChatsStore;
  links: LinkStore;
  notices: NoticeStore;
}

export class RequestsStore {
  readonly #backend: Backend;
  readonly #stores: RequestsStores;
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

  constructor(backend: Backend, stores: RequestsStores) {
    this.#backend = backend;
    this.#stores = stores;
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

  /** Accept: the add-contact dialog opens filled in with `peer` (adding them makes it a chat). */
  accept(account: AccountId, peer: string): void {
    this.#stores.links.offer = { account, jid: peer, name: '', group: '' };
  }

  /** Blocks `peer` (XEP-0191), with a spam report where the server takes one, and closes the request. */
  async block(account: AccountId, peer: string, report: boolean): Promise<void> {
    const blocked = await this.#stores.notices.attempt(() =>
      report && this.canReport.get(account)
        ? this.#backend.blockAndReport(account, peer)
        : this.#backend.block(account, peer, true),
    );
    if (blocked) await this.delete(account, peer);
  }

  /** Deletes the request's stored messages and closes its chat. */
  async delete(account: AccountId, peer: string): Promise<void> {
    const { chats, notices } = this.#stores;
    if (!(await notices.attempt(() => this.#backend.deleteConversation(account, peer)))) return;
    this.remove(account, peer);
    const chat = chats.find(account, peer);
    if (chat) chats.close(chat.key);
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
