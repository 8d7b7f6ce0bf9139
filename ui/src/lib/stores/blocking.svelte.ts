/** Blocking (XEP-0191): the blocked addresses of every account, blocking and unblocking. */
import type { Backend } from '$lib/api';
import type { AccountId } from '$lib/contract';
import type { NoticeStore } from './notices.svelte';
import type { SessionStore } from './session.svelte';

/** A blocked address, with the account that blocked it. */
export interface Blocked {
  account: AccountId;
  jid: string;
}

export class BlockingStore {
  /** The blocked addresses of every account, as last read from the servers (`load`). */
  list = $state<Blocked[]>([]);

  readonly #backend: Backend;
  readonly #session: SessionStore;
  readonly #notices: NoticeStore;

  constructor(backend: Backend, stores: { session: SessionStore; notices: NoticeStore }) {
    this.#backend = backend;
    this.#session = stores.session;
    this.#notices = stores.notices;
  }

  /** Reads the block lists from the servers (an offline one keeps its last list, without a notice). */
  async load(): Promise<void> {
    const lists = await Promise.all(
      [...this.#session.accounts.keys()].map(async (account) => {
        try {
          return (await this.#backend.blocked(account)).map((jid) => ({ account, jid }));
        } catch {
          // Offline: the settings show the list as last read.
          return this.list.filter((b) => b.account === account);
        }
      }),
    );
    this.list = lists.flat();
  }

  /** Blocks a contact: the server drops everything from them. */
  async block(account: AccountId, jid: string): Promise<void> {
    await this.#notices.attempt(() => this.#backend.block(account, jid, true));
  }

  /** Unblocks `jid` on `account` and reads the lists again. */
  async unblock(account: AccountId, jid: string): Promise<void> {
    await this.#notices.attempt(() => this.#backend.block(account, jid, false));
    await this.load();
  }

  /** Forgets the list of an account that signed out. */
  drop(account: AccountId): void {
    this.list = this.list.filter((b) => b.account !== account);
  }
}
