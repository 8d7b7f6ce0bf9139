import { describe, expect, it, vi } from 'vitest';
import { FakeBackend, appInfo, defaultSettings, settle } from '$lib/testing/backend';
import { contact, message } from '$lib/testing/fixtures';
import { AppStore } from './app.svelte';
import { UnreadStore, windowTitle } from './unread.svelte';
import { errorMessageKey } from './notices.svelte';

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
    await app.login(request);
    return { app, backend };
  }

  it('reports the newest incoming message as seen once, only while the chat is visible', async () => {
    const { app, backend } = await setup();
    const chat = app.chats.open(1, 'bob@example.org')!;
    await settle();
    app.chats.activate(chat.key);
    app.chats.setVisible(false);
    app.chats.seen(chat);
    expect(backend.called('markDisplayed')).toEqual([]);
    app.chats.setVisible(true);
    app.chats.seen(chat);
    app.chats.seen(chat);
    expect(backend.called('markDisplayed')).toEqual([[1, 'bob@example.org', 8]]);
    // Our own newer message is not "seen"; the next incoming one is.
    backend.channels.get('bob@example.org')!({ type: 'added', message: message(9, { direction: 'out', state: 'sent' }) });
    app.chats.seen(chat);
    expect(backend.called('markDisplayed')).toHaveLength(1);
    backend.channels.get('bob@example.org')!({ type: 'added', message: message(10) });
    app.chats.seen(chat);
    expect(backend.called('markDisplayed').at(-1)).toEqual([1, 'bob@example.org', 10]);
  });

  it('tells the contact we type once, that we paused after 5 s, and shows their typing', async () => {
    const { app, backend } = await setup();
    const chat = app.chats.open(1, 'bob@example.org')!;
    await settle();
    vi.useFakeTimers();
    try {
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
      backend.channels.get('bob@example.org')!({ type: 'added', message: message(30) });
      expect(chat.peerState).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('retries only our failed messages, showing them as pending at once', async () => {
    const { app, backend } = await setup();
    const chat = app.chats.open(1, 'bob@example.org')!;
    await settle();
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
    await settle();
    expect(chat.messages.map((m) => m.id)).toEqual([6, 7, 8]);
    backend.channels.get('bob@example.org')!({ type: 'added', message: message(9) });
    backend.channels.get('bob@example.org')!({ type: 'updated', message: message(9, { body: 'nine' }) });
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
    await settle();
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
    expect(await app.login({ ...request, jid: 'me@example.org/laptop', remember: true, host: 'h', port: 5 })).toBe(
      true,
    );
    expect(app.session).toMatchObject({ phase: 'main', account: 1, jid: 'me@example.org', loggingIn: false });
    expect(app.roster.entries.has('a@x')).toBe(true);
    expect(app.settings.value.remembered).toEqual({ jid: 'me@example.org', host: 'h', port: 5 });
  });

  it('keeps the login error by code and shows the connecting state meanwhile', async () => {
    const backend = new FakeBackend();
    let reject: (error: unknown) => void = () => {};
    backend.loginResult = () => new Promise((_, r) => (reject = r));
    const app = new AppStore(backend);
    await app.start();
    const pending = app.login(request);
    expect(app.session.loggingIn).toBe(true);
    expect(await app.login(request)).toBe(false); // no second attempt while one runs
    reject({ code: 'auth_failed', message: 'not-authorized' });
    expect(await pending).toBe(false);
    expect(app.session).toMatchObject({ phase: 'login', loggingIn: false, loginError: { code: 'auth_failed' } });
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
    await app.login(request);
    backend.recentStatuses = ['At lunch', 'Working'];
    await app.setPresence('away', ' At lunch ');
    expect(backend.called('setPresence')).toEqual([[1, 'away', 'At lunch']]);
    expect(app.settings.value.recent_statuses).toEqual(['At lunch', 'Working']);
  });

  it('asks when an offline contact was last online, and forgets it when the server does not tell', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    await app.login(request);
    app.chats.open(1, 'a@x');
    const chat = app.chats.active!;
    backend.lastActivitySeconds = 90;
    await app.refreshLastSeen(chat, 1_000_000);
    expect(backend.called('lastActivity')).toEqual([[1, 'a@x']]);
    expect(chat.lastSeen).toBe(910_000);
    backend.lastActivitySeconds = new Error('timeout');
    await app.refreshLastSeen(chat, 1_000_000);
    expect(chat.lastSeen).toBeNull();
  });

  it('sets our presence and puts it back if that fails', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    await app.login(request);
    await app.setPresence('away', ' lunch ');
    expect(backend.called('setPresence')).toEqual([[1, 'away', 'lunch']]);
    await app.setPresence('dnd', '  ');
    expect(backend.called('setPresence').at(-1)).toEqual([1, 'dnd', null]);
    backend.setPresence = () => Promise.reject({ code: 'not_connected', message: '' });
    await app.setPresence('xa', 'x');
    expect(app.session.show).toBe('dnd');
    expect(app.notices.list).toHaveLength(1);
  });

  it('goes online again after going offline through the backend, never logging in again', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    await app.login({ ...request, remember: true });
    await app.setPresence('offline', '');
    app.dispatch({ type: 'connection', account: 1, state: { state: 'disconnected' } });
    await app.setPresence('away', 'back soon');
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
    await app.login(request);
    app.chats.open(1, 'a@x');
    app.dispatch({ type: 'unread_changed', chat: { account: 1, peer: 'b@x' }, count: 1, total: 1, last: null });
    await app.logout();
    expect(backend.called('logout')).toEqual([[1]]);
    expect(app.session).toMatchObject({ phase: 'login', account: null });
    expect(app.roster.entries.size).toBe(0);
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
    expect(app.roster.presence.get('a@x')?.show).toBe('away');
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
