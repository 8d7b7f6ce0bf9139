/**
 * The rosters of every signed-in account and their contacts' presence, and the buddy list's view
 * state (filter, collapsed groups). `groups` is the list as shown, all accounts together:
 * grouped, online first, then by name.
 */
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { AccountId, ContactPresence, RosterEntry } from '$lib/contract';
import {
  contactKey,
  groupContacts,
  searchContacts,
  toContactView,
  type AccountContacts,
  type ContactGroup,
  type ContactView,
} from '$lib/util/contacts';
import { i18n } from './locale.svelte';

/** What grouping needs from the current language. */
export interface RosterLabels {
  locale: string;
  noGroupLabel: string;
}

const defaultLabels = (): RosterLabels => ({ locale: i18n.locale, noGroupLabel: i18n.t('roster.noGroup') });

/** One account's roster and the presence of its contacts. */
export class AccountRoster {
  readonly account: AccountId;
  readonly entries = new SvelteMap<string, RosterEntry>();
  readonly presence = new SvelteMap<string, ContactPresence>();
  /** Whether the roster has arrived at least once. */
  loaded = $state(false);

  constructor(account: AccountId) {
    this.account = account;
  }
}

/** A request to see our presence, on one account. */
export interface SubscriptionRequest {
  account: AccountId;
  jid: string;
}

export class RosterStore {
  readonly accounts = new SvelteMap<AccountId, AccountRoster>();
  filter = $state('');
  readonly collapsed = new SvelteSet<string>();
  /** Who asks to see our presence, not yet answered, by `contactKey`. */
  readonly requests = new SvelteMap<string, SubscriptionRequest>();

  readonly #labels: () => RosterLabels;

  constructor(labels: () => RosterLabels = defaultLabels) {
    this.#labels = labels;
  }

  /** Whether every account's roster has arrived at least once. */
  readonly loaded: boolean = $derived([...this.accounts.values()].every((r) => r.loaded));

  /** Every account's contacts, for grouping and searching. */
  *#contacts(): Generator<AccountContacts> {
    for (const { account, entries, presence } of this.accounts.values()) {
      yield { account, entries: entries.values(), presence };
    }
  }

  /** The buddy list. */
  readonly groups: ContactGroup[] = $derived.by(() => {
    const { locale, noGroupLabel } = this.#labels();
    return groupContacts(this.#contacts(), {
      locale,
      noGroupLabel,
      filter: this.filter,
      collapsed: this.collapsed,
    });
  });

  /** The roster of `account`, created on first use. */
  of(account: AccountId): AccountRoster {
    let roster = this.accounts.get(account);
    if (!roster) {
      roster = new AccountRoster(account);
      this.accounts.set(account, roster);
    }
    return roster;
  }

  /** Forgets one account's roster (it was disabled, logged out or removed). */
  drop(account: AccountId): void {
    this.accounts.delete(account);
    for (const [key, request] of this.requests) if (request.account === account) this.requests.delete(key);
  }

  reset(): void {
    this.accounts.clear();
    this.filter = '';
    this.collapsed.clear();
    this.requests.clear();
  }

  /** `jid` asks to see our presence (`subscription_request`). */
  request(account: AccountId, jid: string): void {
    this.requests.set(contactKey(account, jid), { account, jid });
  }

  answered(account: AccountId, jid: string): void {
    this.requests.delete(contactKey(account, jid));
  }

  /** Replaces the whole roster of `account` (`roster_loaded`, or the `contacts` command). */
  load(account: AccountId, contacts: readonly RosterEntry[]): void {
    const roster = this.of(account);
    const keep = new Set(contacts.map((c) => c.jid));
    for (const jid of [...roster.entries.keys()]) if (!keep.has(jid)) roster.entries.delete(jid);
    for (const contact of contacts) roster.entries.set(contact.jid, contact);
    roster.loaded = true;
  }

  upsert(account: AccountId, contact: RosterEntry): void {
    const roster = this.of(account);
    if (contact.subscription === 'remove') roster.entries.delete(contact.jid);
    else roster.entries.set(contact.jid, contact);
  }

  remove(account: AccountId, jid: string): void {
    this.accounts.get(account)?.entries.delete(jid);
  }

  setPresence(account: AccountId, jid: string, presence: ContactPresence | null): void {
    const roster = this.of(account);
    if (presence === null) roster.presence.delete(jid);
    else roster.presence.set(jid, presence);
  }

  /** Everyone of `account` is offline (its connection went down). */
  clearPresence(account: AccountId): void {
    this.accounts.get(account)?.presence.clear();
  }

  toggleGroup(key: string): void {
    if (this.collapsed.has(key)) this.collapsed.delete(key);
    else this.collapsed.add(key);
  }

  /** The roster entry of `jid` on `account`, if it is a contact there. */
  entry(account: AccountId, jid: string): RosterEntry | undefined {
    return this.accounts.get(account)?.entries.get(jid);
  }

  /** One contact (or a stranger we chat with) as the UI shows it. */
  view(account: AccountId, jid: string): ContactView {
    const roster = this.accounts.get(account);
    const entry = roster?.entries.get(jid) ?? { jid, name: null, subscription: 'none', ask_pending: false, groups: [] };
    return toContactView(account, entry, roster?.presence.get(jid));
  }

  search(query: string): ContactView[] {
    return searchContacts(this.#contacts(), query, this.#labels().locale);
  }
}
