/**
 * The buddy list's logic: display names, initials, and grouping and ordering contacts.
 * Pure functions; `RosterStore` holds the state.
 */
import type { AccountId, ContactPresence, RosterEntry, Show } from '$lib/contract';

/** A contact as the list shows it. */
export interface ContactView {
  /** The account whose roster holds the contact. */
  account: AccountId;
  /** Unique across accounts: the account and the JID. */
  key: string;
  jid: string;
  name: string;
  show: Show;
  status: string | null;
  online: boolean;
  awaiting: boolean;
  /** They share their presence with us (subscription `to` or `both`). */
  sharing: boolean;
  /** Since when (unix ms) they have not touched their device (XEP-0319), if they say. */
  idleSince: number | null;
}

export interface ContactGroup {
  /** The roster group's name; `''` for contacts without a group. */
  key: string;
  /** What the header shows. */
  label: string;
  contacts: ContactView[];
  online: number;
  total: number;
  collapsed: boolean;
}

/** The name to show: the roster name, else the JID. */
export function displayName(jid: string, name: string | null | undefined): string {
  const trimmed = name?.trim();
  return trimmed ? trimmed : jid;
}

/** One or two letters for an initials avatar: of the first two words, or the JID's local part. */
export function initials(name: string): string {
  const base = name.includes('@') && !name.includes(' ') ? name.slice(0, name.indexOf('@')) : name;
  const words = base.split(/[\s._-]+/u).filter((w) => w.length > 0);
  const first = (word: string | undefined) => (word ? Array.from(word)[0]! : '');
  const letters = words.length >= 2 ? first(words[0]) + first(words[1]) : first(words[0] ?? name);
  return letters.toLocaleUpperCase();
}

/** The key of a contact across accounts. */
export function contactKey(account: AccountId, jid: string): string {
  return `${account}:${jid}`;
}

export function toContactView(
  account: AccountId,
  entry: RosterEntry,
  presence: ContactPresence | null | undefined,
): ContactView {
  const online = presence != null && presence.show !== 'offline';
  return {
    account,
    key: contactKey(account, entry.jid),
    jid: entry.jid,
    name: displayName(entry.jid, entry.name),
    show: online ? presence.show : 'offline',
    status: presence?.status?.trim() || null,
    online,
    awaiting: entry.ask_pending,
    sharing: entry.subscription === 'to' || entry.subscription === 'both',
    idleSince: online ? (presence.idle_since ?? null) : null,
  };
}

const collators = new Map<string, Intl.Collator>();

function collator(locale: string): Intl.Collator {
  let result = collators.get(locale);
  if (!result) {
    result = new Intl.Collator(locale, { sensitivity: 'base', numeric: true });
    collators.set(locale, result);
  }
  return result;
}

/** Online first, then by name in the locale's order, then by JID, then by account. */
export function compareContacts(locale: string): (a: ContactView, b: ContactView) => number {
  const { compare } = collator(locale);
  return (a, b) =>
    Number(b.online) - Number(a.online) ||
    compare(a.name, b.name) ||
    (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0) ||
    a.account - b.account;
}

/** One account's roster and its contacts' presence. */
export interface AccountContacts {
  account: AccountId;
  entries: Iterable<RosterEntry>;
  presence: ReadonlyMap<string, ContactPresence>;
}

function* views(rosters: Iterable<AccountContacts>): Generator<[RosterEntry, ContactView]> {
  for (const { account, entries, presence } of rosters) {
    for (const entry of entries) yield [entry, toContactView(account, entry, presence.get(entry.jid))];
  }
}

/** Case- and accent-insensitive form for filtering. */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();
}

export function matches(contact: ContactView, query: string): boolean {
  const q = fold(query.trim());
  return q === '' || fold(contact.name).includes(q) || fold(contact.jid).includes(q);
}

export interface GroupOptions {
  locale: string;
  /** Label of the group of contacts that have none ("Contacts"). */
  noGroupLabel: string;
  filter?: string;
  collapsed?: ReadonlySet<string>;
}

/**
 * The buddy list of all accounts together: one group per roster group, sorted by name, with the
 * contacts without a group last; a contact in several groups appears in each (and once per
 * account that has it). While filtering, only matching contacts and the groups holding them are
 * kept, and collapsed groups are shown open.
 */
export function groupContacts(rosters: Iterable<AccountContacts>, options: GroupOptions): ContactGroup[] {
  const filter = options.filter?.trim() ?? '';
  const byGroup = new Map<string, ContactView[]>();
  for (const [entry, view] of views(rosters)) {
    if (!matches(view, filter)) continue;
    const groups = entry.groups.length > 0 ? new Set(entry.groups) : [''];
    for (const group of groups) {
      let list = byGroup.get(group);
      if (!list) byGroup.set(group, (list = []));
      list.push(view);
    }
  }
  const order = compareContacts(options.locale);
  const { compare } = collator(options.locale);
  const keys = [...byGroup.keys()].sort((a, b) =>
    a === '' ? 1 : b === '' ? -1 : compare(a, b) || (a < b ? -1 : 1),
  );
  return keys.map((key) => {
    const contacts = byGroup.get(key)!.sort(order);
    return {
      key,
      label: key === '' ? options.noGroupLabel : key,
      contacts,
      online: contacts.filter((c) => c.online).length,
      total: contacts.length,
      collapsed: filter === '' && (options.collapsed?.has(key) ?? false),
    };
  });
}

/** Contacts for the quick switcher: each once per account, matching the query, online first then by name. */
export function searchContacts(
  rosters: Iterable<AccountContacts>,
  query: string,
  locale: string,
  limit = 50,
): ContactView[] {
  const found: ContactView[] = [];
  for (const [, view] of views(rosters)) {
    if (matches(view, query)) found.push(view);
  }
  const q = fold(query.trim());
  const order = compareContacts(locale);
  // Names starting with the query come before names merely containing it.
  const starts = (c: ContactView) => Number(fold(c.name).startsWith(q) || fold(c.jid).startsWith(q));
  return found.sort((a, b) => starts(b) - starts(a) || order(a, b)).slice(0, limit);
}
