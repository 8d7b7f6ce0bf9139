// Presence: bob (the headless core as a peer) comes online with a status, goes away, and leaves;
// alice's contact list follows each change.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Peer, Sandbox, contactShow, contactStatus, startLoggedIn, tid, waitUntil, withEvidence } from './lib/harness.mjs';

let sandbox;
let app;
let bob;

before(async () => {
  sandbox = await Sandbox.start({ name: 'presence-sandbox' });
  app = await startLoggedIn(sandbox, 'alice', { name: 'presence-app' });
});

after(async () => {
  await bob?.stop();
  await Promise.all([app?.stop(), sandbox?.stop()]);
});

/** Waits until bob's row shows `show` and, if given, the status text `status`. */
async function bobShows(show, status) {
  const jid = sandbox.jid('bob');
  let seen;
  await waitUntil(
    async () => {
      seen = { show: await contactShow(app, jid), status: await contactStatus(app, jid) };
      return seen.show === show && (status === undefined || seen.status === status);
    },
    { message: `bob ${show}${status ? ` "${status}"` : ''} (seen ${JSON.stringify(seen)})` },
  );
}

test('bob starts offline', async () => {
  await withEvidence(app, 'presence-offline', async () => {
    await app.waitFor(tid('contact', { jid: sandbox.jid('bob') }));
    await bobShows('offline');
  });
});

test('(c) bob comes online with status "Hola"', async () => {
  await withEvidence(app, 'presence-online', async () => {
    bob = await Peer.start(sandbox, 'bob', { status: 'Hola' });
    await bobShows('available', 'Hola');
  });
});

test('(c) bob goes away with a new status', async () => {
  await withEvidence(app, 'presence-away', async () => {
    bob.status('away', 'Comiendo');
    await bobShows('away', 'Comiendo');
  });
});

test('bob goes do-not-disturb, then leaves', async () => {
  await withEvidence(app, 'presence-leaves', async () => {
    bob.status('dnd', 'Ocupado');
    await bobShows('dnd', 'Ocupado');
    await bob.stop();
    bob = null;
    await bobShows('offline');
    assert.notEqual(await contactStatus(app, sandbox.jid('bob')), 'Ocupado', 'the old status stays after going offline');
  });
});
