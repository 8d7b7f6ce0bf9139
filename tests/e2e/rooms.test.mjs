// Group chats in the window: alice joins (and so creates) a room from "Join a group", bob (the
// headless core as a peer) joins it; bob's line with alice's nick notifies and marks the room
// (unread count and mention marker) while another chat is open; alice answers and bob receives
// it; alice leaves and bob sees her go; after a restart (dark) the room and its lines are kept
// and "Join again" joins; alice makes a private group and invites bob, who is offered it and
// joins; screenshots of the room in light and dark (tests/e2e/screenshots/room-light.png,
// room-dark.png, kept in git for the README).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  App, Key, Peer, Sandbox, dunstctl, expectNoNotification, loginWithForm, openChat, readNotifications, tid, waitForNotification,
  waitForQuiet, waitUntil, withEvidence,
} from './lib/harness.mjs';

let sandbox;
let bob;
let app;
let dataDir;
let room;
const profile = `e2e-rooms-${process.pid}`;

before(async () => {
  sandbox = await Sandbox.start({ name: 'rooms-sandbox' });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'charla-e2e-rooms-'));
  room = `family@conference.${sandbox.jid('alice').split('@')[1]}`;
  [app, bob] = await Promise.all([
    App.start({ sandbox, dataDir, profile, name: 'rooms-light' }),
    Peer.start(sandbox, 'bob', { name: 'rooms-bob' }),
  ]);
  await loginWithForm(app, sandbox.jid('alice'), sandbox.password('alice'));
});

after(async () => {
  await bob?.stop();
  await app?.stop();
  await sandbox?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const row = () => tid('room-row', { jid: room });

/** The room view's lines as the window shows them. */
function roomLines(app) {
  return app.execute(
    `return [...document.querySelectorAll('[data-testid="room-line"]')].map((l) => ({
       nick: l.querySelector('[data-testid="room-line-nick"]')?.textContent ?? null,
       text: l.querySelector('[data-testid="room-line-text"]')?.textContent ?? null,
       state: l.dataset.state ?? null,
       mention: l.dataset.mention === 'true',
     }));`,
  );
}

test('alice joins "family" from the window; the nick is prefilled from her address', async () => {
  await withEvidence(app, 'rooms-join', async () => {
    await app.click(tid('join-room'));
    await app.waitFor(tid('join-room-dialog'));
    assert.equal(await (await app.find(tid('join-room-nick'))).property('value'), 'alice');
    await app.type(tid('join-room-address'), `xmpp:${room}?join`);
    await app.click(tid('join-room-submit'));
    // A settled fact: the view shows once the room is joined and its archive caught up.
    await app.waitFor(`${tid('room-view', { jid: room })}[data-phase="joined"]`, { timeout: 20000 });
    await app.waitForGone(tid('join-room-dialog'));
    await app.waitFor(row());
  });
});

test('bob joins; his line with alice\'s nick notifies and marks the room while another chat is open', async () => {
  await withEvidence(app, 'rooms-mention', async () => {
    const since = bob.mark();
    bob.send(`/join ${room} bob`);
    await bob.waitForEvent((e) => e.type === 'room_joined' && e.room === room, { since, message: 'bob in the room' });
    await app.waitForText(tid('room-member-count'), (text) => text.includes('2'));
    // Another chat in view: the room counts and notifies.
    await app.waitFor(tid('contact', { jid: bob.jid }));
    await openChat(app, bob.jid);
    await app.waitForGone(tid('room-view'));
    dunstctl('close-all');
    await waitUntil(() => dunstctl('count', 'displayed') === '0', { message: 'dunst shows no notification' });
    const notesBefore = readNotifications().length;
    // A line without her nick counts, but a room notifies mentions only unless set otherwise.
    bob.send(`/say ${room} Hello everyone`);
    await expectNoNotification((n) => n.summary.includes(room), {
      since: notesBefore,
      after: waitForQuiet(app, room, { why: 'not_mentioned' }),
      message: 'a notification of a line without a mention',
    });
    await app.waitFor(`${row()}[data-unread="1"][data-mentioned="false"]`);
    const said = bob.mark();
    bob.send(`/say ${room} Alice, are you coming to lunch?`);
    await bob.waitForEvent((e) => e.type === 'room_message_updated' && e.message?.body === 'Alice, are you coming to lunch?', {
      since: said,
      message: 'bob\'s line reflected by the room',
    });
    await app.waitFor(`${row()}[data-unread="2"][data-mentioned="true"]`);
    assert.ok(await app.exists(`${row()} ${tid('room-mention')}`));
    const note = await waitForNotification((n) => n.summary.includes(room) && n.body.includes('are you coming'), {
      since: notesBefore,
    });
    assert.equal(note.body, 'bob: Alice, are you coming to lunch?');
  });
});

test('clicking the notification opens the room (read: no marker); alice answers, and bob receives it', async () => {
  await withEvidence(app, 'rooms-answer', async () => {
    await waitUntil(() => dunstctl('count', 'displayed') === '1', { message: 'dunst shows the room\'s notification' });
    dunstctl('action', '0');
    await app.waitFor(tid('room-view', { jid: room }));
    await app.waitFor(`${row()}[data-unread="0"][data-mentioned="false"]`);
    let lines = [];
    await waitUntil(
      async () => {
        lines = await roomLines(app);
        return lines.some((l) => l.nick === 'bob' && l.text === 'Alice, are you coming to lunch?' && l.mention);
      },
      { message: `bob's line, highlighted as a mention (seen ${JSON.stringify(lines)})` },
    );
    // @-completion: "@b" and Tab give "bob: " at the start of the line.
    await app.type(tid('room-composer'), '@b');
    await app.waitFor(tid('nick-candidate'));
    await app.keys(Key.Tab);
    await waitUntil(async () => (await (await app.find(tid('room-composer'))).property('value')) === 'bob: ', {
      message: 'the nick completed',
    });
    const since = bob.mark();
    await app.type(tid('room-composer'), `Yes, see you there${Key.Enter}`, { append: true });
    await bob.waitForEvent(
      (e) => e.type === 'room_message_added' && e.message?.direction === 'in' && e.message.nick === 'alice' && e.message.body === 'bob: Yes, see you there',
      { since, message: 'bob receives alice\'s line' },
    );
    await waitUntil(
      async () => (await roomLines(app)).some((l) => l.text === 'bob: Yes, see you there' && l.state === 'sent'),
      { message: 'alice\'s line sent (reflected)' },
    );
    // The room in view: bob's mention neither counts nor notifies, and shows at once.
    const notesBefore = readNotifications().length;
    bob.send(`/say ${room} alice: great!`);
    await expectNoNotification((n) => n.summary.includes(room), {
      since: notesBefore,
      after: waitForQuiet(app, room, { why: 'chat_open' }),
      message: 'a notification of the room in view',
    });
    await waitUntil(async () => (await roomLines(app)).some((l) => l.text === 'alice: great!' && l.mention), {
      message: 'the line in view',
    });
    assert.ok(await app.exists(`${row()}[data-unread="0"]`));
    await app.screenshot('room-light');
  });
});

test('"All messages" makes a plain line notify; the member panel hides and shows', async () => {
  await withEvidence(app, 'rooms-notify-all', async () => {
    await app.click(tid('room-members-toggle'));
    await app.waitForGone(tid('room-members'));
    await app.click(tid('room-members-toggle'));
    await app.waitFor(tid('room-members'));
    await app.select(tid('room-notify'), 'all');
    await openChat(app, bob.jid);
    dunstctl('close-all');
    await waitUntil(() => dunstctl('count', 'displayed') === '0', { message: 'dunst shows no notification' });
    const notesBefore = readNotifications().length;
    bob.send(`/say ${room} the soup is ready`);
    const note = await waitForNotification((n) => n.summary.includes(room), { since: notesBefore });
    assert.equal(note.body, 'bob: the soup is ready');
    await app.click(row());
    await app.waitFor(tid('room-view', { jid: room }));
    // Kept by the app, as the window reads it back at the next login.
    assert.equal(await (await app.find(tid('room-notify'))).property('value'), 'all');
  });
});

test('alice leaves; bob sees her go, and the view says she is out', async () => {
  await withEvidence(app, 'rooms-leave', async () => {
    const since = bob.mark();
    await app.click(tid('room-leave'));
    await app.click(tid('room-leave-keep'));
    await bob.waitForEvent(
      (e) => e.type === 'occupant_changed' && e.room === room && e.change?.kind === 'left' && e.change.nick === 'alice',
      { since, message: 'bob sees alice leave' },
    );
    await app.waitFor(`${tid('room-view', { jid: room })}[data-phase="out"]`);
    await app.waitFor(tid('room-rejoin'));
  });
});

test('after a restart in dark (GTK_THEME=Adwaita:dark) the room and its lines are kept, and "Join again" joins', async () => {
  // A room left is not joined at login (a killed process would otherwise leave a ghost occupant
  // behind for the server's stream-resumption grace period).
  await app.stop();
  app = await App.start({ sandbox, dataDir, profile, name: 'rooms-dark', env: { GTK_THEME: 'Adwaita:dark' } });
  await withEvidence(app, 'rooms-dark', async () => {
    await loginWithForm(app, sandbox.jid('alice'), sandbox.password('alice'));
    await app.click(row());
    await app.waitFor(`${tid('room-view', { jid: room })}[data-phase="out"]`);
    const since = bob.mark();
    await app.click(tid('room-rejoin'));
    await app.waitFor(`${tid('room-view', { jid: room })}[data-phase="joined"]`, { timeout: 20000 });
    await bob.waitForEvent(
      (e) => e.type === 'occupant_changed' && e.room === room && e.change?.kind === 'joined' && e.change.occupant?.nick === 'alice',
      { since, message: 'bob sees alice join again' },
    );
    await waitUntil(async () => (await roomLines(app)).length >= 5, { message: 'the stored lines' });
    assert.equal(await (await app.find(tid('room-notify'))).property('value'), 'all', 'the notify setting is kept');
    await app.waitForText(tid('room-member-count'), (text) => text.includes('2'));
    assert.equal(await app.execute(`return matchMedia('(prefers-color-scheme: dark)').matches`), true);
    await app.screenshot('room-dark');
  });
});

test('alice makes a private group "Team" and invites bob; bob is offered it, joins, and is a member', async () => {
  await withEvidence(app, 'rooms-create', async () => {
    const team = `team@conference.${sandbox.jid('alice').split('@')[1]}`;
    await app.click(tid('create-room'));
    await app.waitFor(tid('create-room-dialog'));
    await app.type(tid('create-room-name'), 'Team');
    assert.equal(await (await app.find(tid('create-room-address'))).property('value'), team);
    assert.equal(await (await app.find(tid('create-room-private'))).property('checked'), true, 'a private group by default');
    await app.click(tid('create-room-invite', { jid: bob.jid }));
    const since = bob.mark();
    await app.click(tid('create-room-submit'));
    await app.waitFor(`${tid('room-view', { jid: team })}[data-phase="joined"]`, { timeout: 20000 });
    await app.waitForGone(tid('create-room-dialog'));
    // bob's core is offered the room by a contact, and does not join by itself.
    const invite = await bob.waitForEvent((e) => e.type === 'room_invite' && e.room === team, {
      since,
      message: "alice's invitation at bob",
    });
    assert.equal(invite.from, sandbox.jid('alice'));
    assert.equal(invite.stranger, false);
    // The invitation made him a member of the members-only group: he may join.
    const joined = bob.mark();
    bob.send(`/join ${team} bob`);
    await bob.waitForEvent((e) => e.type === 'room_joined' && e.room === team, { since: joined, message: 'bob in Team' });
    await app.waitForText(tid('room-member-count'), (text) => text.includes('2'));
    // A private group notifies every line.
    assert.equal(await (await app.find(tid('room-notify'))).property('value'), 'all');
  });
});
