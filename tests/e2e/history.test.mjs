// History the window never received: bob's messages reached alice's other device (the
// command-line client) while the window was never logged in, so the server kept them only in
// its archive. Opening the chat fetches the newest page from the archive, and scrolling up
// fetches the older ones (XEP-0313).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Peer, Sandbox, chatMessages, openChat, startLoggedIn, tid, waitUntil, withEvidence } from './lib/harness.mjs';

const COUNT = 60;
const texts = Array.from({ length: COUNT }, (_, i) => `archived ${String(i).padStart(2, '0')}`);

let sandbox;
let app;
let bob;
let bobJid;

before(async () => {
  sandbox = await Sandbox.start({ name: 'history-sandbox' });
  const alice = sandbox.jid('alice');
  bobJid = sandbox.jid('bob');
  const otherDevice = await Peer.start(sandbox, 'alice', { name: 'history-alice-cli' });
  bob = await Peer.start(sandbox, 'bob', { name: 'history-bob' });
  const since = otherDevice.mark();
  await bob.messages(alice, texts);
  await otherDevice.waitForEvent((e) => e.type === 'message_added' && e.message?.body === texts.at(-1), {
    since,
    message: 'the other device got them all',
  });
  await otherDevice.stop();
  app = await startLoggedIn(sandbox, 'alice', { name: 'history-app' });
});

after(async () => {
  await bob?.stop();
  await Promise.all([app?.stop(), sandbox?.stop()]);
});

test('a new device shows archived history on opening the chat and older pages on scrolling up', async () => {
  await withEvidence(app, 'history-archive', async () => {
    await openChat(app, bobJid);
    await waitUntil(async () => (await chatMessages(app)).some((m) => m.body === texts.at(-1)), {
      message: 'the newest archived message shows',
    });
    let bodies = [];
    await waitUntil(
      async () => {
        await app.execute(`document.querySelector('${tid('message-list')}').scrollTop = 0`);
        bodies = (await chatMessages(app)).map((m) => m.body);
        return bodies.includes(texts[0]);
      },
      { interval: 300, message: `the oldest archived message after scrolling up (seen ${bodies.slice(0, 3)})` },
    );
    // In order, from the first: what the top of the list shows.
    const shown = bodies.filter((b) => b.startsWith('archived'));
    assert.deepEqual(shown, texts.slice(0, shown.length));
    assert.ok(!(await app.exists(tid('unread-badge'))), 'history is not unread');
  });
});
