import { describe, expect, it, vi } from 'vitest';
import { request } from '$lib/testing/apps';
import { FakeBackend } from '$lib/testing/backend';
import { flush, useFakeTime } from '$lib/testing/time';
import { AppStore } from './app.svelte';
import { DRAFT_SAVE_MS, DraftStore } from './drafts.svelte';
import { EmojiStore } from './emoji.svelte';

useFakeTime();

const BOB = 'bob@example.org';
const FAMILY = 'family@conference.example.org';

describe('DraftStore', () => {
  it('keeps the text once typing rests for DRAFT_SAVE_MS, once per pause', () => {
    const backend = new FakeBackend();
    const drafts = new DraftStore(backend);
    drafts.edit(1, BOB, 'H');
    vi.advanceTimersByTime(DRAFT_SAVE_MS - 1);
    drafts.edit(1, BOB, 'Hol');
    vi.advanceTimersByTime(DRAFT_SAVE_MS - 1);
    drafts.edit(1, BOB, 'Hola');
    expect(backend.called('setDraft')).toEqual([]);
    expect(drafts.get(1, BOB)).toBe('Hola');
    vi.advanceTimersByTime(DRAFT_SAVE_MS);
    expect(backend.called('setDraft')).toEqual([[1, BOB, 'Hola']]);
    // Each chat has its own pause.
    drafts.edit(2, BOB, 'other account');
    drafts.edit(1, FAMILY, 'room');
    vi.advanceTimersByTime(DRAFT_SAVE_MS);
    expect(backend.called('setDraft').slice(1)).toEqual([[2, BOB, 'other account'], [1, FAMILY, 'room']]);
  });

  it('clearing (sent) removes the draft at once, dropping what was waiting', () => {
    const backend = new FakeBackend();
    const drafts = new DraftStore(backend);
    drafts.edit(1, BOB, 'Hola');
    drafts.clear(1, BOB);
    vi.advanceTimersByTime(DRAFT_SAVE_MS * 2);
    expect(backend.called('setDraft')).toEqual([[1, BOB, '']]);
    expect(drafts.get(1, BOB)).toBe('');
    // Nothing kept, nothing waiting: no call.
    drafts.clear(1, BOB);
    expect(backend.called('setDraft')).toHaveLength(1);
  });

  it('a blank text is no draft', () => {
    const backend = new FakeBackend();
    const drafts = new DraftStore(backend);
    drafts.edit(1, BOB, '   ');
    vi.advanceTimersByTime(DRAFT_SAVE_MS);
    expect(drafts.bodies.size).toBe(0);
  });

  it('flush keeps every waiting draft now', () => {
    const backend = new FakeBackend();
    const drafts = new DraftStore(backend);
    drafts.edit(1, BOB, 'Hola');
    drafts.flush();
    expect(backend.called('setDraft')).toEqual([[1, BOB, 'Hola']]);
    vi.advanceTimersByTime(DRAFT_SAVE_MS);
    expect(backend.called('setDraft')).toHaveLength(1);
  });
});

describe('drafts in the app', () => {
  async function started(kept: { account_id: number; chat: string; body: string }[]) {
    const backend = new FakeBackend();
    for (const d of kept) backend.draftBodies.set(`${d.account_id} ${d.chat}`, d);
    const app = new AppStore(backend);
    await app.start();
    await flush();
    await app.signIn.login(request);
    return { app, backend };
  }

  it('restores each chat\'s and room\'s draft at start, per account', async () => {
    const { app } = await started([
      { account_id: 1, chat: BOB, body: 'unsent to bob' },
      { account_id: 2, chat: BOB, body: 'from the other account' },
      { account_id: 1, chat: FAMILY, body: 'unsent to the family' },
    ]);
    expect(app.chats.open(1, BOB)?.draft).toBe('unsent to bob');
    expect(app.drafts.get(2, BOB)).toBe('from the other account');
    app.rooms.openJoin(1, 'me@example.org', `xmpp:${FAMILY}?join`);
    expect(app.rooms.show(1, FAMILY).draft).toBe('unsent to the family');
  });

  it('a chat opened before the drafts arrive gets its draft, unless the user typed', async () => {
    const backend = new FakeBackend();
    backend.draftBodies.set(`1 ${BOB}`, { account_id: 1, chat: BOB, body: 'kept' });
    backend.draftBodies.set(`1 carol@example.org`, { account_id: 1, chat: 'carol@example.org', body: 'kept too' });
    const app = new AppStore(backend);
    const bob = app.chats.open(1, BOB)!;
    const carol = app.chats.open(1, 'carol@example.org')!;
    carol.draft = 'typed now';
    app.rich.typed(carol);
    await app.loadDrafts();
    expect(bob.draft).toBe('kept');
    expect(carol.draft).toBe('typed now');
  });

  it('typing keeps the draft, the buddy list sees it, sending clears it; an edit is no draft', async () => {
    const { app, backend } = await started([]);
    const chat = app.chats.open(1, BOB)!;
    await flush();
    chat.draft = 'Hola Bob';
    app.rich.typed(chat);
    expect(app.drafts.get(1, BOB)).toBe('Hola Bob');
    vi.advanceTimersByTime(DRAFT_SAVE_MS);
    expect(backend.called('setDraft')).toEqual([[1, BOB, 'Hola Bob']]);
    await app.chats.send(chat, chat.draft);
    chat.draft = '';
    expect(backend.called('setDraft').at(-1)).toEqual([1, BOB, '']);
    expect(app.drafts.get(1, BOB)).toBe('');
    // Editing a message puts its text in the composer, which is not a draft.
    await flush();
    vi.advanceTimersByTime(200);
    await flush();
    expect(app.rich.editLast(chat)).toBe(true);
    chat.draft = 'Hola Bob!';
    app.rich.typed(chat);
    vi.advanceTimersByTime(DRAFT_SAVE_MS);
    expect(app.drafts.get(1, BOB)).toBe('');
  });
});

describe('EmojiStore', () => {
  it('keeps the recent emoji and the skin tone in its storage, and reads them back', () => {
    let kept: string | null = null;
    const storage = { load: () => kept, save: (value: string | null) => void (kept = value) };
    const first = new EmojiStore(storage);
    first.use('🎉');
    first.use('👍');
    first.setSkinTone(3);
    const second = new EmojiStore(storage);
    expect(second.recent).toEqual(['👍', '🎉']);
    expect(second.skinTone).toBe(3);
    expect(second.quick).toEqual(['👍', '🎉', '❤️', '😂', '😮', '😢']);
  });

  it('ignores a damaged value', () => {
    const store = new EmojiStore({ load: () => '{not json', save: () => undefined });
    expect(store.recent).toEqual([]);
    const odd = new EmojiStore({ load: () => JSON.stringify({ recent: [1, '👍', 'x'.repeat(99)], skinTone: 9 }), save: () => undefined });
    expect([odd.recent, odd.skinTone]).toEqual([['👍'], 0]);
  });
});

describe('DraftStore.kept', () => {
  it('is false while a draft waits or is on its way, true once the backend has it', async () => {
    const backend = new FakeBackend();
    const drafts = new DraftStore(backend);
    expect(drafts.kept(1, BOB)).toBe(true);
    drafts.edit(1, BOB, 'Hola');
    expect(drafts.kept(1, BOB)).toBe(false);
    vi.advanceTimersByTime(DRAFT_SAVE_MS);
    expect(drafts.kept(1, BOB)).toBe(false);
    await flush();
    expect(drafts.kept(1, BOB)).toBe(true);
  });
});
