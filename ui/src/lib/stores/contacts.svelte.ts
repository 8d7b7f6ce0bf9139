/**
 * What the user does with contacts: reading the roster (and avatars) of an account, adding,
 * editing and removing contacts, answering their requests to see our presence, and asking when
 * one was last online. The roster itself is `RosterStore`, fed by the core's events.
 */
import type { Backend } from '$lib/api';
import type { AccountId } from '$lib/contract';
import { failureOf, type UiError } from '$lib/errors';
import type { AvatarStore } from './avatars.svelte';
import type { ChatTab } from './chats.svelte';
import type { NoticeStore } from './notices.svelte';
import type { RosterStore } from './roster.svelte';
import type { SessionStore } from './session.svelte';

/** The stores contacts are read into and reported from. */
export interface ContactsStores {
  session: SessionStore;
  roster: RosterStore;
  avatars: AvatarStore;
  notices: NoticeStore;
}

export class ContactsStore {
  readonly #backend: Backend;
  readonly #stores: ContactsStores;

  constructor(backend: Backend, stores: ContactsStores) {
    this.#backend = backend;
    this.#stores = stores;
  }

  /** Reads the account's roster (unless a fresher one came meanwhile) and its avatars. */
  async refresh(account: AccountId): Promise<void> {
    const { roster, avatars, notices } = this.#stores;
    // Avatars are extras: failing to read them leaves the initials, never the list empty.
    void notices.attempt(() => avatars.load(account));
    await notices.attempt(async () => {
      const contacts = await this.#backend.contacts(account);
      // A `roster_loaded` event that came meanwhile is at least as fresh as the cache.
      if (!roster.of(account).loaded) roster.load(account, contacts);
    });
  }

  /** Reads the presence that arrived before this window existed (pop-outs). */
  async refreshPresences(account: AccountId): Promise<void> {
    const { roster, notices } = this.#stores;
    await notices.attempt(async () => {
      for (const { jid, presence } of await this.#backend.presences(account)) {
        roster.setPresence(account, jid, presence);
      }
    });
  }

  /**
   * Adds a contact (optional name and group) on `account` (the first one if not given) and asks
   * to see their presence; returns the error for the form, or null.
   */
  async add(jid: string, name: string, group: string, account = this.#stores.session.account): Promise<UiError | null> {
    if (account === null) return null;
    return failureOf(() => this.#backend.addContact(account, jid.trim(), name.trim() || null, group.trim() || null));
  }

  /** Renames a contact and sets its groups (blank ones dropped); returns the error, or null. */
  edit(account: AccountId, jid: string, name: string, groups: readonly string[]): Promise<UiError | null> {
    return failureOf(() => {
      const kept = groups.map((g) => g.trim()).filter((g) => g !== '');
      return this.#backend.editContact(account, jid, name.trim() || null, kept);
    });
  }

  /** Removes a contact (both stop sharing presence); the chat history stays. */
  async remove(account: AccountId, jid: string): Promise<void> {
    await this.#stores.notices.attempt(() => this.#backend.removeContact(account, jid));
  }

  /**
   * Accepts or denies `jid`'s request to see our presence on `account`; `block` denies it and
   * blocks them, so that nothing more comes from them.
   */
  async answerRequest(account: AccountId, jid: string, answer: 'accept' | 'deny' | 'block'): Promise<void> {
    const { roster, notices } = this.#stores;
    await notices.attempt(async () => {
      await this.#backend.answerSubscription(account, jid, answer === 'accept');
      if (answer === 'block') await this.#backend.block(account, jid, true);
      roster.answered(account, jid);
    });
  }

  /** Accepts, or denies, every request to see our presence at once ("Accept all" / "Deny all"). */
  async answerAllRequests(accept: boolean): Promise<void> {
    const all = [...this.#stores.roster.requests.values()];
    await Promise.all(all.map(({ account, jid }) => this.answerRequest(account, jid, accept ? 'accept' : 'deny')));
  }

  /**
   * Asks when the contact of `chat` was last online (XEP-0012) and keeps it on the chat; a server
   * that does not tell, or an error, leaves it unknown. Nothing is shown for it, so errors are quiet.
   */
  async refreshLastSeen(chat: ChatTab, now = Date.now()): Promise<void> {
    try {
      const seconds = await this.#backend.lastActivity(chat.account, chat.peer);
      chat.lastSeen = seconds === null ? null : now - seconds * 1000;
    } catch {
      chat.lastSeen = null;
    }
  }
}
