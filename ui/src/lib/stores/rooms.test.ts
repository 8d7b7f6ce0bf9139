import { describe, expect, it } from 'vitest';
import { request } from '$lib/testing/apps';
import { FakeBackend, occupant, roomLine } from '$lib/testing/backend';
import { flush, useFakeTime } from '$lib/testing/time';
import { AppStore } from './app.svelte';

useFakeTime();

const FAMILY = 'family@conference.example.org';

async function setup() {
  const backend = new FakeBackend();
  backend.roomHistory.set(
    FAMILY,
    Array.from({ length: 5 }, (_, i) => roomLine(i + 1)),
  );
  const app = new AppStore(backend);
  await app.start();
  await app.signIn.login(request);
  return { app, backend };
}

/** Joined to the family room through the form, with bob and carol in it. */
async function joined() {
  const { app, backend } = await setup();
  app.rooms.openJoin(1, 'me@example.org', `xmpp:${FAMILY}?join`);
  await app.rooms.submitJoin();
  backend.emitCore({
    type: 'room_joined',
    account: 1,
    room: FAMILY,
    nick: 'me',
    occupants: [occupant('me', { affiliation: 'owner', role: 'moderator' }), occupant('bob'), occupant('carol', { affiliation: 'member' })],
    subject: 'Sunday lunch',
    added: 5,
  });
  await flush();
  const room = app.rooms.find(1, FAMILY)!;
  return { app, backend, room };
}

describe('RoomsStore', () => {
  it('loads the kept rooms with their unread lines and mention markers at login', async () => {
    const backend = new FakeBackend();
    backend.roomEntries.set(1, [
      {
        room: { id: 1, account_id: 1, jid: FAMILY, nick: 'me', name: 'Family', subject: null, autojoin: true, bookmarked: true },
        notify: 'all',
        unread: 2,
        mentioned: true,
      },
    ]);
    const app = new AppStore(backend);
    await app.start();
    await app.signIn.login(request);
    const room = app.rooms.find(1, FAMILY)!;
    expect([room.title, room.notify, room.unread, room.mentioned, room.phase]).toEqual(['Family', 'all', 2, true, 'joining']);
  });

  it('prefills the nick from the account, reads a join link, and opens the room once joined', async () => {
    const { app, backend, room } = await joined();
    expect(backend.called('joinRoom')).toEqual([[1, FAMILY, 'me', null]]);
    expect(app.rooms.joining).toBeNull();
    expect(app.rooms.active).toBe(room);
    expect([room.phase, room.subject, room.occupants.size]).toEqual(['joined', 'Sunday lunch', 3]);
    // The room in view is what the backend counts as looked at.
    expect(backend.called('focusChat').at(-1)).toEqual([{ account: 1, peer: FAMILY }]);
    expect(room.lines.map((l) => l.id)).toEqual([3, 4, 5]);
  });

  it('offers the suggested nick when ours is taken, with the reason, not an error', async () => {
    const { app, backend } = await setup();
    app.rooms.openJoin(1, 'me@example.org', FAMILY);
    await app.rooms.submitJoin();
    backend.emitCore({ type: 'room_nick_taken', account: 1, room: FAMILY, nick: 'me', suggested: 'me_2' });
    const form = app.rooms.joining!;
    expect([form.nick, form.nickTaken, form.busy, form.error, form.refused]).toEqual(['me_2', 'me', false, null, null]);
    await app.rooms.submitJoin();
    expect(backend.called('joinRoom').at(-1)).toEqual([1, FAMILY, 'me_2', null]);
  });

  it('asks for the password when the room wants one, and shows a refusal', async () => {
    const { app, backend } = await setup();
    app.rooms.openJoin(1, 'me@example.org', FAMILY);
    await app.rooms.submitJoin();
    backend.emitCore({ type: 'room_password_required', account: 1, room: FAMILY });
    expect(app.rooms.joining!.needsPassword).toBe(true);
    app.rooms.joining!.password = 'secret';
    await app.rooms.submitJoin();
    expect(backend.called('joinRoom').at(-1)).toEqual([1, FAMILY, 'me', 'secret']);
    backend.emitCore({ type: 'room_left', account: 1, room: FAMILY, reason: { kind: 'refused', condition: 'forbidden' } });
    expect(app.rooms.joining!.refused).toBe('forbidden');
  });

  it('refuses what is not a room address before asking the backend', async () => {
    const { app, backend } = await setup();
    app.rooms.openJoin(1, 'me@example.org', 'not a room');
    await app.rooms.submitJoin();
    expect(app.rooms.joining!.badAddress).toBe(true);
    expect(backend.called('joinRoom')).toEqual([]);
  });

  it('counts unread lines and the mention marker per room, and the window title with them', async () => {
    const { app, backend } = await setup();
    app.rooms.openJoin(1, 'me@example.org', FAMILY);
    backend.emitShell({ type: 'room_unread_changed', room: { account: 1, peer: FAMILY }, count: 3, mentioned: true, total: 3 });
    const room = app.rooms.find(1, FAMILY)!;
    expect([room.unread, room.mentioned, app.unread.title]).toEqual([3, true, 'Charla (3)']);
  });

  it('takes lines from its channel, pending then sent, and pages older ones', async () => {
    const { app, backend, room } = await joined();
    const channel = backend.roomChannels.get(FAMILY)!;
    await app.rooms.send(room, 'hola');
    const mine = room.lines.at(-1)!;
    expect([mine.body, mine.state]).toEqual(['hola', 'pending']);
    channel({ type: 'lines', lines: [{ ...mine, state: 'sent' }, roomLine(mine.id + 1, { body: 'me: ok' })] });
    expect(room.lines.slice(-2).map((l) => [l.body, l.state])).toEqual([
      ['hola', 'sent'],
      ['me: ok', 'received'],
    ]);
    // A late copy of the pending row does not move ours back.
    channel({ type: 'updated', line: mine });
    expect(room.lines.find((l) => l.id === mine.id)!.state).toBe('sent');
    expect(await app.rooms.loadOlder(room)).toBe(true);
    expect(room.lines[0]!.id).toBe(1);
  });

  it('folds joins and leaves into one system line each, and shows kicks and the subject', async () => {
    const { backend, room } = await joined();
    for (const nick of ['dan', 'eve', 'fay']) {
      backend.emitCore({ type: 'occupant_changed', account: 1, room: FAMILY, change: { kind: 'joined', occupant: occupant(nick) } });
    }
    backend.emitCore({ type: 'occupant_changed', account: 1, room: FAMILY, change: { kind: 'left', nick: 'bob', reason: { kind: 'kicked', reason: 'spam' } } });
    backend.emitCore({ type: 'occupant_changed', account: 1, room: FAMILY, change: { kind: 'left', nick: 'eve', reason: null } });
    backend.emitCore({ type: 'occupant_changed', account: 1, room: FAMILY, change: { kind: 'left', nick: 'fay', reason: null } });
    backend.emitCore({ type: 'room_subject', account: 1, room: FAMILY, subject: 'Monday' });
    expect(room.system.map((s) => s.what)).toEqual([
      { kind: 'joined', nicks: ['dan', 'eve', 'fay'] },
      { kind: 'kicked', nick: 'bob', reason: 'spam' },
      { kind: 'left', nicks: ['eve', 'fay'] },
      { kind: 'subject', subject: 'Monday' },
    ]);
    expect([...room.occupants.keys()].sort()).toEqual(['carol', 'dan', 'me']);
  });

  it('shows our own kick in the view and offers to join again', async () => {
    const { app, backend, room } = await joined();
    backend.emitCore({ type: 'room_left', account: 1, room: FAMILY, reason: { kind: 'kicked', reason: 'be nice' } });
    expect([room.phase, room.occupants.size]).toEqual(['out', 0]);
    expect(room.system.at(-1)!.what).toEqual({ kind: 'self_kicked', reason: 'be nice' });
    await app.rooms.rejoin(room);
    expect(backend.called('joinRoom').at(-1)).toEqual([1, FAMILY, 'me', null]);
    expect(room.phase).toBe('joining');
  });

  it('leaves a room, or leaves and forgets it; a chat in view replaces the room', async () => {
    const { app, backend, room } = await joined();
    await app.rooms.leave(room, false);
    expect(backend.called('leaveRoom')).toEqual([[1, FAMILY, false]]);
    expect([room.phase, app.rooms.find(1, FAMILY) !== undefined]).toEqual(['out', true]);
    await app.rooms.leave(room, true);
    expect(app.rooms.find(1, FAMILY)).toBeUndefined();
    expect(app.rooms.active).toBeNull();
    expect(backend.called('closeRoom')).toEqual([[1, FAMILY]]);
    expect(backend.called('focusChat').at(-1)).toEqual([null]);
  });

  it('gives way to a chat, and a notification click on a room line opens the room', async () => {
    const { app, backend, room } = await joined();
    app.chats.open(1, 'bob@example.org');
    expect(app.rooms.active).toBeNull();
    expect(backend.called('focusChat').at(-1)).toEqual([{ account: 1, peer: 'bob@example.org' }]);
    backend.emitShell({ type: 'open_chat', chat: { account: 1, peer: FAMILY } });
    expect(app.rooms.active).toBe(room);
    expect(app.chats.tabs.map((t) => t.peer)).toEqual(['bob@example.org']);
  });

  it('keeps the notify setting it sets', async () => {
    const { app, backend, room } = await joined();
    await app.rooms.setNotify(room, 'nothing');
    expect(room.notify).toBe('nothing');
    expect(backend.called('setRoomNotify')).toEqual([[1, FAMILY, 'nothing']]);
  });
});

describe('RoomsStore search', () => {
  it('finds rooms by address or name for the quick switcher', async () => {
    const { app } = await joined();
    app.rooms.openJoin(1, 'me@example.org', 'team@conference.example.org');
    await app.rooms.submitJoin();
    expect(app.rooms.search('').map((r) => r.jid)).toEqual([FAMILY, 'team@conference.example.org']);
    expect(app.rooms.search('TEAM').map((r) => r.jid)).toEqual(['team@conference.example.org']);
  });
});

describe('RoomsStore: new groups and invitations', () => {
  it('creates a private group named from the form, then invites the contacts chosen once in it', async () => {
    const { app, backend } = await setup();
    app.rooms.openCreate(1, 'me@example.org');
    app.rooms.renameCreate('Família Pérez', 'me@example.org');
    expect(app.rooms.creating?.address).toBe('familia-perez@conference.example.org');
    app.rooms.creating!.invite = ['bob@example.org', 'carol@example.org'];
    await app.rooms.submitCreate();
    expect(backend.called('createRoom')).toEqual([
      [1, 'familia-perez@conference.example.org', 'me', { kind: 'private_group', name: 'Família Pérez', description: null }],
    ]);
    expect(backend.called('inviteToRoom')).toEqual([]);
    backend.emitCore({
      type: 'room_joined',
      account: 1,
      room: 'familia-perez@conference.example.org',
      nick: 'me',
      occupants: [occupant('me')],
      subject: null,
      added: 0,
    });
    await flush();
    expect(backend.called('inviteToRoom')).toEqual([
      [1, 'familia-perez@conference.example.org', 'bob@example.org', null],
      [1, 'familia-perez@conference.example.org', 'carol@example.org', null],
    ]);
    expect(app.rooms.creating).toBeNull();
    expect(app.rooms.active?.title).toBe('Família Pérez');
    // As the backend answered: a private group notifies every line.
    expect(app.rooms.active?.notify).toBe('all');
  });

  it('an address typed by hand stays; a bad one is refused before anything is sent', async () => {
    const { app, backend } = await setup();
    app.rooms.openCreate(1, 'me@example.org');
    app.rooms.creating!.address = 'not a room';
    app.rooms.creating!.addressEdited = true;
    app.rooms.renameCreate('Team', 'me@example.org');
    expect(app.rooms.creating?.address).toBe('not a room');
    await app.rooms.submitCreate();
    expect(app.rooms.creating?.badAddress).toBe(true);
    expect(backend.called('createRoom')).toEqual([]);
  });

  it('an invitation is offered, never joined by itself; accepting fills in "Join a group"', async () => {
    const { app, backend } = await setup();
    const invite = {
      type: 'room_invite',
      account: 1,
      room: FAMILY,
      from: 'bob@example.org',
      reason: 'Sunday lunch',
      password: 'cake',
      stranger: false,
    } as const;
    backend.emitCore({ ...invite, reason: 'old' });
    backend.emitCore(invite);
    backend.emitCore({ ...invite, from: 'mallory@evil.example', stranger: true });
    // One offer per room, the newest, in the Groups section; a stranger's goes to the message
    // requests and hides nothing.
    expect(app.rooms.offers).toEqual([
      { account: 1, room: FAMILY, from: 'bob@example.org', reason: 'Sunday lunch', password: 'cake', stranger: false },
    ]);
    expect(app.rooms.strangerInvitations.map((i) => i.from)).toEqual(['mallory@evil.example']);
    expect(backend.called('joinRoom')).toEqual([]);
    app.rooms.acceptInvitation(app.rooms.offers[0]!, 'me@example.org');
    expect(app.rooms.offers).toEqual([]);
    expect(app.rooms.joining).toMatchObject({ address: FAMILY, password: 'cake', nick: 'me' });
    expect(backend.called('joinRoom')).toEqual([]);
  });
});

describe('a room forgotten on another device', () => {
  it('goes from the list and out of view when the core says it was forgotten', async () => {
    const { app, backend, room } = await joined();
    expect(app.rooms.active).toBe(room);
    backend.emitCore({ type: 'room_left', account: 1, room: FAMILY, reason: { kind: 'forgotten' } });
    await flush();
    expect(app.rooms.find(1, FAMILY)).toBeUndefined();
    expect(app.rooms.active).toBeNull();
    expect(backend.called('closeRoom')).toEqual([[1, FAMILY]]);
  });
});

describe('a room flood', () => {
  it('takes 10,000 lines and a storm of 1,000 joins and leaves as two system lines, members as they were', async () => {
    const { backend, room } = await joined();
    const channel = backend.roomChannels.get(FAMILY)!;
    const before = [...room.occupants.keys()].sort();
    const had = room.lines.length;
    for (let i = 0; i < 1000; i++) {
      backend.emitCore({ type: 'occupant_changed', account: 1, room: FAMILY, change: { kind: 'joined', occupant: occupant(`n${i}`) } });
    }
    // The core sends a flood in batches of lines.
    for (let batch = 0; batch < 100; batch++) {
      channel({ type: 'lines', lines: Array.from({ length: 100 }, (_, i) => roomLine(1000 + batch * 100 + i)) });
    }
    for (let i = 0; i < 1000; i++) {
      backend.emitCore({ type: 'occupant_changed', account: 1, room: FAMILY, change: { kind: 'left', nick: `n${i}`, reason: null } });
    }
    expect(room.system.map((s) => [s.what.kind, 'nicks' in s.what ? s.what.nicks.length : 0])).toEqual([
      ['joined', 1000],
      ['left', 1000],
    ]);
    expect(room.lines).toHaveLength(had + 10_000);
    expect(room.lines.every((l, i) => i === 0 || l.id > room.lines[i - 1]!.id)).toBe(true);
    expect([...room.occupants.keys()].sort()).toEqual(before);
  });
});
