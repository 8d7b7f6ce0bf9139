import { describe, expect, it, vi } from 'vitest';
import { request } from '$lib/testing/apps';
import { FakeBackend, occupant, roomLine } from '$lib/testing/backend';
import { message, plain } from '$lib/testing/fixtures';
import { flush, useFakeTime } from '$lib/testing/time';
import { AppStore } from './app.svelte';
import { ContextMenuStore, menuItems, type MenuEffects } from './contextmenu.svelte';
import { HIGHLIGHT_MS, JUMP_MAX_PAGES, insertEmoji } from './rich.svelte';

useFakeTime();

const BOB = 'bob@example.org';
const FAMILY = 'family@conference.example.org';

/** Bob's chat open, with `count` messages (every third one ours), its first page loaded. */
async function inChat(count = 8) {
  const backend = new FakeBackend();
  backend.history.set(
    BOB,
    Array.from({ length: count }, (_, i) => message(i + 1, i % 3 === 1 ? { direction: 'out', state: 'delivered', body: `ours ${i + 1}` } : {})),
  );
  const app = new AppStore(backend);
  await app.start();
  await app.signIn.login(request);
  const chat = app.chats.open(1, BOB)!;
  await flush();
  return { app, backend, chat };
}

/** Lets queued channel updates reach the chat (they wait for a frame or a timer). */
async function settle() {
  await flush();
  vi.advanceTimersByTime(200);
  await flush();
}

describe('RichStore: corrections', () => {
  it('Up in an empty composer edits our last message; Enter sends the edit; the draft comes back', async () => {
    const { app, backend, chat } = await inChat();
    // The page holds 6, 7, 8; ours is 5 (not loaded) and 8? 8 % 3 === 1 is index 7: id 8 is ours.
    const last = chat.messages.findLast((m) => m.direction === 'out')!;
    expect(app.rich.composerKey(chat, 'ArrowUp')).toBe(true);
    expect(chat.editing?.id).toBe(last.id);
    expect(chat.draft).toBe(last.body);
    chat.draft = 'fixed text';
    expect(await app.rich.submitEdit(chat)).toBe(true);
    expect(backend.called('editMessage')).toEqual([[1, { kind: 'chat', id: last.id }, 'fixed text']]);
    expect(chat.editing).toBeNull();
    expect(chat.draft).toBe('');
    await settle();
    const shown = chat.messages.find((m) => m.id === last.id)!;
    expect([shown.body, shown.rich.edited]).toEqual(['fixed text', true]);
  });

  it('Up does nothing with text in the composer; Escape ends the edit and gives the draft back', async () => {
    const { app, chat } = await inChat();
    chat.draft = 'half a thought';
    expect(app.rich.composerKey(chat, 'ArrowUp')).toBe(false);
    const ours = chat.messages.findLast((m) => m.direction === 'out')!;
    app.rich.act(chat, ours, 'edit');
    expect(chat.draft).toBe(ours.body);
    expect(app.rich.composerKey(chat, 'Escape')).toBe(true);
    expect([chat.editing, chat.draft]).toEqual([null, 'half a thought']);
    expect(app.rich.composerKey(chat, 'Escape')).toBe(false);
  });

  it('an unchanged or blank edit sends nothing', async () => {
    const { app, backend, chat } = await inChat();
    app.rich.editLast(chat);
    await app.rich.submitEdit(chat);
    app.rich.editLast(chat);
    chat.draft = '  ';
    await app.rich.submitEdit(chat);
    expect(backend.called('editMessage')).toEqual([]);
    expect(chat.editing).toBeNull();
  });

  it('shows the earlier versions of an edited message', async () => {
    const { app, backend, chat } = await inChat();
    const ours = chat.messages.findLast((m) => m.direction === 'out')!;
    await backend.editMessage(1, { kind: 'chat', id: ours.id }, 'second');
    await settle();
    const edited = chat.messages.find((m) => m.id === ours.id)!;
    expect(app.rich.actions(chat, edited)).toContain('versions');
    await app.rich.showVersions(chat, edited);
    expect(app.rich.versions?.texts).toEqual([ours.body]);
  });
});

describe('RichStore: reactions', () => {
  it('sends our whole new set: a chip adds to it or takes back, and the emoji becomes recent', async () => {
    const { app, backend, chat } = await inChat();
    const theirs = chat.messages.findLast((m) => m.direction === 'in')!;
    await app.rich.toggle(chat, theirs, '🎉');
    await settle();
    const once = chat.messages.find((m) => m.id === theirs.id)!;
    expect(once.rich.reactions).toEqual([{ emoji: '🎉', by: ['me@example.org'], ours: true }]);
    await app.rich.toggle(chat, once, '👍');
    await settle();
    const twice = chat.messages.find((m) => m.id === theirs.id)!;
    await app.rich.toggle(chat, twice, '🎉');
    expect(backend.called('react').map((args) => args[2])).toEqual([['🎉'], ['🎉', '👍'], ['👍']]);
    expect(app.emoji.quick.slice(0, 2)).toEqual(['👍', '🎉']);
  });

  it('the quick row in the menu toggles, More… opens the picker, which adds', async () => {
    const { app, backend, chat } = await inChat();
    const theirs = chat.messages.findLast((m) => m.direction === 'in')!;
    app.rich.act(chat, theirs, 'react', '😂');
    await settle();
    app.rich.act(chat, theirs, 'reactMore');
    expect(app.rich.picker?.item?.id).toBe(theirs.id);
    app.rich.picker = { thread: chat, item: chat.messages.find((m) => m.id === theirs.id)! };
    app.rich.pick('🙏');
    expect(app.rich.picker).toBeNull();
    expect(backend.called('react').map((args) => args[2])).toEqual([['😂'], ['😂', '🙏']]);
  });

  it('the picker writes in the composer when opened from it', async () => {
    const { app, chat } = await inChat();
    chat.draft = 'hello';
    app.rich.openPicker(chat);
    app.rich.pick('👋');
    expect(chat.draft).toBe('hello 👋');
    // At the cursor, where the user left it.
    chat.draft = 'see you  at 5';
    app.rich.openPicker(chat, 8);
    app.rich.pick('🙂');
    expect(chat.draft).toBe('see you 🙂 at 5');
    expect(insertEmoji('hi', '👋', 0)).toBe('👋hi');
    expect(insertEmoji('hi', '👋', 99)).toBe('hi 👋');
  });
});

describe('RichStore: replies', () => {
  it('Reply puts the message over the composer; sending answers it and ends the reply', async () => {
    const { app, backend, chat } = await inChat();
    const theirs = chat.messages.findLast((m) => m.direction === 'in')!;
    app.rich.act(chat, theirs, 'reply');
    expect(chat.replyTo?.id).toBe(theirs.id);
    expect(await app.chats.send(chat, 'Sure')).toBe(true);
    expect(backend.called('sendReply')).toEqual([[1, BOB, 'Sure', theirs.id]]);
    expect(chat.replyTo).toBeNull();
    const sent = chat.messages.at(-1)!;
    expect(sent.rich.reply?.target).toBe(theirs.id);
    // The next message is not a reply.
    await app.chats.send(chat, 'And more');
    expect(backend.called('sendMessage').at(-1)).toEqual([1, BOB, 'And more']);
  });

  it('Escape cancels the reply', async () => {
    const { app, chat } = await inChat();
    app.rich.reply(chat, chat.messages[0]!);
    expect(app.rich.composerKey(chat, 'Escape')).toBe(true);
    expect(chat.replyTo).toBeNull();
  });

  it('jumping to an original that is not loaded loads older pages until it is, then highlights it', async () => {
    const { app, backend, chat } = await inChat(20);
    expect(chat.messages.some((m) => m.id === 2)).toBe(false);
    const id = await app.rich.jumpTo(chat, { id: 'x', to: null, target: 2, quote: 'message 2', author: BOB });
    expect(id).toBe(2);
    expect(chat.messages.some((m) => m.id === 2)).toBe(true);
    expect(backend.called('loadOlder').length).toBeGreaterThan(1);
    expect(chat.highlight).toBe(2);
    vi.advanceTimersByTime(HIGHLIGHT_MS);
    expect(chat.highlight).toBeNull();
  });

  it('gives up at the start of the history or after a bound, and says it was not found', async () => {
    const { app, backend, chat } = await inChat(6);
    expect(await app.rich.jumpTo(chat, { id: 'x', to: null, target: 999, quote: 'q', author: null })).toBeNull();
    expect(app.notices.list.at(-1)?.key).toBe('message.reply.notFound');
    expect(backend.called('loadOlder').length).toBeLessThanOrEqual(JUMP_MAX_PAGES);
    // Not stored here at all: no page is loaded for it.
    const before = backend.called('loadOlder').length;
    expect(await app.rich.jumpTo(chat, { id: 'y', to: null, target: null, quote: null, author: null })).toBeNull();
    expect(backend.called('loadOlder').length).toBe(before);
  });
});

describe('RichStore: deletions', () => {
  it('delete for everyone waits for the confirmation, then the message is a tombstone', async () => {
    const { app, backend, chat } = await inChat();
    const ours = chat.messages.findLast((m) => m.direction === 'out')!;
    app.rich.act(chat, ours, 'retract');
    expect(backend.called('retractMessage')).toEqual([]);
    expect(app.rich.confirm?.kind).toBe('retract');
    await app.rich.confirmDelete();
    expect(backend.called('retractMessage')).toEqual([[1, { kind: 'chat', id: ours.id }]]);
    expect(app.rich.confirm).toBeNull();
    await settle();
    const gone = chat.messages.find((m) => m.id === ours.id)!;
    expect([gone.body, gone.rich.retracted]).toEqual(['', true]);
    expect(app.rich.actions(chat, gone)).toEqual(['hide']);
  });

  it('a refused deletion keeps the dialog with the reason', async () => {
    const { app, backend, chat } = await inChat();
    backend.failAct = { code: 'not_connected', message: 'offline' };
    app.rich.act(chat, chat.messages.findLast((m) => m.direction === 'out')!, 'retract');
    await app.rich.confirmDelete();
    expect(app.rich.confirm?.error?.code).toBe('not_connected');
    expect(app.rich.confirm?.busy).toBe(false);
  });

  it('delete for me hides the message at once', async () => {
    const { app, backend, chat } = await inChat();
    const theirs = chat.messages[0]!;
    app.rich.act(chat, theirs, 'hide');
    await settle();
    expect(backend.called('hideMessage')).toEqual([[1, { kind: 'chat', id: theirs.id }]]);
    expect(chat.messages.find((m) => m.id === theirs.id)?.rich.hidden).toBe(true);
  });
});

describe('RichStore: rooms', () => {
  async function inRoom(role: 'moderator' | 'participant', moderation: boolean) {
    const backend = new FakeBackend();
    backend.roomHistory.set(FAMILY, [roomLine(1), roomLine(2, { direction: 'out', nick: 'me', state: 'sent' })]);
    const app = new AppStore(backend);
    await app.start();
    await app.signIn.login(request);
    app.rooms.openJoin(1, 'me@example.org', `xmpp:${FAMILY}?join`);
    await app.rooms.submitJoin();
    backend.emitCore({ type: 'room_joined', account: 1, room: FAMILY, nick: 'me', occupants: [occupant('me', { role }), occupant('bob')], subject: null, added: 2 });
    await flush();
    const room = app.rooms.show(1, FAMILY);
    room.info = {
      name: null, description: null, members_only: false, non_anonymous: false, password_protected: false, public: true,
      persistent: true, moderated: false, archived: true, subject_changeable: false, occupants: 2, moderation,
    };
    await flush();
    return { app, backend, room };
  }

  it('offers moderation to a moderator where the room offers it, and moderates with the reason', async () => {
    const { app, backend, room } = await inRoom('moderator', true);
    const bobs = room.lines.find((l) => l.direction === 'in')!;
    const mine = room.lines.find((l) => l.direction === 'out')!;
    expect(app.rich.actions(room, bobs)).toContain('moderate');
    expect(app.rich.actions(room, mine)).not.toContain('moderate');
    app.rich.act(room, bobs, 'moderate');
    app.rich.confirm!.reason = ' spam ';
    await app.rich.confirmDelete();
    expect(backend.called('moderateLine')).toEqual([[1, bobs.id, 'spam']]);
    await flush();
    const gone = room.lines.find((l) => l.id === bobs.id)!;
    expect([gone.rich.retracted, gone.rich.moderated]).toEqual([true, true]);
  });

  it('offers no moderation to a participant, nor where the room has none', async () => {
    for (const [role, moderation] of [['participant', true], ['moderator', false]] as const) {
      const { app, room } = await inRoom(role, moderation);
      expect(app.rich.actions(room, room.lines[0]!)).not.toContain('moderate');
    }
  });

  it('a reply in a room goes through sendRoomReply; Up edits our last line', async () => {
    const { app, backend, room } = await inRoom('participant', false);
    const bobs = room.lines.find((l) => l.direction === 'in')!;
    app.rich.reply(room, bobs);
    await app.rooms.send(room, 'yes');
    expect(backend.called('sendRoomReply')).toEqual([[1, FAMILY, 'yes', bobs.id]]);
    expect(room.replyTo).toBeNull();
    expect(app.rich.editLast(room)).toBe(true);
    expect(room.editing?.body).toBe('yes');
    room.draft = 'yes!';
    await app.rich.submitEdit(room);
    expect(backend.called('editMessage').at(-1)).toEqual([1, { kind: 'room', id: room.lines.at(-1)!.id }, 'yes!']);
  });
});

describe('the message menu', () => {
  it('starts with the message actions, the quick row standing for React, then the usual items', async () => {
    const { app, chat } = await inChat();
    const theirs = chat.messages.findLast((m) => m.direction === 'in')!;
    const menu = app.rich.menu(chat, theirs)!;
    const items = menuItems({ selection: '', link: null, editable: false, message: menu });
    expect(items.map((i) => i.emoji ?? i.action)).toEqual(['reply', '👍', '❤️', '😂', '😮', '😢', '🙏', 'reactMore', 'copyText', 'hide', 'selectAll']);
    expect(items.find((i) => i.action === 'selectAll')?.separated).toBe(true);
  });

  it('has no menu for a hidden message, only delete for me for a deleted one', async () => {
    const { app, chat } = await inChat();
    expect(app.rich.menu(chat, message(1, { rich: plain({ hidden: true }) }))).toBeNull();
    expect(app.rich.menu(chat, message(1, { rich: plain({ retracted: true }) }))?.actions).toEqual(['hide']);
  });

  it('runs a quick reaction, Copy text and the other actions through the effects', async () => {
    const store = new ContextMenuStore();
    const done: string[] = [];
    const effects: MenuEffects = {
      copyText: (text) => void done.push(`copy:${text}`),
      cut: () => undefined,
      openLink: () => undefined,
      selectAll: () => undefined,
      act: (action, emoji) => void done.push(`${action}:${emoji ?? ''}`),
    };
    const message = { actions: ['reply', 'react', 'copyText'] as const, quick: ['👍', '❤️'], ours: ['❤️'], text: 'hola' };
    const target = { selection: '', link: null, editable: false, message: { ...message, actions: [...message.actions] } };
    store.open(target, 0, 0, effects, true);
    expect(store.menu?.items.filter((i) => i.pressed).map((i) => i.emoji)).toEqual(['❤️']);
    await store.run('react', '❤️');
    store.open(target, 0, 0, effects, true);
    await store.run('copyText');
    store.open(target, 0, 0, effects, true);
    store.move(1);
    await store.runActive();
    expect(done).toEqual(['react:❤️', 'copy:hola', 'react:👍']);
  });
});
