import { describe, expect, it } from 'vitest';
import { request } from '$lib/testing/apps';
import { FakeBackend } from '$lib/testing/backend';
import { contact } from '$lib/testing/fixtures';
import { flush, useFakeTime } from '$lib/testing/time';
import { AppStore } from './app.svelte';
import { AvatarStore } from './avatars.svelte';
import { ChatTab } from './chats.svelte';
import { ContactsStore } from './contacts.svelte';
import { NoticeStore } from './notices.svelte';
import { RosterStore } from './roster.svelte';
import { SessionStore } from './session.svelte';

useFakeTime();

/** A contacts store; account 1 (me@x) is signed in unless `signedIn` is false. */
function contacts(backend = new FakeBackend(), signedIn = true) {
  const session = new SessionStore();
  if (signedIn) session.signedIn(1, 'me@x');
  const roster = new RosterStore(() => ({ locale: 'en', noGroupLabel: 'Contacts' }));
  const avatars = new AvatarStore(backend);
  const notices = new NoticeStore();
  const store = new ContactsStore(backend, { session, roster, avatars, notices });
  return { store, backend, roster, avatars, notices };
}

const offline = { code: 'not_connected', message: 'offline' };

describe('ContactsStore', () => {
  it('reads the roster and the avatars of an account', async () => {
    const backend = new FakeBackend();
    backend.roster = [contact('a@x', 'Ann')];
    backend.avatarHashes = { 'a@x': 'a'.repeat(40) };
    const { store, roster, avatars } = contacts(backend);
    await store.refresh(1);
    await flush();
    expect(roster.entry(1, 'a@x')?.name).toBe('Ann');
    expect(avatars.hashes.get('a@x')).toBe('a'.repeat(40));
  });

  it('keeps a roster that arrived meanwhile, which is at least as fresh', async () => {
    const backend = new FakeBackend();
    backend.roster = [contact('old@x')];
    const { store, roster } = contacts(backend);
    roster.load(1, [contact('new@x')]);
    await store.refresh(1);
    expect([...roster.of(1).entries.keys()]).toEqual(['new@x']);
  });

  it('still shows the roster when the avatars cannot be read, with a notice', async () => {
    const backend = new FakeBackend();
    backend.roster = [contact('a@x')];
    backend.avatars = () => Promise.reject({ code: 'store', message: 'io' });
    const { store, roster, notices } = contacts(backend);
    await store.refresh(1);
    await flush();
    expect(roster.entry(1, 'a@x')).toBeDefined();
    expect(notices.list.map((n) => n.key)).toEqual(['error.store']);
  });

  it('reads the presence that came before the window opened', async () => {
    const backend = new FakeBackend();
    backend.online = [{ jid: 'a@x', presence: { show: 'dnd', status: null, resource: 'r', priority: 0, idle_since: null } }];
    const { store, roster } = contacts(backend);
    await store.refreshPresences(3);
    expect(roster.of(3).presence.get('a@x')?.show).toBe('dnd');
  });

  it('adds on the first account unless told, trimmed, blanks as none; the error is for the form', async () => {
    const { store, backend } = contacts();
    expect(await store.add(' new@x ', '  ', ' Work ')).toBeNull();
    expect(await store.add('two@x', 'Two', '', 2)).toBeNull();
    expect(backend.called('addContact')).toEqual([
      [1, 'new@x', null, 'Work'],
      [2, 'two@x', 'Two', null],
    ]);
    backend.failAdd = { code: 'invalid_jid', message: 'bad' };
    expect(await store.add('bad', '', '')).toMatchObject({ code: 'invalid_jid' });
  });

  it('adds nobody while no account is signed in', async () => {
    const { store, backend } = contacts(new FakeBackend(), false);
    expect(await store.add('new@x', '', '')).toBeNull();
    expect(backend.called('addContact')).toEqual([]);
  });

  it('renames with the groups trimmed and blank ones dropped; a refusal is for the form', async () => {
    const { store, backend } = contacts();
    expect(await store.edit(1, 'a@x', ' ', [' A ', '', '  '])).toBeNull();
    expect(backend.called('editContact')).toEqual([[1, 'a@x', null, ['A']]]);
    backend.editContact = () => Promise.reject(offline);
    expect(await store.edit(1, 'a@x', 'Ann', [])).toMatchObject({ code: 'not_connected' });
  });

  it('removes a contact; a failure is a notice', async () => {
    const { store, backend, notices } = contacts();
    await store.remove(1, 'a@x');
    expect(backend.called('removeContact')).toEqual([[1, 'a@x']]);
    backend.removeContact = () => Promise.reject(offline);
    await store.remove(1, 'a@x');
    expect(notices.list.map((n) => n.key)).toEqual(['error.notConnected']);
  });

  it('answers requests to see our presence: block denies and blocks; all at once', async () => {
    const { store, backend, roster } = contacts();
    roster.request(1, 'spam@x');
    roster.request(1, 'ann@x');
    roster.request(2, 'bob@x');
    await store.answerRequest(1, 'spam@x', 'block');
    expect(backend.called('answerSubscription')).toEqual([[1, 'spam@x', false]]);
    expect(backend.called('block')).toEqual([[1, 'spam@x', true]]);
    await store.answerAllRequests(true);
    expect(backend.called('answerSubscription').slice(1)).toEqual([
      [1, 'ann@x', true],
      [2, 'bob@x', true],
    ]);
    expect(roster.requests.size).toBe(0);
  });

  it('keeps a request whose answer failed, with a notice', async () => {
    const { store, backend, roster, notices } = contacts();
    roster.request(1, 'ann@x');
    backend.answerSubscription = () => Promise.reject(offline);
    await store.answerAllRequests(false);
    expect([...roster.requests.values()]).toEqual([{ account: 1, jid: 'ann@x' }]);
    expect(notices.list).toHaveLength(1);
  });

  it('knows when a contact was last online, from the seconds their server tells', async () => {
    const { store, backend } = contacts();
    const chat = new ChatTab(1, 'a@x');
    backend.lastActivitySeconds = 60;
    await store.refreshLastSeen(chat);
    expect(chat.lastSeen).toBe(Date.now() - 60_000);
    backend.lastActivitySeconds = null;
    await store.refreshLastSeen(chat, 5);
    expect(chat.lastSeen).toBeNull();
  });
});

describe('ContactsStore in the app', () => {
  it('asks when an offline contact was last online, and forgets it when the server does not tell', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    await app.signIn.login(request);
    app.chats.open(1, 'a@x');
    const chat = app.chats.active!;
    backend.lastActivitySeconds = 90;
    await app.contacts.refreshLastSeen(chat, 1_000_000);
    expect(backend.called('lastActivity')).toEqual([[1, 'a@x']]);
    expect(chat.lastSeen).toBe(910_000);
    backend.lastActivitySeconds = new Error('timeout');
    await app.contacts.refreshLastSeen(chat, 1_000_000);
    expect(chat.lastSeen).toBeNull();
  });
});
