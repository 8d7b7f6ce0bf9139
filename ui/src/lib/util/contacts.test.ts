import { describe, expect, it } from 'vitest';
import type { ContactPresence } from '$lib/contract';
import { contact } from '$lib/testing/fixtures';
import { displayName, groupContacts, initials, searchContacts, toContactView } from './contacts';

const on = (show: ContactPresence['show'] = 'available', status: string | null = null): ContactPresence => ({
  show,
  status,
  resource: 'r',
  priority: 0,
  idle_since: null,
});

const roster = [
  contact('zoe@example.org', 'Zoe', ['Friends']),
  contact('adam@example.org', 'Adam', ['Friends', 'Work']),
  contact('bea@example.org', 'Beatriz', ['Work']),
  contact('carl@example.org', null, []),
  contact('álvaro@example.org', 'Álvaro', ['Friends']),
  contact('dan@example.org', 'dan', []),
];

const opts = { locale: 'en', noGroupLabel: 'Contacts' };
const one = (presence: ReadonlyMap<string, ContactPresence>, entries = roster) => [{ account: 1, entries, presence }];
const shape = (groups: ReturnType<typeof groupContacts>) =>
  groups.map((g) => [g.label, g.contacts.map((c) => c.name)]);

describe('groupContacts', () => {
  it('sorts groups by name, puts online contacts first and then orders by name', () => {
    const presence = new Map([
      ['zoe@example.org', on('away')],
      ['bea@example.org', on('dnd')],
    ]);
    expect(shape(groupContacts(one(presence), opts))).toEqual([
      ['Friends', ['Zoe', 'Adam', 'Álvaro']],
      ['Work', ['Beatriz', 'Adam']],
      ['Contacts', ['carl@example.org', 'dan']],
    ]);
  });

  it('orders offline contacts by name with the locale collation (accents, case)', () => {
    const groups = groupContacts(one(new Map()), opts);
    expect(groups[0]?.contacts.map((c) => c.name)).toEqual(['Adam', 'Álvaro', 'Zoe']);
    expect(groups[2]?.contacts.map((c) => c.name)).toEqual(['carl@example.org', 'dan']);
  });

  it('lists a contact in each of its groups', () => {
    const groups = groupContacts(one(new Map([['adam@example.org', on()]])), opts);
    const withAdam = groups.filter((g) => g.contacts.some((c) => c.jid === 'adam@example.org'));
    expect(withAdam.map((g) => g.key)).toEqual(['Friends', 'Work']);
    expect(withAdam.every((g) => g.contacts[0]?.jid === 'adam@example.org')).toBe(true);
  });

  it('puts contacts without a group under the translated label, last', () => {
    const groups = groupContacts(one(new Map()), { locale: 'es', noGroupLabel: 'Contactos' });
    expect(groups.at(-1)).toMatchObject({ key: '', label: 'Contactos', total: 2 });
  });

  it('counts online contacts per group', () => {
    const groups = groupContacts(one(new Map([['adam@example.org', on()]])), opts);
    expect(groups.map((g) => [g.key, g.online, g.total])).toEqual([
      ['Friends', 1, 3],
      ['Work', 1, 2],
      ['', 0, 2],
    ]);
  });

  it('treats an offline presence as offline', () => {
    const groups = groupContacts(one(new Map([['zoe@example.org', on('offline')]])), opts);
    expect(groups[0]?.contacts[0]?.online).toBe(false);
  });

  it('marks collapsed groups, and ignores collapsing while filtering', () => {
    const collapsed = new Set(['Work']);
    expect(groupContacts(one(new Map()), { ...opts, collapsed }).map((g) => g.collapsed)).toEqual([
      false,
      true,
      false,
    ]);
    const filtered = groupContacts(one(new Map()), { ...opts, collapsed, filter: 'bea' });
    expect(filtered.map((g) => [g.key, g.collapsed])).toEqual([['Work', false]]);
  });

  it('filters by name or address, ignoring case and accents', () => {
    expect(shape(groupContacts(one(new Map()), { ...opts, filter: 'ALVA' }))).toEqual([
      ['Friends', ['Álvaro']],
    ]);
    expect(shape(groupContacts(one(new Map()), { ...opts, filter: 'carl@' }))).toEqual([
      ['Contacts', ['carl@example.org']],
    ]);
    expect(groupContacts(one(new Map()), { ...opts, filter: 'nobody' })).toEqual([]);
  });

  it('lists a contact once even if a group is repeated', () => {
    const groups = groupContacts(one(new Map(), [contact('x@example.org', 'X', ['A', 'A'])]), opts);
    expect(groups[0]?.contacts).toHaveLength(1);
  });
});

describe('contact views', () => {
  it('use the roster name, else the address', () => {
    expect(displayName('a@b', '  Ann ')).toBe('Ann');
    expect(displayName('a@b', '   ')).toBe('a@b');
    expect(displayName('a@b', null)).toBe('a@b');
  });

  it('take show and status from the presence', () => {
    expect(toContactView(1, contact('a@b'), on('dnd', ' busy '))).toMatchObject({
      show: 'dnd',
      status: 'busy',
      online: true,
    });
    expect(toContactView(1, contact('a@b'), null)).toMatchObject({ show: 'offline', status: null, online: false });
  });

  it('keep the idle time of online contacts only', () => {
    expect(toContactView(1, contact('a@b'), { ...on('away'), idle_since: 1000 }).idleSince).toBe(1000);
    expect(toContactView(1, contact('a@b'), on('away')).idleSince).toBeNull();
    expect(toContactView(1, contact('a@b'), null).idleSince).toBeNull();
  });

  it('tell whether a contact shares their presence with us', () => {
    const sub = (subscription: 'none' | 'to' | 'from' | 'both') => ({ ...contact('a@b'), subscription });
    expect(['none', 'to', 'from', 'both'].map((s) => toContactView(1, sub(s as 'none'), null).sharing)).toEqual([
      false,
      true,
      false,
      true,
    ]);
    expect(toContactView(1, { ...sub('none'), ask_pending: true }, null)).toMatchObject({ awaiting: true, sharing: false });
  });

  it('make initials from names and addresses', () => {
    expect(initials('Ann Smith')).toBe('AS');
    expect(initials('ann')).toBe('A');
    expect(initials('juliet@capulet.lit')).toBe('J');
    expect(initials('mary.jane@example.org')).toBe('MJ');
    expect(initials('élan vital')).toBe('ÉV');
    expect(initials('😺 cat')).toBe('😺C');
  });
});

describe('several accounts', () => {
  it('lists a contact once per account that has it, each with its own key and presence', () => {
    const bob = [contact('bob@example.org', 'Bob', [])];
    const groups = groupContacts(
      [
        { account: 1, entries: bob, presence: new Map() },
        { account: 2, entries: bob, presence: new Map([['bob@example.org', on()]]) },
      ],
      opts,
    );
    expect(groups[0]!.contacts.map((c) => [c.key, c.online])).toEqual([
      ['2:bob@example.org', true],
      ['1:bob@example.org', false],
    ]);
    expect(groups[0]!.online).toBe(1);
  });
});

describe('searchContacts', () => {
  it('lists each contact once, prefix matches first, online first', () => {
    const presence = new Map([['dan@example.org', on()]]);
    expect(searchContacts(one(presence), 'a', 'en').map((c) => c.name)).toEqual([
      'Adam',
      'Álvaro',
      'dan',
      'Beatriz',
      'carl@example.org',
      'Zoe',
    ]);
    expect(searchContacts(one(new Map()), 'ad', 'en').map((c) => c.name)).toEqual(['Adam']);
    expect(searchContacts(one(new Map()), '', 'en')).toHaveLength(roster.length);
  });
});
