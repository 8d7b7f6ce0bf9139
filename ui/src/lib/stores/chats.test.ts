import { describe, expect, it, vi } from 'vitest';
import type { ChatUpdate } from '$lib/contract';
import { request } from '$lib/testing/apps';
import { FakeBackend } from '$lib/testing/backend';
import { message } from '$lib/testing/fixtures';
import { flush, useFakeTime } from '$lib/testing/time';
import { AppStore } from './app.svelte';
import { BURST_MERGE_EVERY_MS, MARK_DISPLAYED_EVERY_MS, type ChatTab } from './chats.svelte';

useFakeTime();

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
      chat: ChatTab;
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

  it('says which message the backend has taken as seen, once it answered', async () => {
    const { app, backend } = await setup();
    const chat = app.chats.open(1, 'bob@example.org')!;
    await flush();
    let answer: () => void = () => {};
    backend.markDisplayed = () => new Promise<void>((resolve) => (answer = resolve));
    app.chats.activate(chat.key);
    app.chats.setVisible(true);
    app.chats.seen(chat);
    await flush();
    expect(chat.reportedUpTo).toBe(0);
    answer();
    await flush();
    expect(chat.reportedUpTo).toBe(8);
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
