// The server goes away and comes back: the connection banner says so, a message written
// meanwhile waits as pending, is sent after the reconnect, and reaches bob.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Key, Peer, Sandbox, chatMessages, openChat, startLoggedIn, tid, waitUntil, withEvidence } from './lib/harness.mjs';

let sandbox;
let app;
let bob;

before(async () => {
  sandbox = await Sandbox.start({ name: 'reconnect-sandbox' });
  app = await startLoggedIn(sandbox, 'alice', { name: 'reconnect-app' });
});

after(async () => {
  await bob?.stop();
  await Promise.all([app?.stop(), sandbox?.stop()]);
});

const message = (body) => chatMessages(app).then((all) => all.find((m) => m.body === body));

test('no connection banner while online', async () => {
  await withEvidence(app, 'reconnect-online', async () => {
    await openChat(app, sandbox.jid('bob'));
    assert.equal(await app.exists(tid('connection-banner'), { visible: true }), false);
  });
});

test('the server stops: the banner shows, and a message written now stays pending', async () => {
  await withEvidence(app, 'reconnect-down', async () => {
    await sandbox.pause();
    const banner = await app.waitFor(tid('connection-banner'), { timeout: 30000 });
    assert.notEqual(await banner.attribute('data-state'), 'online');
    await app.type(tid('composer'), `Sent while offline${Key.Enter}`);
    let seen;
    await waitUntil(async () => (seen = await message('Sent while offline'))?.state === 'pending', {
      message: `the message pending (seen ${JSON.stringify(seen)})`,
    });
    await app.screenshot('reconnect-banner');
  });
});

test('the server is back: the banner goes, the message is sent and reaches bob', async () => {
  await withEvidence(app, 'reconnect-back', async () => {
    await sandbox.resume();
    await app.waitForGone(tid('connection-banner'), { timeout: 90000 });
    let seen;
    await waitUntil(async () => ['sent', 'delivered', 'displayed'].includes((seen = await message('Sent while offline'))?.state), {
      timeout: 30000,
      message: `the message sent (seen ${JSON.stringify(seen)})`,
    });
    bob = await Peer.start(sandbox, 'bob', { name: 'reconnect-bob' });
    await bob.waitForEvent(
      (e) => e.type === 'message_added' && e.message?.direction === 'in' && e.message.body === 'Sent while offline',
      { timeout: 20000, message: 'the offline message delivered to bob' },
    );
  });
});
