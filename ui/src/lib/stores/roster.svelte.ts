/**
 * The account's roster and its contacts' presence, and the buddy list's view state (filter,
 * collapsed groups). `groups` is the list as shown: grouped, online first, then by name.
 */
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { AccountId, ContactPresence, RosterEntry } from '$lib/contract';
import { groupContacts, searchContacts, toContactView, type ContactGroup, type ContactView } from '$lib/util/contacts';
import { i18n } from './locale.svelte';

/** What grouping needs from the current language. */
export interface RosterLabels {
  locale: string;
  noGroupLabel: string;
}

const defaultLabels = (): RosterLabels => ({ locale: i18n.locale, noGroupLabel: i18n.t('roster.noGroup') });

export class RosterStore {
  /** The account shown; events of other accounts are ignored once it is set. */
  account = $state<AccountId | null>(null);
  readonly entries = new SvelteMap<string, RosterEntry>();
  readonly presence = new SvelteMap<string, ContactPresence>();
  /** Whether the roster has arrived at least once. */
  loaded = $state(false);
  filter = $state('');
  readonly collapsed = new SvelteSet<string>();
  /** Who asks to see our presence, not yet answered. */
  readonly requests = new SvelteSet<string>();

  readonly #labels: () => RosterLabels;

  constructor(labels: () => RosterLabels = defaultLabels) {
    this.#labels = labels;
  }

  /** The buddy list. */
  readonly groups: ContactGroup[] = $derived.by(() => {
    const { locale, noGroupLabel } = this.#labels();
    return groupContacts(this.entries.values(), this.presence, {
      locale,
      noGroupLabel,
      filter: this.filter,
      collapsed: this.collapsed,
    });
  });

  #accepts(account: AccountId): boolean {
    return this.account === null || this.account === account;
  }

  /** Shows this account; what arrived for it before (during login) is kept. */
  bind(account: AccountId): void {
    if (this.account !== null && this.account !== account) this.reset();
    this.account = account;
  }

  reset(): void {
    this.account = null;
    this.entries.clear();
    this.presence.clear();
    this.loaded = false;
    this.filter = '';
    this.collapsed.clear();
    this.requests.clear();
  }

  /** `jid` asks to see our presence (`subscription_request`). */
  request(account: AccountId, jid: string): void {
    if (!this.#accepts(account)) return;
    this.requests.add(jid);
  }

  /** Replaces the whole roster (`roster_loaded`, or the `contacts` command). */
  load(account: AccountId, contacts: readonly RosterEntry[]): void {
    if (!this.#accepts(account)) return;
    const keep = new Set(contacts.map((c) => c.jid));
    for (const jid of [...this.entries.keys()]) if (!keep.has(jid)) this.entries.delete(jid);
    for (const contact of contacts) this.entries.set(contact.jid, contact);
    this.loaded = true;
  }

  upsert(account: AccountId, contact: RosterEntry): void {
    if (!this.#accepts(account)) return;
    if (contact.subscription === 'remove') this.entries.delete(contact.jid);
    else this.entries.set(contact.jid, contact);
  }

  remove(account: AccountId, jid: string): void {
    if (!this.#accepts(account)) return;
    this.entries.delete(jid);
  }

  setPresence(account: AccountId, jid: string, presence: ContactPresence | null): void {
    if (!this.#accepts(account)) return;
    if (presence === null) this.presence.delete(jid);
    else this.presence.set(jid, presence);
  }

  /** Everyone is offline (our connection went down). */
  clearPresence(): void {
    this.presence.clear();
  }

  toggleGroup(key: string): void {
    if (this.collapsed.has(key)) this.collapsed.delete(key);
    else this.collapsed.add(key);
  }

  /** One contact (or a stranger we chat with) as the UI shows it. */
  view(jid: string): ContactView {
    const entry = this.entries.get(jid) ?? { jid, name: null, subscription: 'none', ask_pending: false, groups: [] };
    return toContactView(entry, this.presence.get(jid));
  }

  search(query: string): ContactView[] {
    return searchContacts(this.entries.values(), this.presence, query, this.#labels().locale);
  }
}
