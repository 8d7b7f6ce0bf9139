import { describe, expect, it } from 'vitest';
import type { AccountId, AccountSettings } from '$lib/contract';
import type { UiError } from '$lib/errors';
import { consistentColor } from '$lib/util/color';
import { twoAccounts } from '$lib/testing/apps';
import { FakeBackend, defaultSettings } from '$lib/testing/backend';
import { contact } from '$lib/testing/fixtures';
import { useFakeTime } from '$lib/testing/time';
import { AccountsStore } from './accounts.svelte';
import { NoticeStore } from './notices.svelte';
import { SessionStore } from './session.svelte';
import { SettingsStore } from './settings.svelte';

useFakeTime();

function kept(jid: string, overrides: Partial<AccountSettings> = {}): AccountSettings {
  return { jid, host: null, port: null, enabled: true, color: null, ...overrides };
}

/**
 * An accounts store with a@x (account 1) signed in and b@x kept, disabled; signing in and out
 * only recorded.
 */
function accounts(backend = new FakeBackend()) {
  const session = new SessionStore();
  session.signedIn(1, 'a@x');
  const notices = new NoticeStore();
  const settings = new SettingsStore(backend, notices);
  // The shell keeps them; the window starts with its list.
  backend.keptAccounts = [kept('a@x'), kept('b@x', { enabled: false, color: '#112233' })];
  backend.jids.set(1, 'a@x');
  settings.load({ ...defaultSettings(), accounts: backend.keptAccounts });
  const signIn = {
    entered: [] as [AccountId, string][],
    left: [] as AccountId[],
    failures: [] as [UiError | null, string][],
    enter(account: AccountId, jid: string) {
      this.entered.push([account, jid]);
      return Promise.resolve();
    },
    leave(account: AccountId) {
      this.left.push(account);
    },
    failed(error: UiError | null, jid: string) {
      this.failures.push([error, jid]);
    },
  };
  const store = new AccountsStore(backend, { session, settings, notices, signIn });
  return { store, backend, session, settings, notices, signIn };
}

describe('AccountsStore', () => {
  it('enables a kept account: it is remembered enabled and signs in', async () => {
    const { store, backend, settings, signIn } = accounts();
    backend.enableResult = () => Promise.resolve(2);
    await store.enable('b@x', true);
    expect(backend.called('enableAccount')).toEqual([['b@x', true]]);
    expect(settings.value.accounts.find((a) => a.jid === 'b@x')?.enabled).toBe(true);
    expect(signIn.entered).toEqual([[2, 'b@x']]);
  });

  it('disables a signed-in account: it leaves the window at once', async () => {
    const { store, settings, signIn } = accounts();
    await store.enable('a@x', false);
    expect(settings.value.accounts[0]?.enabled).toBe(false);
    expect(signIn.left).toEqual([1]);
    expect(signIn.entered).toEqual([]);
  });

  it('without a remembered password, opens the add-account form for it', async () => {
    const { store, backend, session } = accounts();
    backend.enableResult = () => Promise.reject({ code: 'password_needed', message: '' });
    await store.enable('b@x', true);
    expect(session.addingAccount).toEqual({ jid: 'b@x' });
  });

  it('marks a failed login in the list, and asks about an untrusted certificate', async () => {
    const { store, backend, session, signIn, notices } = accounts();
    const certificate = { server: 'x', fingerprint: 'AB', reason: 'self_signed' } as const;
    backend.enableResult = () => Promise.reject({ code: 'tls_certificate', message: 'bad', certificate });
    await store.enable('b@x', true);
    expect(session.loginFailures.get('b@x')?.code).toBe('tls_certificate');
    expect(signIn.failures).toEqual([[{ code: 'tls_certificate', message: 'bad', certificate }, 'b@x']]);
    backend.enableAccount = () => Promise.reject({ code: 'store', message: 'io' });
    await store.enable('b@x', false);
    expect(notices.list.map((n) => n.key)).toEqual(['error.store']);
  });

  it('shows each account in its chosen color, else its XEP-0392 one', async () => {
    const { store, backend, settings, notices } = accounts();
    expect(store.colorOf('b@x')).toBe('#112233');
    expect(store.colorOf('a@x')).toBe(consistentColor('a@x'));
    expect(store.color(1)).toBe(consistentColor('a@x'));
    await store.setColor('a@x', '#abcdef');
    expect(store.color(1)).toBe('#abcdef');
    backend.setAccountColor = () => Promise.reject({ code: 'store', message: 'io' });
    await store.setColor('a@x', null);
    expect(settings.value.accounts[0]?.color).toBe('#abcdef');
    expect(notices.list).toHaveLength(1);
  });

  it('changes the password, answering the refusal for the form', async () => {
    const { store, backend } = accounts();
    expect(await store.changePassword(1, 'new')).toBeNull();
    expect(backend.called('changePassword')).toEqual([[1, 'new']]);
    backend.failAccount = { code: 'not_acceptable', message: 'weak' };
    expect(await store.changePassword(1, 'x')).toMatchObject({ code: 'not_acceptable' });
  });

  it('deletes only a signed-in account on its server', async () => {
    const { store, backend, settings } = accounts();
    expect(await store.end('b@x', 'delete')).toMatchObject({ code: 'not_connected' });
    expect(backend.called('deleteAccount')).toEqual([]);
    expect(settings.value.accounts).toHaveLength(2);
  });

  it('ends an account: forgotten and signed out; a refusal changes nothing', async () => {
    const { store, backend, session, settings, signIn } = accounts();
    backend.failAccount = { code: 'not_connected', message: '' };
    expect(await store.end('a@x', 'delete')).toMatchObject({ code: 'not_connected' });
    expect(settings.value.accounts).toHaveLength(2);
    backend.failAccount = null;
    session.loginFailures.set('b@x', { code: 'auth_failed', message: '' });
    expect(await store.end('b@x', { keepHistory: true })).toBeNull();
    expect(await store.end('a@x', 'delete')).toBeNull();
    expect(backend.called('removeAccount')).toEqual([['b@x', true]]);
    expect(backend.called('deleteAccount')).toEqual([[1], [1]]);
    expect(settings.value.accounts).toEqual([]);
    expect(session.loginFailures.size).toBe(0);
    expect(signIn.left).toEqual([1]);
  });
});

describe('AccountsStore in the app', () => {
  it('keeps each account apart: rosters, colors, disabling one, removing one', async () => {
    const { app, backend } = await twoAccounts();
    app.dispatch({ type: 'roster_loaded', account: 1, contacts: [contact('bob@x', 'Bob')] });
    app.dispatch({ type: 'roster_loaded', account: 2, contacts: [contact('bob@x', 'Bob'), contact('eve@x', 'Eve')] });
    const keys = app.roster.groups.flatMap((g) => g.contacts.map((c) => c.key));
    expect(keys).toEqual(['1:bob@x', '2:bob@x', '2:eve@x']);
    expect(app.accounts.color(2)).toBe('#112233');
    expect(app.accounts.color(1)).toMatch(/^#[0-9a-f]{6}$/);
    await app.accounts.setColor('a@example.org', '#abcdef');
    expect(backend.called('setAccountColor')).toEqual([['a@example.org', '#abcdef']]);
    expect(app.accounts.color(1)).toBe('#abcdef');

    app.chats.open(2, 'eve@x');
    app.chats.open(1, 'bob@x');
    await app.accounts.enable('b@example.org', false);
    expect(backend.called('enableAccount')).toEqual([['b@example.org', false]]);
    expect([...app.session.accounts.keys()]).toEqual([1]);
    expect(app.chats.tabs.map((c) => c.key)).toEqual([app.chats.find(1, 'bob@x')!.key]);
    expect(app.roster.accounts.has(2)).toBe(false);
    expect(app.settings.value.accounts.find((a) => a.jid === 'b@example.org')?.enabled).toBe(false);
    expect(app.session.multi).toBe(false);

    // Enabled again: it logs in with its remembered password.
    backend.enableResult = () => Promise.resolve(5);
    await app.accounts.enable('b@example.org', true);
    expect(app.session.accounts.get(5)).toBe('b@example.org');
    // Without one, the add-account form opens for it.
    await app.accounts.enable('b@example.org', false);
    backend.enableResult = () => Promise.reject({ code: 'password_needed', message: '' });
    await app.accounts.enable('b@example.org', true);
    expect(app.session.addingAccount).toEqual({ jid: 'b@example.org' });

    // Removing the first account leaves the other signed in, now first.
    backend.enableResult = () => Promise.resolve(5);
    await app.accounts.enable('b@example.org', true);
    expect(await app.accounts.end('a@example.org', { keepHistory: true })).toBeNull();
    expect(app.session).toMatchObject({ phase: 'main', account: 5, jid: 'b@example.org' });
    expect(app.settings.value.accounts.map((a) => a.jid)).toEqual(['b@example.org']);

    // A disabled account can be removed too (by address: it has no session).
    await app.accounts.enable('b@example.org', false);
    expect(app.session.phase).toBe('login');
    expect(await app.accounts.end('b@example.org', { keepHistory: false })).toBeNull();
    expect(backend.called('removeAccount').at(-1)).toEqual(['b@example.org', false]);
    expect(app.settings.value.accounts).toEqual([]);
  });
});
