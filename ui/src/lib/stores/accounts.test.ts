import { describe, expect, it } from 'vitest';
import type { AccountId, AccountSettings } from '$lib/contract';
import type { UiError } from '$lib/errors';
import { consistentColor } from '$lib/util/color';
import { FakeBackend, defaultSettings } from '$lib/testing/backend';
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
  settings.load({ ...defaultSettings(), accounts: [kept('a@x'), kept('b@x', { enabled: false, color: '#112233' })] });
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
    backend.enableAccount = () => Promise.reject<null>({ code: 'store', message: 'io' });
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
