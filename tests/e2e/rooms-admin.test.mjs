// Running a group chat from the window, in Spanish (LANG=es_ES: every string checked against the
// Spanish dictionary): alice creates the public channel "Fútbol" and finds it by browsing her
// server's public groups; bob (the headless core as a peer) joins; alice changes the topic, takes
// bob's voice and gives it back, writes to him privately, and renames the group from its
// settings; a stranger's invitation waits among the message requests, never joined; alice goes
// offline, bob says three lines, and when she is back they show once, in order; a second alice
// device (a headless core) gets the group from her bookmarks with its history.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { App, Key, Peer, Sandbox, loadDictionary, loginWithForm, tid, waitUntil, withEvidence } from './lib/harness.mjs';

const es = loadDictionary('es');
let sandbox;
let bob;
let app;
let dataDir;
let room;
let alice;

before(async () => {
  sandbox = await Sandbox.start({ name: 'rooms-admin-sandbox' });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'charla-e2e-rooms-admin-'));
  alice = sandbox.jid('alice');
  room = `futbol@conference.${alice.split('@')[1]}`;
  [app, bob] = await Promise.all([
    App.start({ sandbox, dataDir, name: 'rooms-admin', env: { LANG: 'es_ES.UTF-8', LANGUAGE: 'es_ES:es' } }),
    Peer.start(sandbox, 'bob', { name: 'rooms-admin-bob' }),
  ]);
  await loginWithForm(app, alice, sandbox.password('alice'));
});

after(async () => {
  await bob?.stop();
  await app?.stop();
  await sandbox?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const view = () => tid('room-view', { jid: room });
const member = (nick) => tid('room-member', { nick });

/** The room view's lines as the window shows them. */
function roomLines() {
  return app.execute(
    `return [...document.querySelectorAll('[data-testid="room-line"]')].map((l) => ({
       text: l.querySelector('[data-testid="room-line-text"]')?.textContent ?? null,
       private: l.dataset.private === 'true',
       tag: l.querySelector('[data-testid="room-line-private"]')?.textContent ?? null,
       state: l.dataset.state ?? null,
     }));`,
  );
}

test('alice creates the public channel "Fútbol" in Spanish and finds it among the public groups', async () => {
  await withEvidence(app, 'rooms-admin-create', async () => {
    await waitUntil(async () => (await app.execute('return document.documentElement.lang')) === 'es', { message: 'the window in Spanish' });
    await app.click(tid('create-room'));
    await app.waitFor(tid('create-room-dialog'));
    await app.type(tid('create-room-name'), 'Fútbol');
    assert.equal(await (await app.find(tid('create-room-address'))).property('value'), room, 'the address without accents');
    await app.click(tid('create-room-public'));
    await app.click(tid('create-room-submit'));
    await app.waitFor(`${view()}[data-phase="joined"]`, { timeout: 20000 });
    // Browsing: the service found by disco lists the channel.
    await app.click(tid('join-room'));
    await app.waitFor(tid('join-room-dialog'));
    assert.equal(await app.text(tid('join-room-browse')), es['rooms.browse']);
    await app.click(tid('join-room-browse'));
    await app.waitFor(`${tid('room-directory')}[data-phase="ready"]`);
    await app.type(tid('room-directory-filter'), 'FUTBOL');
    await app.waitFor(tid('room-directory-entry', { jid: room }));
    assert.match(await app.text(tid('room-directory-entry', { jid: room })), /Fútbol/);
    await app.click(tid('room-directory-entry', { jid: room }));
    assert.equal(await (await app.find(tid('join-room-address'))).property('value'), room);
    await app.keys(Key.Escape);
    await app.waitForGone(tid('join-room-dialog'));
  });
});

test('bob joins; alice changes the topic and bob gets it', async () => {
  await withEvidence(app, 'rooms-admin-topic', async () => {
    const since = bob.mark();
    bob.send(`/join ${room} bob`);
    await bob.waitForEvent((e) => e.type === 'room_joined' && e.room === room, { since, message: 'bob in the room' });
    await app.waitForText(tid('room-member-count'), (text) => text.includes('2') && text.includes('miembros'));
    await app.click(tid('room-subject-edit'));
    const topic = bob.mark();
    await app.type(tid('room-subject-input'), `Partido el viernes${Key.Enter}`);
    await bob.waitForEvent((e) => e.type === 'room_subject' && e.room === room && e.subject === 'Partido el viernes', {
      since: topic,
      message: 'the topic at bob',
    });
    await app.waitForText(tid('room-subject'), (text) => text === 'Partido el viernes');
  });
});

test("alice takes bob's voice and gives it back from the member menu", async () => {
  await withEvidence(app, 'rooms-admin-voice', async () => {
    await app.click(`${member('bob')} ${tid('room-member-actions')}`);
    assert.equal(await app.text(`${tid('room-action', { action: 'mute' })}`), es['room.action.mute']);
    const since = bob.mark();
    await app.click(tid('room-action', { action: 'mute' }));
    await bob.waitForEvent(
      (e) => e.type === 'occupant_changed' && e.change?.occupant?.nick === 'bob' && e.change.occupant.role === 'visitor',
      { since, message: 'bob muted' },
    );
    await app.waitFor(`${member('bob')}[data-role="visitor"]`);
    await app.click(`${member('bob')} ${tid('room-member-actions')}`);
    await app.click(tid('room-action', { action: 'voice' }));
    await app.waitFor(`${member('bob')}[data-role="participant"]`);
  });
});

test('alice writes to bob privately: marked private on both sides', async () => {
  await withEvidence(app, 'rooms-admin-private', async () => {
    await app.click(`${member('bob')} ${tid('room-member-actions')}`);
    await app.click(tid('room-action', { action: 'private' }));
    await app.waitForText(tid('room-private-to'), (text) => text.includes(es['room.private.composer'].replace('{nick}', 'bob')));
    const since = bob.mark();
    await app.type(tid('room-composer'), `Solo para ti${Key.Enter}`);
    const got = await bob.waitForEvent((e) => e.type === 'room_message_added' && e.message?.body === 'Solo para ti', {
      since,
      message: "alice's private message at bob",
    });
    assert.equal(got.message.private_with, 'alice');
    await waitUntil(
      async () =>
        (await roomLines()).some(
          (l) => l.text === 'Solo para ti' && l.private && l.tag === es['room.private.to'].replace('{nick}', 'bob') && l.state === 'sent',
        ),
      { message: 'the private line, sent' },
    );
    await app.click(tid('room-private-cancel'));
    await app.waitForGone(tid('room-private-to'));
  });
});

test('alice renames the group in its settings; she is listed as its owner', async () => {
  await withEvidence(app, 'rooms-admin-settings', async () => {
    await app.click(tid('room-settings'));
    await app.waitFor(tid('room-settings-name'));
    assert.equal(await (await app.find(tid('room-settings-name'))).property('value'), 'Fútbol');
    await app.waitFor(`${tid('room-settings-list', { affiliation: 'owner' })} ${tid('room-settings-entry', { jid: alice })}`);
    await app.clear(tid('room-settings-name'));
    await app.type(tid('room-settings-name'), 'Fútbol del viernes');
    await app.click(tid('room-settings-save'));
    await app.waitForText(tid('room-settings-saved'), (text) => text === es['roomSettings.saved']);
    await app.click(tid('room-settings-close'));
    await app.waitForGone(tid('room-settings-dialog'));
    await waitUntil(
      async () => (await app.execute(`return document.querySelector('[data-testid="room-name"]')?.textContent`)) === 'Fútbol del viernes',
      { message: 'the new name in the header' },
    );
    await waitUntil(
      async () =>
        (await app.execute(`return document.querySelector('[data-testid="room-row"][data-jid="${room}"]')?.textContent ?? ''`)).includes(
          'Fútbol del viernes',
        ),
      { message: 'the new name in the list' },
    );
  });
});

test("a stranger's invitation waits among the message requests, never joined, and can be dismissed", async () => {
  sandbox.register('mallory');
  const mallory = await Peer.start(sandbox, 'mallory', { name: 'rooms-admin-mallory' });
  try {
    await withEvidence(app, 'rooms-admin-stranger-invite', async () => {
      const trap = `trampa@conference.${alice.split('@')[1]}`;
      const since = mallory.mark();
      mallory.send(`/join ${trap} mallory`);
      await mallory.waitForEvent((e) => e.type === 'room_joined' && e.room === trap, { since, message: 'mallory in her room' });
      mallory.send(`/invite ${trap} ${alice} ven`);
      await app.waitFor(`${tid('message-requests')}[aria-expanded="false"]`);
      await app.click(tid('message-requests'));
      const entry = tid('stranger-invitation', { room: trap });
      await app.waitFor(entry);
      const text = await app.execute('return document.querySelector(arguments[0])?.textContent ?? ""', entry);
      assert.ok(text.includes(es['requests.invitation'].replace('{room}', trap)), text);
      // Prosody's room hides addresses by default: mallory is named by her occupant JID.
      assert.ok(text.includes(`${trap}/mallory`), text);
      // Not offered with the groups, and never joined by itself.
      assert.equal(await app.exists(tid('room-invitation', { room: trap })), false);
      assert.equal(await app.exists(tid('room-row', { jid: trap })), false);
      await app.click(`${entry} ${tid('stranger-invitation-dismiss')}`);
      await app.waitForGone(entry);
      assert.equal(await app.exists(tid('room-row', { jid: trap })), false);
    });
  } finally {
    await mallory.stop();
  }
});

test('alice goes offline; bob says three lines; back online they show once, in order', async () => {
  await withEvidence(app, 'rooms-admin-away', async () => {
    const gone = bob.mark();
    await app.select(tid('own-presence'), 'offline');
    await bob.waitForEvent((e) => e.type === 'occupant_changed' && e.change?.kind === 'left' && e.change.nick === 'alice', {
      since: gone,
      message: 'bob sees alice go',
    });
    const said = ['uno', 'dos', 'tres'];
    for (const line of said) {
      const since = bob.mark();
      bob.send(`/say ${room} ${line}`);
      await bob.waitForEvent((e) => e.type === 'room_message_updated' && e.message?.body === line && e.message.state === 'sent', {
        since,
        message: `"${line}" said`,
      });
    }
    await app.select(tid('own-presence'), 'available');
    // A settled fact: joined again once the room's archive is caught up.
    await app.waitFor(`${view()}[data-phase="joined"]`, { timeout: 30000 });
    let texts = [];
    await waitUntil(
      async () => {
        texts = (await roomLines()).map((l) => l.text).filter((t) => said.includes(t));
        return texts.length >= said.length;
      },
      { message: `bob's three lines (seen ${JSON.stringify(texts)})` },
    );
    assert.deepEqual(texts, said, 'once each, in order');
  });
});

test("a second alice device gets the group from her bookmarks, with its history", async () => {
  const phone = await Peer.start(sandbox, 'alice', { name: 'rooms-admin-alice-phone' });
  try {
    const joined = await phone.waitForEvent((e) => e.type === 'room_joined' && e.room === room, {
      since: 0,
      timeout: 30000,
      message: 'the group joined from the bookmarks',
    });
    assert.ok(joined);
    const history = phone.events
      .filter((e) => e.type === 'room_message_added' && e.message?.room === room && e.message.private_with === null)
      .map((e) => e.message.body);
    for (const line of ['uno', 'dos', 'tres']) assert.ok(history.includes(line), `${line} in ${JSON.stringify(history)}`);
  } finally {
    await phone.stop();
  }
});
