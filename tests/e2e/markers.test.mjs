// Receipts and read markers through the whole stack: bob's core answers alice's messages with
// delivery receipts (XEP-0184), alice's window shows them as delivered; when alice sees bob's
// message at the bottom of his open chat her app sends a displayed marker (XEP-0333) — unless she
// turned read markers off in the settings.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Key, Peer, Sandbox, chatMessages, openChat, startLoggedIn, tid, waitUntil, withEvidence,
} from './lib/harness.mjs';

let sandbox;
let app;
let bob;
let alice;
let bobJid;

before(async () => {
  sandbox = await Sandbox.start({ name: 'markers-sandbox' });
  [app, bob] = await Promise.all([
    startLoggedIn(sandbox, 'alice', { name: 'markers-app' }),
    Peer.start(sandbox, 'bob', { name: 'markers-bob' }),
  ]);
  alice = sandbox.jid('alice');
  bobJid = sandbox.jid('bob');
  await waitUntil(async () => app.exists(tid('contact', { jid: bobJid })), { message: 'bob in the list' });
});

after(async () => {
  await bob?.stop();
  await Promise.all([app?.stop(), sandbox?.stop()]);
});

/** Waits until bob's core reports his message `body` in `state`. */
function bobSees(body, state, since) {
  return bob.waitForEvent(
    (e) => e.type === 'message_updated' && e.message?.body === body && e.message.state === state,
    { since, message: `bob's "${body}" ${state}` },
  );
}

test('a message alice sends shows as delivered once bob\'s client receipts it', async () => {
  await withEvidence(app, 'markers-delivered', async () => {
    await openChat(app, bobJid);
    await app.type(tid('composer'), `Did you get this?${Key.Enter}`);
    let seen;
    await waitUntil(
      async () => {
        seen = (await chatMessages(app)).find((m) => m.body === 'Did you get this?');
        return seen?.state === 'delivered' || seen?.state === 'displayed';
      },
      { message: `"Did you get this?" delivered (seen ${JSON.stringify(seen)})` },
    );
  });
});

test('opening bob\'s chat tells bob his message was displayed', async () => {
  await withEvidence(app, 'markers-displayed', async () => {
    await openChat(app, sandbox.jid('echo'));
    const since = bob.mark();
    await bob.message(alice, 'Read me, please');
    await bobSees('Read me, please', 'delivered', since);
    await openChat(app, bobJid);
    await bobSees('Read me, please', 'displayed', since);
  });
});

test('with read markers turned off, bob learns nothing beyond delivery', async () => {
  await withEvidence(app, 'markers-off', async () => {
    await app.click(tid('settings-button'));
    const box = await app.waitFor(tid('settings-read-markers'));
    assert.equal(await box.property('checked'), true, 'read markers are on by default');
    await box.click();
    await waitUntil(async () => (await box.property('checked')) === false, { message: 'unchecked' });
    await app.click(tid('settings-close'));
    await openChat(app, sandbox.jid('echo'));
    const since = bob.mark();
    await bob.message(alice, 'Private reading');
    await bobSees('Private reading', 'delivered', since);
    await openChat(app, bobJid);
    await waitUntil(
      async () => (await chatMessages(app)).some((m) => m.body === 'Private reading'),
      { message: 'the message is on screen' },
    );
    // Settled: the backend has taken the message as seen (and sent no marker, as set)...
    const id = await app.execute(
      `return Number([...document.querySelectorAll('[data-testid="message"]')]
         .find((m) => m.querySelector('[data-testid="message-body"]')?.textContent === 'Private reading')?.dataset.id)`,
    );
    await waitUntil(
      async () =>
        Number(await app.execute(`return document.querySelector('[data-testid="message-list"]')?.dataset.reportedUpTo`)) >= id,
      { message: `message ${id} taken as seen` },
    );
    // ...and alice's stream delivers in order: a marker sent before this message reaches bob first.
    await app.type(tid('composer'), `Read, quietly${Key.Enter}`);
    await bob.waitForEvent((e) => e.type === 'message_added' && e.message?.body === 'Read, quietly', {
      since,
      message: "alice's later message at bob",
    });
    const displayed = bob.events
      .slice(since)
      .some((e) => e.type === 'message_updated' && e.message?.body === 'Private reading' && e.message.state === 'displayed');
    assert.equal(displayed, false, 'no displayed marker was sent');
  });
});
