import { describe, expect, it, vi } from 'vitest';
import type { Event } from '$lib/bindings/Event';
import type { CoreEvent, ShellEvent } from '$lib/contract';
import { contact, message } from '$lib/testing/fixtures';
import { FakeBackend } from '$lib/testing/backend';
import { flush, useFakeTime } from '$lib/testing/time';
import { AppStore } from './app.svelte';
import type { AppEvent } from './dispatch';

useFakeTime();

async function loggedIn() {
  const backend = new FakeBackend();
  let now = 1_000_000;
  const app = new AppStore(backend, { now: () => now });
  await app.start();
  await app.signIn.login({ jid: 'me@example.org/x', password: 'p', remember: false, host: null, port: null });
  return { app, backend, tick: (ms: number) => (now += ms) };
}

describe('dispatch', () => {
  it('adds a contact with trimmed fields, or returns the error for the form', async () => {
    const { app, backend } = await loggedIn();
    expect(await app.contacts.add(' new@x ', ' New ', '  ')).toBeNull();
    expect(backend.called('addContact')).toEqual([[1, 'new@x', 'New', null]]);
    backend.failAdd = { code: 'invalid_jid', message: 'bad' };
    expect(await app.contacts.add('bad', '', 'Work')).toMatchObject({ code: 'invalid_jid' });
  });

  it('removes, renames and blocks contacts through the backend', async () => {
    const { app, backend } = await loggedIn();
    expect(await app.contacts.edit(1, 'old@x', ' Old ', [' Work', ' ', 'Pals '])).toBeNull();
    expect(backend.called('editContact')).toEqual([[1, 'old@x', 'Old', ['Work', 'Pals']]]);
    await app.contacts.remove(1, 'old@x');
    await app.blocking.block(1, 'spam@x');
    expect(backend.called('removeContact')).toEqual([[1, 'old@x']]);
    expect(backend.called('block')).toEqual([[1, 'spam@x', true]]);
    await app.blocking.load();
    expect(app.blocking.list).toEqual([{ account: 1, jid: 'spam@x' }]);
    await app.blocking.unblock(1, 'spam@x');
    expect(app.blocking.list).toEqual([]);
  });

  it('lists subscription requests until answered, each with its account', async () => {
    const { app, backend } = await loggedIn();
    backend.emitCore({ type: 'subscription_request', account: 1, jid: 'new@x' });
    backend.emitCore({ type: 'subscription_request', account: 1, jid: 'spam@x' });
    backend.emitCore({ type: 'subscription_request', account: 2, jid: 'other@x' });
    expect([...app.roster.requests.values()]).toEqual([
      { account: 1, jid: 'new@x' },
      { account: 1, jid: 'spam@x' },
      { account: 2, jid: 'other@x' },
    ]);
    app.roster.drop(2);
    backend.emitCore({ type: 'subscription_request', account: 1, jid: 'no@x' });
    await app.contacts.answerRequest(1, 'new@x', 'accept');
    await app.contacts.answerRequest(1, 'spam@x', 'block');
    await app.contacts.answerRequest(1, 'no@x', 'deny');
    expect(backend.called('answerSubscription')).toEqual([
      [1, 'new@x', true],
      [1, 'spam@x', false],
      [1, 'no@x', false],
    ]);
    expect(backend.called('block')).toEqual([[1, 'spam@x', true]]);
    expect([...app.roster.requests]).toEqual([]);
  });

  it('routes every core event type into the stores', async () => {
    const { app, backend } = await loggedIn();
    const events: CoreEvent[] = [
      { type: 'roster_loaded', account: 1, contacts: [contact('a@x', 'Ann', ['G']), contact('b@x', 'Bob')] },
      { type: 'contact_changed', account: 1, contact: contact('c@x', 'Cid', ['G']) },
      { type: 'contact_removed', account: 1, jid: 'b@x' },
      {
        type: 'presence_changed',
        account: 1,
        jid: 'a@x',
        presence: { show: 'away', status: 'lunch', resource: 'r', priority: 0, idle_since: null },
      },
      { type: 'connection', account: 1, state: { state: 'online', jid: 'me@example.org/x' } },
      { type: 'error', account: 1, error: { code: 'disk_full', message: 'ENOSPC' } },
      { type: 'error', account: 1, error: { code: 'unreachable', message: 'refused' } },
    ];
    for (const event of events) backend.emitCore(event);
    expect([...app.roster.of(1).entries.keys()].sort()).toEqual(['a@x', 'c@x']);
    expect(app.roster.view(1, 'a@x')).toMatchObject({ show: 'away', status: 'lunch', online: true });
    expect(app.roster.groups.map((g) => [g.key, g.contacts.map((c) => c.jid)])).toEqual([['G', ['a@x', 'c@x']]]);
    expect(app.session.connectionOf(1)).toEqual({ state: 'online', jid: 'me@example.org/x' });
    // Connection failures explain the banner instead of popping up.
    expect(app.notices.list.map((n) => n.key)).toEqual(['error.diskFull']);
    expect(app.session.connectionErrors.get(1)?.code).toBe('unreachable');
    backend.emitCore({ type: 'connection', account: 1, state: { state: 'online', jid: 'me@example.org/x' } });
    expect(app.session.connectionErrors.has(1)).toBe(false);

    backend.emitCore({ type: 'presence_changed', account: 1, jid: 'a@x', presence: null });
    expect(app.roster.view(1, 'a@x').online).toBe(false);
  });

  it('keeps the roster and presence that arrive while login is still under way', async () => {
    const backend = new FakeBackend();
    let resolve: (account: number) => void = () => {};
    backend.loginResult = () => new Promise((r) => (resolve = r));
    const app = new AppStore(backend);
    await app.start();
    const login = app.signIn.login({ jid: 'me@x', password: 'p', remember: false, host: null, port: null });
    backend.emitCore({ type: 'roster_loaded', account: 4, contacts: [contact('a@x', 'Ann')] });
    backend.emitCore({
      type: 'presence_changed',
      account: 4,
      jid: 'a@x',
      presence: { show: 'dnd', status: null, resource: 'r', priority: 0, idle_since: null },
    });
    resolve(4);
    await login;
    expect(app.roster.view(4, 'a@x')).toMatchObject({ name: 'Ann', show: 'dnd' });
  });

  it('leaves errors during login to the login form', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    app.dispatch({ type: 'error', account: 1, error: { code: 'auth_failed', message: '' } });
    app.dispatch({ type: 'error', account: null, error: { code: 'unreachable', message: '' } });
    expect(app.notices.list).toEqual([]);
  });

  it('drops a contact whose subscription is removed', async () => {
    const { app } = await loggedIn();
    app.dispatch({ type: 'contact_changed', account: 1, contact: contact('a@x') });
    app.dispatch({ type: 'contact_changed', account: 1, contact: { ...contact('a@x'), subscription: 'remove' } });
    expect(app.roster.of(1).entries.size).toBe(0);
  });

  it('keeps the rosters of accounts apart, and ignores errors of accounts not signed in', async () => {
    const { app } = await loggedIn();
    app.dispatch({ type: 'contact_changed', account: 2, contact: contact('z@x') });
    app.dispatch({ type: 'error', account: 2, error: { code: 'timeout', message: '' } });
    expect(app.roster.of(1).entries.size).toBe(0);
    expect(app.roster.entry(2, 'z@x')).toBeDefined();
    expect(app.notices.list).toEqual([]);
    expect(app.session.connectionErrors.size).toBe(0);
  });

  it('tracks reconnection with a countdown and clears presence while offline', async () => {
    const { app, tick } = await loggedIn();
    app.dispatch({
      type: 'presence_changed',
      account: 1,
      jid: 'a@x',
      presence: { show: 'available', status: null, resource: 'r', priority: 0, idle_since: null },
    });
    app.dispatch({ type: 'connection', account: 1, state: { state: 'reconnecting', attempt: 2, retry_in_ms: 4500 } });
    expect(app.session.connectionOf(1).state).toBe('reconnecting');
    expect(app.session.secondsUntilRetry(1, app.now())).toBe(5);
    tick(2000);
    expect(app.session.secondsUntilRetry(1, app.now())).toBe(3);
    tick(9000);
    expect(app.session.secondsUntilRetry(1, app.now())).toBe(0);
    expect(app.roster.of(1).presence.size).toBe(0);
    app.dispatch({ type: 'connection', account: 1, state: { state: 'online', jid: 'me@example.org/x' } });
    expect(app.session.secondsUntilRetry(1, app.now())).toBeNull();
  });

  it('routes shell events: unread counts and open_chat', async () => {
    const { app, backend } = await loggedIn();
    const shell: ShellEvent[] = [
      { type: 'unread_changed', chat: { account: 1, peer: 'a@x' }, count: 2, total: 2, last: 7 },
      { type: 'unread_changed', chat: { account: 1, peer: 'b@x' }, count: 1, total: 3, last: 9 },
      { type: 'open_chat', chat: { account: 1, peer: 'b@x' } },
    ];
    for (const event of shell) backend.emitShell(event);
    expect(app.unread.count(1, 'a@x')).toBe(2);
    expect(app.unread.total).toBe(3);
    expect(app.chats.active?.peer).toBe('b@x');
  });

  it('shows the auto-away presence while the desktop is idle, and forgets it at sign-out', async () => {
    const { app, backend } = await loggedIn();
    backend.emitShell({ type: 'auto_away', show: 'xa' });
    expect(app.session).toMatchObject({ show: 'available', autoShow: 'xa' });
    backend.emitShell({ type: 'auto_away', show: null });
    expect(app.session.autoShow).toBeNull();
    backend.emitShell({ type: 'auto_away', show: 'away' });
    app.session.signedOut();
    expect(app.session.autoShow).toBeNull();
  });

  it('gets messages only through the chats\' channels, never as core events', async () => {
    const { app, backend } = await loggedIn();
    const chat = app.chats.open(1, 'bob@example.org')!;
    await flush();
    const sent: Event[] = [
      { type: 'message_added', account: 1, message: message(5), stranger: false },
      { type: 'message_updated', account: 1, message: message(5, { body: 'x' }) },
    ];
    for (const event of sent) {
      // @ts-expect-error The shell sends message events only to the chats' channels.
      const core: CoreEvent = event;
      expect(() => app.dispatch(core)).toThrow(/unhandled/);
    }
    backend.channels.get('bob@example.org')!({ type: 'added', message: message(5) });
    backend.channels.get('bob@example.org')!({ type: 'updated', message: message(5, { body: 'x' }) });
    vi.advanceTimersByTime(0);
    expect(chat.messages.map((m) => [m.id, m.body])).toEqual([[5, 'x']]);
  });

  it('refuses an unknown event type', async () => {
    const { app } = await loggedIn();
    expect(() => app.dispatch({ type: 'bogus' } as unknown as AppEvent)).toThrow(/unhandled/);
  });
});
