// Away from the desktop: with no X input for a few seconds alice turns away, then not available,
// with a XEP-0319 idle time that bob sees; input brings her back. Also: recent status messages are
// offered again, and an offline contact's chat says when they were last seen (XEP-0012).
//
// The X server's idle time is what counts (MIT-SCREEN-SAVER), not activity in the window:
// WebDriver's clicks do not reach the X server, xdotool's pointer moves do.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { Key, Peer, Sandbox, openChat, startLoggedIn, tid, waitUntil, withEvidence } from './lib/harness.mjs';

// Longer than the app's 5 s polling, so that the first poll after a touch always sees input.
const AWAY_AFTER_SECS = 8;
const XA_AFTER_SECS = 16;

let sandbox;
let app;
let bob;

before(async () => {
  sandbox = await Sandbox.start({ name: 'idle-sandbox' });
  bob = await Peer.start(sandbox, 'bob');
  app = await startLoggedIn(sandbox, 'alice', {
    name: 'idle-app',
    settings: { auto_away: { away_after_secs: AWAY_AFTER_SECS, xa_after_secs: XA_AFTER_SECS } },
  });
});

after(async () => {
  await bob?.stop();
  await Promise.all([app?.stop(), sandbox?.stop()]);
});

/** Real input at the X server: moves the pointer (somewhere else each time). */
let moves = 0;
function touchDesktop() {
  moves += 1;
  execFileSync('xdotool', ['mousemove', String(20 + (moves % 7) * 10), String(20 + (moves % 5) * 10)]);
}

/** Waits until bob sees alice's presence satisfy `pred`; returns it. */
async function bobSeesAlice(pred, message, since = 0) {
  const alice = sandbox.jid('alice');
  const event = await bob.waitForEvent(
    (e) => e.type === 'presence_changed' && e.jid === alice && e.presence !== null && pred(e.presence),
    { since, timeout: 30000, message },
  );
  return event.presence;
}

test('no input: away, then not available, with the time input stopped', async () => {
  await withEvidence(app, 'idle-away', async () => {
    // Xvfb may have been idle long enough already: touch it, then wait for an away that starts
    // from that touch (one from before it may still be on its way).
    const mark = bob.mark();
    touchDesktop();
    const touched = Date.now();
    const away = await bobSeesAlice(
      (p) => p.show === 'away' && p.idle_since !== null && p.idle_since >= touched - 10000,
      'alice away since the touch',
      mark,
    );
    assert.ok(away.idle_since <= touched + 10000, `idle since ${away.idle_since}, touched ${touched}`);
    await app.waitFor(tid('own-auto'));
    const xa = await bobSeesAlice((p) => p.show === 'xa', 'alice not available', mark);
    assert.equal(xa.idle_since, away.idle_since, 'still idle since the same moment');
    // Her chosen presence is untouched: the selector still says available.
    assert.equal(await app.execute(`return document.querySelector(arguments[0]).value`, tid('own-presence')), 'available');
  });
});

test('input again: the chosen presence comes back, without an idle stamp', async () => {
  await withEvidence(app, 'idle-back', async () => {
    const mark = bob.mark();
    touchDesktop();
    await bobSeesAlice((p) => p.show === 'available' && p.idle_since === null, 'alice back', mark);
    await waitUntil(async () => !(await app.exists(tid('own-auto'))), { message: 'the auto-away note gone' });
  });
});

test('a status message set once is offered again', async () => {
  await withEvidence(app, 'idle-recent-status', async () => {
    touchDesktop();
    await app.type(tid('own-status'), `Gone fishing${Key.Enter}`);
    await bobSeesAlice((p) => p.status === 'Gone fishing', 'alice gone fishing');
    await waitUntil(
      async () =>
        (await app.execute(
          `return [...document.querySelectorAll(arguments[0] + ' option')].map((o) => o.value)`,
          tid('recent-statuses'),
        )).includes('Gone fishing'),
      { message: 'the status among the recent ones' },
    );
  });
});

test('an offline contact shows when they were last seen', async () => {
  await withEvidence(app, 'idle-last-seen', async () => {
    touchDesktop();
    await bob.stop();
    bob = null;
    // The server counts whole seconds, and says nothing for 0.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await openChat(app, sandbox.jid('bob'));
    await waitUntil(async () => app.exists(tid('chat-last-seen')), { message: 'last seen in the chat header' });
    const text = await app.execute(`return document.querySelector(arguments[0]).textContent`, tid('chat-last-seen'));
    assert.match(text, /last seen (now|\d+ seconds? ago|1 minute ago)/);
  });
});
