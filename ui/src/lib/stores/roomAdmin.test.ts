import { describe, expect, it } from 'vitest';
import type { Occupant } from '$lib/contract';
import { request } from '$lib/testing/apps';
import { FakeBackend, occupant as someone } from '$lib/testing/backend';
import { flush, useFakeTime } from '$lib/testing/time';
import { memberActions, matchesRoom } from '$lib/util/rooms';
import { AppStore } from './app.svelte';

useFakeTime();

const FAMILY = 'family@conference.example.org';

/** An occupant whose address the room shows (a non-anonymous room). */
function occupant(nick: string, over: Partial<Occupant> = {}): Occupant {
  return someone(nick, { real_jid: `${nick}@example.org`, ...over });
}

/** Signed in and in the family room as `me` (owner and moderator unless `own` says otherwise). */
async function inRoom(own: Partial<Occupant> = { affiliation: 'owner', role: 'moderator' }) {
  const backend = new FakeBackend();
  backend.roomInfos.set(FAMILY, {
    name: 'Family',
    description: null,
    members_only: true,
    non_anonymous: true,
    password_protected: false,
    public: false,
    persistent: true,
    moderated: false,
    archived: true,
    subject_changeable: false,
    occupants: 3,
    moderation: false,
  });
  const app = new AppStore(backend);
  await app.start();
  await app.signIn.login(request);
  app.rooms.openJoin(1, 'me@example.org', FAMILY);
  await app.rooms.submitJoin();
  backend.emitCore({
    type: 'room_joined',
    account: 1,
    room: FAMILY,
    nick: 'me',
    occupants: [occupant('me', own), occupant('bob'), occupant('carol', { affiliation: 'member', role: 'visitor' })],
    subject: null,
    added: 0,
  });
  await flush();
  const room = app.rooms.find(1, FAMILY)!;
  return { app, backend, room };
}

describe('memberActions', () => {
  const me = (over: Partial<Occupant>) => occupant('me', over);
  it('offers a moderator voice and kicks, and an owner every affiliation, never on ourselves', () => {
    const owner = me({ affiliation: 'owner', role: 'moderator' });
    expect(memberActions(owner, occupant('bob'))).toEqual(['mute', 'kick', 'member', 'admin', 'owner', 'ban']);
    expect(memberActions(owner, occupant('carol', { role: 'visitor', affiliation: 'member' }))).toEqual([
      'voice',
      'kick',
      'unmember',
      'admin',
      'owner',
      'ban',
    ]);
    expect(memberActions(owner, owner)).toEqual([]);
  });

  it('gives a plain moderator no affiliations, an admin no admins or owners, a participant nothing', () => {
    const moderator = me({ role: 'moderator', affiliation: 'member' });
    expect(memberActions(moderator, occupant('bob'))).toEqual(['mute', 'kick']);
    expect(memberActions(moderator, occupant('ann', { affiliation: 'admin', role: 'moderator' }))).toEqual([]);
    const admin = me({ role: 'moderator', affiliation: 'admin' });
    expect(memberActions(admin, occupant('bob'))).toEqual(['mute', 'kick', 'member', 'ban']);
    expect(memberActions(admin, occupant('zoe', { affiliation: 'owner', role: 'moderator' }))).toEqual([]);
    expect(memberActions(me({}), occupant('bob'))).toEqual([]);
    expect(memberActions(undefined, occupant('bob'))).toEqual([]);
  });

  it('offers no membership or ban for an occupant whose address the room hides', () => {
    const owner = me({ affiliation: 'owner', role: 'moderator' });
    expect(memberActions(owner, occupant('anon', { real_jid: null }))).toEqual(['mute', 'kick']);
  });

  it('matches public rooms by name or address, ignoring case and accents', () => {
    const room = { jid: 'futbol@conference.example.org', name: 'Fútbol del viernes' };
    expect(matchesRoom(room, 'FUTBOL')).toBe(true);
    expect(matchesRoom(room, 'viernes')).toBe(true);
    expect(matchesRoom(room, 'conference')).toBe(true);
    expect(matchesRoom(room, 'tenis')).toBe(false);
    expect(matchesRoom(room, '  ')).toBe(true);
  });
});

describe('RoomAdminStore', () => {
  it("browses the service found by disco, sorted by name, and filters it", async () => {
    const { app, backend } = await inRoom();
    backend.publicRoomList.set('conference.example.org', [
      { jid: 'team@conference.example.org', name: 'Team' },
      { jid: 'futbol@conference.example.org', name: 'Fútbol' },
    ]);
    await app.roomAdmin.browse(1);
    expect(backend.called('publicRooms')).toEqual([[1, 'conference.example.org']]);
    expect(app.roomAdmin.directory?.phase).toBe('ready');
    expect(app.roomAdmin.browsed.map((r) => r.name)).toEqual(['Fútbol', 'Team']);
    app.roomAdmin.directory!.filter = 'futbol';
    expect(app.roomAdmin.browsed.map((r) => r.jid)).toEqual(['futbol@conference.example.org']);
  });

  it('says when the server has no group chat service, and when browsing fails', async () => {
    const { app, backend } = await inRoom();
    backend.roomServiceList = [];
    await app.roomAdmin.browse(1);
    expect(app.roomAdmin.directory?.phase).toBe('none');
    expect(backend.called('publicRooms')).toEqual([]);
  });

  it('asks the room for its info once joined; moderators may change the subject, others where it allows', async () => {
    const { app, backend, room } = await inRoom({ affiliation: 'member', role: 'participant' });
    expect(backend.called('roomInfo')).toEqual([[1, FAMILY]]);
    expect(room.info?.name).toBe('Family');
    expect(app.roomAdmin.canEditSubject(room)).toBe(false);
    room.info = { ...room.info!, subject_changeable: true };
    expect(app.roomAdmin.canEditSubject(room)).toBe(true);
    expect(await app.roomAdmin.setSubject(room, '  Lunch at 2  ')).toBeNull();
    expect(backend.called('setRoomSubject')).toEqual([[1, FAMILY, 'Lunch at 2']]);
    backend.failAdmin = { code: 'forbidden', message: 'no' };
    expect((await app.roomAdmin.setSubject(room, 'x'))?.code).toBe('forbidden');
  });

  it('carries out member actions through the room, with the reason for kicks and bans', async () => {
    const { app, backend, room } = await inRoom();
    const bob = room.occupants.get('bob')!;
    const carol = room.occupants.get('carol')!;
    app.roomAdmin.toggleMenu(room, 'carol');
    await app.roomAdmin.act(room, carol, 'voice');
    app.roomAdmin.toggleMenu(room, 'bob');
    app.roomAdmin.menu!.reason = ' spam ';
    await app.roomAdmin.act(room, bob, 'kick');
    expect(app.roomAdmin.menu).toBeNull();
    app.roomAdmin.toggleMenu(room, 'bob');
    await app.roomAdmin.act(room, bob, 'member');
    expect(backend.called('setOccupantRole')).toEqual([
      [1, FAMILY, 'carol', 'participant', null],
      [1, FAMILY, 'bob', 'none', 'spam'],
    ]);
    expect(backend.called('setAffiliation')).toEqual([[1, FAMILY, 'bob@example.org', 'member', null]]);
  });

  it('keeps the menu open with the explained refusal', async () => {
    const { app, backend, room } = await inRoom();
    backend.failAdmin = { code: 'forbidden', message: 'not allowed' };
    app.roomAdmin.toggleMenu(room, 'bob');
    await app.roomAdmin.act(room, room.occupants.get('bob')!, 'ban');
    expect(app.roomAdmin.menu?.error?.code).toBe('forbidden');
    expect(app.roomAdmin.menu?.busy).toBe(false);
  });

  it("opens an owner's settings with the lists, saves them, and adds and removes affiliations", async () => {
    const { app, backend, room } = await inRoom();
    expect(app.roomAdmin.isOwner(room)).toBe(true);
    backend.roomSettingsOf.set(FAMILY, { name: 'Family', description: '', members_only: true });
    backend.affiliationLists.set(`${FAMILY} owner`, [{ jid: 'me@example.org', affiliation: 'owner', nick: null, reason: null }]);
    await app.roomAdmin.openSettings(room);
    const form = app.roomAdmin.settings!;
    expect(form.loaded).toBe(true);
    expect(form.lists.owner.map((a) => a.jid)).toEqual(['me@example.org']);
    form.settings.name = ' Family Garcia ';
    await app.roomAdmin.saveSettings();
    expect(backend.called('setRoomSettings')).toEqual([[1, FAMILY, { name: 'Family Garcia', description: '', members_only: true }]]);
    expect(form.saved).toBe(true);
    expect(room.title).toBe('Family Garcia');
    form.adding = 'mallory@example.org';
    form.addAs = 'outcast';
    await app.roomAdmin.addAffiliation();
    expect(form.lists.outcast.map((a) => a.jid)).toEqual(['mallory@example.org']);
    expect(form.adding).toBe('');
    await app.roomAdmin.removeAffiliation(form.lists.outcast[0]!);
    expect(form.lists.outcast).toEqual([]);
    expect(backend.called('setAffiliation').map((c) => c[3])).toEqual(['outcast', 'none']);
  });

  it('shows a refused settings request as its error', async () => {
    const { app, backend, room } = await inRoom();
    backend.failAdmin = { code: 'forbidden', message: 'owners only' };
    await app.roomAdmin.openSettings(room);
    expect(app.roomAdmin.settings?.loaded).toBe(false);
    expect(app.roomAdmin.settings?.error?.code).toBe('forbidden');
  });
});

describe('private messages', () => {
  it('sends privately to the occupant chosen, and to the room again once cancelled', async () => {
    const { app, backend, room } = await inRoom();
    room.privateTo = 'bob';
    expect(await app.rooms.send(room, 'just you')).toBe(true);
    expect(backend.called('sendRoomPrivate')).toEqual([[1, FAMILY, 'bob', 'just you']]);
    expect(room.lines.at(-1)?.private_with).toBe('bob');
    room.privateTo = null;
    await app.rooms.send(room, 'hello all');
    expect(backend.called('sendRoomMessage')).toEqual([[1, FAMILY, 'hello all']]);
  });
});
