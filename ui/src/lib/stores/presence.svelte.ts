/**
 * Our own presence on each account: setting it (which also takes an account offline or back
 * online) and reconnecting at once. `SessionStore` holds the chosen presence.
 */
import type { Backend } from '$lib/api';
import type { AccountId } from '$lib/contract';
import { toUiError } from '$lib/errors';
import type { NoticeStore } from './notices.svelte';
import type { OwnShow, SessionStore } from './session.svelte';
import type { SettingsStore } from './settings.svelte';

/** The stores our presence is kept in and reported from. */
export interface PresenceStores {
  session: SessionStore;
  settings: SettingsStore;
  notices: NoticeStore;
}

export class PresenceStore {
  readonly #backend: Backend;
  readonly #stores: PresenceStores;

  constructor(backend: Backend, stores: PresenceStores) {
    this.#backend = backend;
    this.#stores = stores;
  }

  /**
   * Sets our availability and status text on `account`, or on every signed-in account (the
   * all-accounts choice, which replaces the per-account ones); `offline` disconnects, and any
   * other choice while disconnected makes the backend log in again with the login it kept.
   * What fails keeps what it had, with a notice.
   */
  async set(show: OwnShow, status: string, account?: AccountId): Promise<void> {
    const { session, settings, notices } = this.#stores;
    const accounts = account === undefined ? [...session.accounts.keys()] : [account];
    if (accounts.length === 0) return;
    const previous = { show: session.show, status: session.status, own: new Map(session.ownPresence) };
    if (account === undefined) {
      session.show = show;
      session.status = status;
      session.ownPresence.clear();
    } else session.ownPresence.set(account, { show, status });
    const text = status.trim() === '' ? null : status.trim();
    const results = await Promise.allSettled(accounts.map((a) => this.#backend.setPresence(a, show, text)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [[accounts[i]!, r.reason] as const] : []));
    for (const r of results) if (r.status === 'fulfilled') settings.recentStatuses(r.value);
    if (failed.length === 0) return;
    if (account === undefined && failed.length === accounts.length) {
      session.show = previous.show;
      session.status = previous.status;
      for (const [a, p] of previous.own) session.ownPresence.set(a, p);
    } else {
      for (const [a] of failed) {
        const before = previous.own.get(a) ?? { show: previous.show, status: previous.status };
        session.ownPresence.set(a, before);
      }
    }
    notices.error(toUiError(failed[0]![1]));
  }

  /** `account` waits to reconnect: try now (the banner's button). */
  async reconnectNow(account: AccountId): Promise<void> {
    await this.#stores.notices.attempt(() => this.#backend.reconnectNow(account));
  }
}
