// A room flood in the window: bob (the headless core as a peer) says 10,000 lines in the group
// alice is in; the page keeps at most 200 rows (more come on scrolling up), the newest line
// shows, and the window still answers: alice's next line reaches bob. The lines come as fast as
// bob's own outbox sends them (one after the room's reflection of the previous), so the test
// takes a minute or two; 1,000 joins and leaves are the store's test (rooms.test.ts), since the
// sandbox has no component to play a crowd.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { App, Key, Peer, Sandbox, loginWithForm, tid, waitUntil, withEvidence } from './lib/harness.mjs';

let sandbox;
let bob;
let app;
let room;

before(async () => {
  sandbox = await Sandbox.start({ name: 'rooms-flood-sandbox' });
  room = `flood@conference.${sandbox.jid('alice').split('@')[1]}`;
  [app, bob] = await Promise.all([App.start({ sandbox, name: 'rooms-flood' }), Peer.start(sandbox, 'bob', { name: 'rooms-flood-bob' })]);
  await loginWithForm(app, sandbox.jid('alice'), sandbox.password('alice'));
  await app.click(tid('join-room'));
  await app.type(tid('join-room-address'), room);
  await app.click(tid('join-room-submit'));
  await app.waitFor(`${tid('room-view', { jid: room })}[data-phase="joined"]`, { timeout: 20000 });
  const since = bob.mark();
  bob.send(`/join ${room} bob`);
  await bob.waitForEvent((e) => e.type === 'room_joined' && e.room === room, { since, message: 'bob in the room' });
});

after(async () => {
  await bob?.stop();
  await app?.stop();
  await sandbox?.stop();
});

/** The texts of the room lines in the page. */
function lineTexts() {
  return app.execute(
    `return [...document.querySelectorAll('[data-testid="room-line-text"]')].map((t) => t.textContent);`,
  );
}

test('a flood of 10,000 lines keeps the window light and answering', async () => {
  await withEvidence(app, 'rooms-flood', async () => {
    const count = 10_000;
    const since = bob.mark();
    const started = Date.now();
    for (let i = 0; i < count; i++) bob.send(`/say ${room} línea ${i}`);
    await bob.waitForEvent((e) => e.type === 'room_message_updated' && e.message?.body === `línea ${count - 1}` && e.message.state === 'sent', {
      since,
      timeout: 300_000,
      message: 'the last line of the flood reflected',
    });
    await waitUntil(async () => (await lineTexts()).includes(`línea ${count - 1}`), {
      timeout: 60_000,
      message: 'the newest line in view',
    });
    console.log(`flood: ${count} lines said and shown in ${Date.now() - started} ms`);
    // Only the newest rows are in the page (more come on scrolling up).
    const rows = (await lineTexts()).length;
    assert.ok(rows <= 200, `${rows} rows in the page`);
    // The window still answers: alice's line goes out and reaches bob.
    const answered = bob.mark();
    await app.type(tid('room-composer'), `¡Basta ya!${Key.Enter}`);
    await bob.waitForEvent((e) => e.type === 'room_message_added' && e.message?.body === '¡Basta ya!', {
      since: answered,
      message: "alice's line after the flood",
    });
  });
});
