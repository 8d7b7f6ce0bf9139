import { describe, expect, it } from 'vitest';
import { toUiError } from '$lib/errors';
import { request } from '$lib/testing/apps';
import { FakeBackend, appInfo } from '$lib/testing/backend';
import { contact } from '$lib/testing/fixtures';
import { useFakeTime } from '$lib/testing/time';
import { AppStore } from './app.svelte';

useFakeTime();

describe('SignInStore', () => {
  it('starts at the login screen and logs in', async () => {
    const backend = new FakeBackend();
    backend.roster = [contact('a@x', 'Ann')];
    const app = new AppStore(backend);
    await app.start();
    expect(app.session.phase).toBe('login');
    expect(await app.signIn.login({ ...request, jid: 'me@example.org/laptop', remember: true, host: 'h', port: 5 })).toBe(
      true,
    );
    expect(app.session).toMatchObject({ phase: 'main', account: 1, jid: 'me@example.org', loggingIn: false });
    expect(app.roster.entry(1, 'a@x')).toBeDefined();
    expect(app.settings.value.accounts).toEqual([
      { jid: 'me@example.org', host: 'h', port: 5, enabled: true, color: null },
    ]);
  });

  it('shows the kept accounts as the shell answered them, not as it would work them out', async () => {
    const backend = new FakeBackend();
    const other = { jid: 'other@example.org', host: null, port: null, enabled: false, color: '#123456' };
    backend.login = () => Promise.resolve({ signed_in: 7, kept: [other] });
    const app = new AppStore(backend);
    await app.start();
    expect(await app.signIn.login({ ...request, remember: true })).toBe(true);
    expect(app.settings.value.accounts).toEqual([other]);
    expect(app.session.account).toBe(7);
  });

  it('keeps the login error by code and shows the connecting state meanwhile', async () => {
    const backend = new FakeBackend();
    let reject: (error: unknown) => void = () => {};
    backend.loginResult = () => new Promise((_, r) => (reject = r));
    const app = new AppStore(backend);
    await app.start();
    const pending = app.signIn.login(request);
    expect(app.session.loggingIn).toBe(true);
    expect(await app.signIn.login(request)).toBe(false); // no second attempt while one runs
    reject({ code: 'auth_failed', message: 'not-authorized' });
    expect(await pending).toBe(false);
    expect(app.session).toMatchObject({ phase: 'login', loggingIn: false, loginError: { code: 'auth_failed' } });
  });

  it('logs in at start with the password from the keyring, without the login form', async () => {
    const backend = new FakeBackend();
    backend.resumeResult = () =>
      Promise.resolve({ online: [{ account: 7, jid: 'me@example.org' }], failed: [], keyring: null });
    const app = new AppStore(backend);
    await app.start();
    expect(app.session).toMatchObject({ phase: 'main', account: 7, jid: 'me@example.org', loggingIn: false });
    expect(backend.called('login')).toHaveLength(0);
    expect(backend.called('contacts')).toEqual([[7]]);
  });

  it('logs every enabled account in at start and marks the ones that failed', async () => {
    const backend = new FakeBackend();
    const failure = { jid: 'c@example.org', error: { code: 'unreachable' as const, message: 'refused' } };
    backend.resumeResult = () =>
      Promise.resolve({
        online: [
          { account: 1, jid: 'a@example.org' },
          { account: 2, jid: 'b@example.org' },
        ],
        failed: [failure],
        keyring: null,
      });
    const app = new AppStore(backend);
    await app.start();
    expect(app.session).toMatchObject({ phase: 'main', account: 1, jid: 'a@example.org', multi: true });
    expect([...app.session.accounts]).toEqual([
      [1, 'a@example.org'],
      [2, 'b@example.org'],
    ]);
    expect(app.session.loginFailures.get('c@example.org')?.code).toBe('unreachable');
    expect(backend.called('contacts')).toEqual([[1], [2]]);
  });

  it('shows the login form with why no password can be remembered', async () => {
    const backend = new FakeBackend();
    const keyring = { code: 'keyring_unavailable', message: 'no Secret Service' } as const;
    backend.resumeResult = () => Promise.resolve({ online: [], failed: [], keyring });
    const app = new AppStore(backend);
    await app.start();
    expect(app.session).toMatchObject({ phase: 'login', keyringError: { code: 'keyring_unavailable' } });
    expect(app.session.loginError).toBeNull();
  });

  it('shows the login form with the error when the remembered password is rejected', async () => {
    const backend = new FakeBackend();
    const error = { code: 'auth_failed', message: 'not-authorized' } as const;
    backend.resumeResult = () =>
      Promise.resolve({ online: [], failed: [{ jid: 'me@example.org', error }], keyring: null });
    const app = new AppStore(backend);
    await app.start();
    expect(app.session).toMatchObject({ phase: 'login', loginError: { code: 'auth_failed' }, certificate: null });
  });

  const untrusted = {
    code: 'tls_certificate',
    message: 'self-signed',
    certificate: { server: 'example.org', fingerprint: 'AB:CD', reason: 'self_signed' },
  };

  it('asks about an untrusted certificate, pins it for the account and logs in again', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    let first = true;
    backend.loginResult = () => (first ? ((first = false), Promise.reject(untrusted)) : Promise.resolve(1));
    expect(await app.signIn.login({ ...request, jid: 'Me@example.org/desk' })).toBe(false);
    expect(app.session.certificate).toEqual({ jid: 'Me@example.org', problem: untrusted.certificate });
    expect(app.session.loginError).toMatchObject({ code: 'tls_certificate', certificate: untrusted.certificate });
    await app.signIn.trustCertificate();
    expect(backend.called('trustCertificate')).toEqual([['Me@example.org', 'AB:CD']]);
    expect(backend.called('login')).toHaveLength(2);
    expect(app.session).toMatchObject({ phase: 'main', certificate: null, loginError: null });
  });

  it('retries the start-up login after trusting a certificate it hit', async () => {
    const backend = new FakeBackend();
    backend.info = appInfo({
      settings: {
        ...appInfo().settings,
        accounts: [{ jid: 'me@example.org', host: null, port: null, enabled: true, color: null }],
      },
    });
    let first = true;
    backend.resumeResult = () =>
      Promise.resolve(
        first
          ? ((first = false),
            { online: [], failed: [{ jid: 'me@example.org', error: untrusted as never }], keyring: null })
          : { online: [{ account: 2, jid: 'me@example.org' }], failed: [], keyring: null },
      );
    const app = new AppStore(backend);
    await app.start();
    expect(app.session.certificate?.jid).toBe('me@example.org');
    await app.signIn.trustCertificate();
    expect(backend.called('resumeLogin')).toHaveLength(2);
    expect(app.session).toMatchObject({ phase: 'main', account: 2 });
  });

  it('asks again when a reconnect meets a changed certificate, and goes online after trusting it', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    await app.signIn.login(request);
    const certificate = { server: 'example.org', fingerprint: 'EF:01', reason: 'pin_changed' } as const;
    app.dispatch({ type: 'error', account: 1, error: { code: 'tls_certificate', message: 'x', certificate } });
    expect(app.session.certificate).toEqual({ jid: 'me@example.org', problem: certificate });
    expect(app.session.connectionErrors.get(1)?.code).toBe('tls_certificate');
    await app.signIn.trustCertificate();
    expect(backend.called('trustCertificate')).toEqual([['me@example.org', 'EF:01']]);
    expect(backend.called('setPresence')).toEqual([[1, 'available', null]]);
    expect(backend.called('login')).toHaveLength(1);
    expect(app.session.certificate).toBeNull();
  });

  it('trusts nothing when the certificate dialog is cancelled', async () => {
    const backend = new FakeBackend();
    backend.loginResult = () => Promise.reject(untrusted);
    const app = new AppStore(backend);
    await app.start();
    await app.signIn.login(request);
    app.signIn.cancelCertificate();
    await app.signIn.trustCertificate();
    expect(app.session.certificate).toBeNull();
    expect(app.session.loginError?.code).toBe('tls_certificate');
    expect(backend.called('trustCertificate')).toHaveLength(0);
    expect(backend.called('login')).toHaveLength(1);
  });

  it('ignores malformed certificate details', () => {
    const bad = { ...untrusted, certificate: { server: 'x', fingerprint: 'AB', reason: 'trust_me' } };
    expect(toUiError(bad)).toEqual({ code: 'tls_certificate', message: 'self-signed' });
    expect(toUiError({ ...untrusted, certificate: 'AB:CD' }).certificate).toBeUndefined();
  });

  it('adds a second account while signed in, and logs out of all', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    await app.signIn.login({ ...request, remember: true });
    backend.loginResult = () => Promise.resolve(2);
    expect(await app.signIn.login({ ...request, jid: 'other@example.org', remember: true })).toBe(true);
    expect([...app.session.accounts]).toEqual([
      [1, 'me@example.org'],
      [2, 'other@example.org'],
    ]);
    expect(app.settings.value.accounts.map((a) => a.jid)).toEqual(['me@example.org', 'other@example.org']);
    expect(app.session.account).toBe(1);
    await app.signIn.logout();
    expect(backend.called('logout')).toEqual([[1], [2]]);
    expect(app.session.phase).toBe('login');
  });

  it('logs out and forgets the account', async () => {
    const backend = new FakeBackend();
    backend.roster = [contact('a@x')];
    const app = new AppStore(backend);
    await app.start();
    await app.signIn.login(request);
    app.chats.open(1, 'a@x');
    app.dispatch({ type: 'unread_changed', chat: { account: 1, peer: 'b@x' }, count: 1, total: 1, last: null });
    await app.signIn.logout();
    expect(backend.called('logout')).toEqual([[1]]);
    expect(app.session).toMatchObject({ phase: 'login', account: null });
    expect(app.roster.accounts.size).toBe(0);
    expect(app.chats.tabs).toEqual([]);
    expect(app.unread.total).toBe(0);
  });
});
