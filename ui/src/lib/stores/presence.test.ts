import { describe, expect, it } from 'vitest';
import { request, twoAccounts } from '$lib/testing/apps';
import { FakeBackend } from '$lib/testing/backend';
import { useFakeTime } from '$lib/testing/time';
import { AppStore } from './app.svelte';
import { NoticeStore } from './notices.svelte';
import { PresenceStore } from './presence.svelte';
import { SessionStore } from './session.svelte';
import { SettingsStore } from './settings.svelte';

useFakeTime();

/** A presence store with `accounts` signed in (1: a@x, 2: b@x, ...). */
function presence(accounts: number[], backend = new FakeBackend()) {
  const session = new SessionStore();
  for (const account of accounts) session.signedIn(account, `${String.fromCharCode(96 + account)}@x`);
  const notices = new NoticeStore();
  const settings = new SettingsStore(backend, notices);
  return { store: new PresenceStore(backend, { session, settings, notices }), backend, session, settings, notices };
}

const offline = { code: 'not_connected', message: '' };

describe('PresenceStore', () => {
  it('does nothing without a signed-in account', async () => {
    const { store, backend, session } = presence([]);
    await store.set('away', 'x');
    expect(backend.called('setPresence')).toEqual([]);
    expect(session.show).toBe('available');
  });

  it('sends the trimmed status (blank: none) and keeps the recent statuses the shell answers', async () => {
    const { store, backend, session, settings } = presence([1]);
    backend.recentStatuses = ['lunch'];
    await store.set('away', '  lunch ');
    await store.set('dnd', '   ');
    expect(backend.called('setPresence')).toEqual([
      [1, 'away', 'lunch'],
      [1, 'dnd', null],
    ]);
    expect(settings.value.recent_statuses).toEqual(['lunch']);
    expect(session).toMatchObject({ show: 'dnd', status: '   ' });
  });

  it('the all-accounts choice replaces the per-account ones; one account keeps the others', async () => {
    const { store, backend, session } = presence([1, 2]);
    await store.set('dnd', 'meeting', 2);
    expect(backend.called('setPresence')).toEqual([[2, 'dnd', 'meeting']]);
    expect(session.presenceOf(1)).toEqual({ show: 'available', status: '' });
    expect(session.presenceOf(2)).toEqual({ show: 'dnd', status: 'meeting' });
    await store.set('away', '');
    expect(session.ownPresence.size).toBe(0);
    expect(session.presenceOf(2)).toEqual({ show: 'away', status: '' });
  });

  it('puts everything back when every account fails, with one notice', async () => {
    const { store, backend, session, notices } = presence([1, 2]);
    await store.set('dnd', 'meeting', 2);
    backend.setPresence = () => Promise.reject(offline);
    await store.set('xa', 'gone');
    expect(session).toMatchObject({ show: 'available', status: '' });
    expect(session.presenceOf(2)).toEqual({ show: 'dnd', status: 'meeting' });
    expect(notices.list.map((n) => n.key)).toEqual(['error.notConnected']);
  });

  it('puts back only the account that failed', async () => {
    const { store, backend, session } = presence([1, 2]);
    backend.setPresence = (account) => (account === 1 ? Promise.reject(offline) : Promise.resolve([]));
    await store.set('away', 'brb');
    expect(session.presenceOf(1)).toEqual({ show: 'available', status: '' });
    expect(session.presenceOf(2)).toEqual({ show: 'away', status: 'brb' });
    await store.set('dnd', '', 1);
    expect(session.presenceOf(1)).toEqual({ show: 'available', status: '' });
  });

  it('reconnects at once, a failure being a notice', async () => {
    const { store, backend, notices } = presence([1]);
    await store.reconnectNow(1);
    expect(backend.called('reconnectNow')).toEqual([[1]]);
    backend.reconnectNow = () => Promise.reject(offline);
    await store.reconnectNow(1);
    expect(notices.list).toHaveLength(1);
  });
});

describe('PresenceStore in the app', () => {
  it('keeps the recent status messages the shell answers', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    await app.signIn.login(request);
    backend.recentStatuses = ['At lunch', 'Working'];
    await app.presence.set('away', ' At lunch ');
    expect(backend.called('setPresence')).toEqual([[1, 'away', 'At lunch']]);
    expect(app.settings.value.recent_statuses).toEqual(['At lunch', 'Working']);
  });

  it('sets our presence and puts it back if that fails', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    await app.signIn.login(request);
    await app.presence.set('away', ' lunch ');
    expect(backend.called('setPresence')).toEqual([[1, 'away', 'lunch']]);
    await app.presence.set('dnd', '  ');
    expect(backend.called('setPresence').at(-1)).toEqual([1, 'dnd', null]);
    backend.setPresence = () => Promise.reject({ code: 'not_connected', message: '' });
    await app.presence.set('xa', 'x');
    expect(app.session.show).toBe('dnd');
    expect(app.notices.list).toHaveLength(1);
  });

  it('sets our presence on all accounts, or on one, keeping the others', async () => {
    const { app, backend } = await twoAccounts();
    await app.presence.set('away', 'lunch');
    expect(backend.called('setPresence')).toEqual([
      [1, 'away', 'lunch'],
      [2, 'away', 'lunch'],
    ]);
    await app.presence.set('dnd', 'meeting', 2);
    expect(backend.called('setPresence').at(-1)).toEqual([2, 'dnd', 'meeting']);
    expect(app.session.presenceOf(1)).toEqual({ show: 'away', status: 'lunch' });
    expect(app.session.presenceOf(2)).toEqual({ show: 'dnd', status: 'meeting' });
    // One failing account keeps what it had; the other takes the new choice.
    backend.setPresence = (account) =>
      account === 2 ? Promise.reject({ code: 'not_connected', message: '' }) : Promise.resolve([]);
    await app.presence.set('xa', '');
    expect(app.session.presenceOf(1)).toEqual({ show: 'xa', status: '' });
    expect(app.session.presenceOf(2)).toEqual({ show: 'dnd', status: 'meeting' });
    expect(app.notices.list).toHaveLength(1);
  });

  it('goes online again after going offline through the backend, never logging in again', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    await app.signIn.login({ ...request, remember: true });
    await app.presence.set('offline', '');
    app.dispatch({ type: 'connection', account: 1, state: { state: 'disconnected' } });
    await app.presence.set('away', 'back soon');
    expect(backend.called('login')).toHaveLength(1);
    expect(backend.called('setPresence')).toEqual([
      [1, 'offline', null],
      [1, 'away', 'back soon'],
    ]);
    expect(app.session.show).toBe('away');
  });
});
