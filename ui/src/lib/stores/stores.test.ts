import { describe, expect, it, vi } from 'vitest';
import { FakeBackend, appInfo, defaultSettings } from '$lib/testing/backend';
import { flush, useFakeTime } from '$lib/testing/time';
import { contact, message } from '$lib/testing/fixtures';
import { AppStore } from './app.svelte';
import { BURST_MERGE_EVERY_MS, MARK_DISPLAYED_EVERY_MS, type ChatState } from './chats.svelte';
import { UnreadStore, windowTitle } from './unread.svelte';
import { errorMessageKey } from './notices.svelte';
import { toUiError } from '$lib/errors';
import type { ChatUpdate } from '$lib/contract';

useFakeTime();

const request = { jid: 'me@example.org', password: 'p', remember: false, host: null, port: null };

describe('UnreadStore', () => {
  it('counts per chat and in total from unread_changed', () => {
    const unread = new UnreadStore();
    unread.apply({ account: 1, peer: 'a@x' }, 3, 3);
    unread.apply({ account: 1, peer: 'b@x' }, 1, 4);
    expect(unread.count(1, 'a@x')).toBe(3);
    expect(unread.count(1, 'b@x')).toBe(1);
    expect(unread.count(2, 'a@x')).toBe(0);
    expect(unread.title).toBe('Charla (4)');
    unread.apply({ account: 1, peer: 'a@x' }, 0, 1);
    expect(unread.count(1, 'a@x')).toBe(0);
    expect(unread.counts.size).toBe(1);
    expect(unread.title).toBe('Charla (1)');
    unread.apply({ account: 1, peer: 'b@x' }, 0, 0);
    expect(unread.title).toBe('Charla');
    expect(unread.count(null, 'b@x')).toBe(0);
  });

  it('titles the window', () => {
    expect(windowTitle(0)).toBe('Charla');
    expect(windowTitle(12)).toBe('Charla (12)');
  });
});

describe('ChatsStore', () => {
  async function setup() {
    const backend = new FakeBackend();
    backend.history.set(
      'bob@example.org',
      Array.from({ length: 8 }, (_, i) => message(i + 1)),
    );
    const app = new AppStore(backend);
    await app.start();
    await app.signIn.login(request);
    return { app, backend };
  }

  /** Runs `body` in bob's open chat, after its first page, with bob's channel. */
  async function inBobsChat(
    body: (chat: {
      app: AppStore;
      backend: FakeBackend;
      chat: ChatState;
      channel: (update: ChatUpdate) => void;
    }) => void,
  ) {
    const { app, backend } = await setup();
    const chat = app.chats.open(1, 'bob@example.org')!;
    await flush();
    const channel = backend.channels.get('bob@example.org')!;
    body({ app, backend, chat, channel });
  }

  it('reports the newest incoming message as seen, only while the chat is visible, at most once a second', async () => {
    await inBobsChat(({ app, backend, chat, channel }) => {
      app.chats.activate(chat.key);
      app.chats.setVisible(false);
      app.chats.seen(chat);
      expect(backend.called('markDisplayed')).toEqual([]);
      app.chats.setVisible(true);
      app.chats.seen(chat);
      app.chats.seen(chat);
      expect(backend.called('markDisplayed')).toEqual([[1, 'bob@example.org', 8]]);
      // Our own newer message is not "seen"; the next incoming ones are, in one report once
      // the second since the last one has passed.
      channel({ type: 'added', message: message(9, { direction: 'out', state: 'sent' }) });
      vi.advanceTimersByTime(BURST_MERGE_EVERY_MS);
      app.chats.seen(chat);
      for (const id of [10, 11]) {
        channel({ type: 'added', message: message(id) });
        vi.advanceTimersByTime(BURST_MERGE_EVERY_MS);
        app.chats.seen(chat);
      }
      expect(backend.called('markDisplayed')).toHaveLength(1);
      vi.advanceTimersByTime(MARK_DISPLAYED_EVERY_MS);
      expect(backend.called('markDisplayed').slice(1)).toEqual([[1, 'bob@example.org', 11]]);
      // After a quiet second, the next one goes at once.
      vi.advanceTimersByTime(MARK_DISPLAYED_EVERY_MS);
      channel({ type: 'added', message: message(12) });
      vi.advanceTimersByTime(BURST_MERGE_EVERY_MS);
      app.chats.seen(chat);
      expect(backend.called('markDisplayed').slice(2)).toEqual([[1, 'bob@example.org', 12]]);
    });
  });

  it('shows a lone message at the next frame, and a burst at most every BURST_MERGE_EVERY_MS', async () => {
    await inBobsChat(({ chat, channel }) => {
      channel({ type: 'added', message: message(9) });
      vi.advanceTimersByTime(0);
      expect(chat.messages.at(-1)?.id).toBe(9);
      // Right after that rebuild: the next ones wait for the interval, then show together.
      channel({ type: 'added', message: message(10) });
      channel({ type: 'added', message: message(11) });
      vi.advanceTimersByTime(BURST_MERGE_EVERY_MS - 10);
      expect(chat.messages.at(-1)?.id).toBe(9);
      vi.advanceTimersByTime(10);
      expect(chat.messages.map((m) => m.id).slice(-3)).toEqual([9, 10, 11]);
    });
  });

  it('merges a burst the shell sends as one update, in order, with changes to shown messages', async () => {
    await inBobsChat(({ chat, channel }) => {
      channel({
        type: 'messages',
        messages: [
          message(9, { direction: 'out', state: 'pending' }),
          message(10),
          message(9, { direction: 'out', state: 'delivered' }),
        ],
      });
      vi.advanceTimersByTime(BURST_MERGE_EVERY_MS);
      expect(chat.messages.map((m) => m.id).slice(-3)).toEqual([8, 9, 10]);
      expect(chat.messages.find((m) => m.id === 9)?.state).toBe('delivered');
    });
  });

  it('tells the contact we type once, that we paused after 5 s, and shows their typing', async () => {
    await inBobsChat(({ app, backend, chat, channel }) => {
      chat.draft = 'h';
      app.chats.typing(chat);
      chat.draft = 'hi';
      app.chats.typing(chat);
      expect(backend.called('sendChatState')).toEqual([[1, 'bob@example.org', 'composing']]);
      vi.advanceTimersByTime(4999);
      expect(backend.called('sendChatState')).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(backend.called('sendChatState').at(-1)).toEqual([1, 'bob@example.org', 'paused']);
      // Typing again resumes; emptying the box says active; sending needs no extra stanza.
      app.chats.typing(chat);
      chat.draft = '';
      app.chats.typing(chat);
      expect(backend.called('sendChatState').slice(2)).toEqual([
        [1, 'bob@example.org', 'composing'],
        [1, 'bob@example.org', 'active'],
      ]);
      vi.advanceTimersByTime(10_000);
      expect(backend.called('sendChatState')).toHaveLength(4);

      backend.emitCore({ type: 'chat_state', account: 1, peer: 'bob@example.org', state: 'composing' });
      expect(chat.peerState).toBe('composing');
      backend.emitCore({ type: 'chat_state', account: 1, peer: 'carol@example.org', state: 'composing' });
      expect(chat.peerState).toBe('composing');
      // Their message means they stopped.
      channel({ type: 'added', message: message(30) });
      vi.advanceTimersByTime(BURST_MERGE_EVERY_MS);
      expect(chat.peerState).toBeNull();
    });
  });

  it('retries only our failed messages, showing them as pending at once', async () => {
    const { app, backend } = await setup();
    const chat = app.chats.open(1, 'bob@example.org')!;
    await flush();
    const failed = message(20, { direction: 'out', state: 'failed', error: 'recipient-unavailable' });
    backend.channels.get('bob@example.org')!({ type: 'added', message: failed });
    expect(await app.chats.retry(chat, message(21, { direction: 'out', state: 'sent' }))).toBe(false);
    expect(await app.chats.retry(chat, message(22))).toBe(false);
    expect(backend.called('retryMessage')).toEqual([]);
    expect(await app.chats.retry(chat, failed)).toBe(true);
    expect(backend.called('retryMessage')).toEqual([[1, 20]]);
    const row = chat.messages.find((m) => m.id === 20)!;
    expect([row.state, row.error]).toEqual(['pending', null]);
  });

  it('loads the first page, applies channel updates, pages back to the beginning', async () => {
    const { app, backend } = await setup();
    const chat = app.chats.open(1, 'bob@example.org')!;
    // An update arriving before the first page, duplicating one of its rows.
    backend.channels.get('bob@example.org')!({ type: 'added', message: message(8) });
    await flush();
    vi.advanceTimersByTime(0);
    expect(chat.messages.map((m) => m.id)).toEqual([6, 7, 8]);
    backend.channels.get('bob@example.org')!({ type: 'added', message: message(9) });
    backend.channels.get('bob@example.org')!({ type: 'updated', message: message(9, { body: 'nine' }) });
    // Updates wait for the next frame (here: the burst interval after the first update) and are
    // merged together.
    expect(chat.messages.map((m) => m.id)).toEqual([6, 7, 8]);
    vi.advanceTimersByTime(BURST_MERGE_EVERY_MS - 1);
    expect(chat.messages.map((m) => m.id)).toEqual([6, 7, 8]);
    vi.advanceTimersByTime(1);
    expect(chat.messages.map((m) => m.id)).toEqual([6, 7, 8, 9]);
    expect(chat.messages.at(-1)?.body).toBe('nine');

    expect(await app.chats.loadOlder(chat)).toBe(true);
    expect(backend.called('loadOlder').at(-1)).toEqual([1, 'bob@example.org', 6]);
    expect(await app.chats.loadOlder(chat)).toBe(true);
    expect(chat.messages.map((m) => m.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(chat.exhausted).toBe(false);
    expect(await app.chats.loadOlder(chat)).toBe(false);
    expect(chat.exhausted).toBe(true);
    expect(await app.chats.loadOlder(chat)).toBe(false);
    expect(backend.called('loadOlder')).toHaveLength(3);
  });

  it('keeps one tab per chat, cycles through tabs and closes them', async () => {
    const { app, backend } = await setup();
    app.chats.open(1, 'a@x');
    app.chats.open(1, 'b@x');
    app.chats.open(1, 'c@x');
    app.chats.open(1, 'a@x');
    expect(app.chats.tabs.map((t) => t.peer)).toEqual(['a@x', 'b@x', 'c@x']);
    expect(app.chats.active?.peer).toBe('a@x');
    app.chats.cycle();
    expect(app.chats.active?.peer).toBe('b@x');
    app.chats.cycle(-1);
    app.chats.cycle(-1);
    expect(app.chats.active?.peer).toBe('c@x');
    app.chats.close(app.chats.active!.key);
    expect(app.chats.active?.peer).toBe('b@x');
    expect(backend.called('closeChat')).toEqual([[1, 'c@x']]);
    expect(backend.called('openChat')).toHaveLength(3);
  });

  it('tells the shell which chat is in view, and nothing while the window is hidden', async () => {
    const { app, backend } = await setup();
    app.chats.open(1, 'a@x');
    app.chats.open(1, 'b@x');
    app.chats.setVisible(false);
    app.chats.setVisible(true);
    app.chats.setVisible(true);
    app.chats.closeAll();
    expect(backend.called('focusChat')).toEqual([
      [{ account: 1, peer: 'a@x' }],
      [{ account: 1, peer: 'b@x' }],
      [null],
      [{ account: 1, peer: 'b@x' }],
      [null],
    ]);
  });

  it('sends: the pending message appears; blank text is not sent; failures become notices', async () => {
    const { app, backend } = await setup();
    const chat = app.chats.open(1, 'bob@example.org')!;
    await flush();
    expect(await app.chats.send(chat, '  \n ')).toBe(false);
    expect(await app.chats.send(chat, 'hello\nthere')).toBe(true);
    expect(chat.messages.at(-1)).toMatchObject({ body: 'hello\nthere', state: 'pending', direction: 'out' });
    backend.failSend = { code: 'not_connected', message: 'offline' };
    expect(await app.chats.send(chat, 'again')).toBe(false);
    expect(app.notices.list.map((n) => n.key)).toEqual(['error.notConnected']);
  });

  it('pops a chat out into its own window', async () => {
    const { app, backend } = await setup();
    const chat = app.chats.open(1, 'a@x')!;
    await app.chats.popOut(chat);
    expect(backend.called('popOutChat')).toEqual([[{ account: 1, peer: 'a@x' }]]);
    expect(app.chats.tabs).toEqual([]);
  });
});

describe('AppStore', () => {
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

  it('maps every error code to a message, unknown ones to the generic one', () => {
    expect(errorMessageKey('tls_certificate')).toBe('error.tlsCertificate');
    expect(errorMessageKey('unreachable')).toBe('error.unreachable');
    expect(errorMessageKey('something_new')).toBe('error.unknown');
    expect(errorMessageKey('toString')).toBe('error.unknown');
  });

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

  /** Signed in with accounts 1 (a@example.org) and 2 (b@example.org). */
  async function twoAccounts(backend = new FakeBackend()) {
    backend.resumeResult = () =>
      Promise.resolve({
        online: [
          { account: 1, jid: 'a@example.org' },
          { account: 2, jid: 'b@example.org' },
        ],
        failed: [],
        keyring: null,
      });
    backend.info = appInfo({
      settings: {
        ...appInfo().settings,
        accounts: [
          { jid: 'a@example.org', host: null, port: null, enabled: true, color: null },
          { jid: 'b@example.org', host: null, port: null, enabled: true, color: '#112233' },
        ],
      },
    });
    const app = new AppStore(backend);
    await app.start();
    return { app, backend };
  }

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

  it('shows only the popped-out chat in a pop-out window', async () => {
    const backend = new FakeBackend();
    backend.info = appInfo({ popped_out: { account: 3, peer: 'a@x' } });
    const app = new AppStore(backend);
    await app.start();
    expect(app.session.phase).toBe('popout');
    expect(app.chats.active?.peer).toBe('a@x');
    app.dispatch({ type: 'open_chat', chat: { account: 3, peer: 'b@x' } });
    expect(app.chats.tabs.map((t) => t.peer)).toEqual(['a@x']);
    expect(backend.called('contacts')).toEqual([[3]]);
  });

  it('shows presence that arrived before the pop-out opened', async () => {
    const backend = new FakeBackend();
    backend.info = appInfo({ popped_out: { account: 3, peer: 'a@x' } });
    backend.roster = [contact('a@x')];
    backend.online = [{ jid: 'a@x', presence: { show: 'away', status: 'Lunch', resource: 'r', priority: 0, idle_since: null } }];
    const app = new AppStore(backend);
    await app.start();
    expect(backend.called('presences')).toEqual([[3]]);
    expect(app.roster.of(3).presence.get('a@x')?.show).toBe('away');
  });

  it('reports a failed start', async () => {
    const backend = new FakeBackend();
    backend.appInfo = () => Promise.reject(new Error('no shell'));
    const app = new AppStore(backend);
    await app.start();
    expect(app.session.phase).toBe('failed');
    expect(app.session.startError).toEqual({ code: 'unknown', message: 'no shell' });
  });

  it('saves settings and restores them when saving fails', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    await app.settings.update({ close_to_tray: true });
    expect(backend.called('saveSettings')).toEqual([[{ ...defaultSettings(), close_to_tray: true }]]);
    backend.saveSettings = () => Promise.reject({ code: 'store', message: 'io' });
    await app.settings.update({ notifications: false });
    expect(app.settings.value.notifications).toBe(true);
    expect(app.notices.list.map((n) => n.key)).toEqual(['error.store']);
  });
});
