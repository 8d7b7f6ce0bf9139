// Several accounts at once in the real window: alice logs in, then adds bob from Settings; the
// buddy list shows both rosters, each contact marked with its account's color; a message to bob
// opens on bob's account and the reply goes out from bob; presence is set for one account or for
// all; bob can be disabled (offline, also at the next start) and enabled again without typing
// his password (the session's keyring). The peer carol (charla-cli) is a contact of both.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  App,
  Key,
  Peer,
  Sandbox,
  chatMessages,
  tid,
  waitForLoginScreen,
  waitForMainWindow,
  waitUntil,
  withEvidence,
} from './lib/harness.mjs';

let sandbox;
let carol;
let dataDir;
const profile = `e2e-accounts-${process.pid}`;

before(async () => {
  sandbox = await Sandbox.start({ name: 'accounts-sandbox' });
  carol = await Peer.start(sandbox, 'carol', { name: 'accounts-carol' });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'charla-e2e-accounts-'));
});

after(async () => {
  await carol?.stop();
  await sandbox?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The accounts (`data-account`) of the buddy-list rows of `jid`, sorted. */
async function rowAccounts(app, jid) {
  const accounts = await app.execute(
    `return [...document.querySelectorAll(arguments[0])].map((row) => row.dataset.account);`,
    tid('contact', { jid }),
  );
  return accounts.sort();
}

/** Waits until carol sees `jid`'s presence satisfy `pred` (a presence object, or null: offline). */
function carolSees(jid, pred, since, message) {
  return carol.waitForEvent((e) => e.type === 'presence_changed' && e.jid === jid && pred(e.presence), {
    since,
    timeout: 20000,
    message,
  });
}

async function openSettings(app) {
  await app.click(tid('settings-button'));
  await app.waitFor(tid('account-list'));
}

async function closeSettings(app) {
  await app.click(tid('settings-close'));
  await app.waitForGone(tid('settings-panel'));
}

test('two accounts side by side: rosters, colors, chats, presence, disable and enable', async () => {
  const alice = sandbox.jid('alice');
  const bob = sandbox.jid('bob');
  const first = await App.start({ sandbox, dataDir, profile, name: 'accounts-first' });
  let aliceAccount;
  let bobAccount;
  try {
    await withEvidence(first, 'accounts-add', async () => {
      await waitForLoginScreen(first);
      await first.type(tid('login-jid'), alice);
      await first.type(tid('login-password'), sandbox.password('alice'));
      await first.click(tid('login-remember-password'));
      await first.click(tid('login-submit'));
      await waitForMainWindow(first);
      // One account: no account chooser, no color marks.
      assert.equal(await first.exists(tid('presence-scope')), false);
      await waitUntil(async () => (await rowAccounts(first, sandbox.jid('carol'))).length === 1, {
        message: "carol in alice's roster",
      });

      // Add bob from Settings, remembering his password too.
      await openSettings(first);
      await first.click(tid('account-add'));
      const dialog = await first.waitFor(tid('add-account-dialog'));
      assert.ok(dialog);
      await first.type(`${tid('add-account-dialog')} ${tid('login-jid')}`, bob);
      await first.type(`${tid('add-account-dialog')} ${tid('login-password')}`, sandbox.password('bob'));
      await first.click(`${tid('add-account-dialog')} ${tid('login-remember-password')}`);
      await first.click(`${tid('add-account-dialog')} ${tid('login-submit')}`);
      await first.waitForGone(tid('add-account-dialog'), { timeout: 30000 });
      await waitUntil(async () => (await first.findAll(tid('account-row'))).length === 2, { message: 'two account rows' });
      await closeSettings(first);

      // Both rosters: carol (a contact of both) twice, dave (alice's only) once.
      await waitUntil(async () => (await rowAccounts(first, sandbox.jid('carol'))).length === 2, {
        message: 'carol once per account',
      });
      [aliceAccount] = await rowAccounts(first, sandbox.jid('dave'));
      bobAccount = (await rowAccounts(first, sandbox.jid('carol'))).find((a) => a !== aliceAccount);
      assert.ok(aliceAccount && bobAccount, 'the two accounts have rows');
      // Each row carries its account's color; the two colors differ.
      const colors = await first.execute(
        `return [...document.querySelectorAll(arguments[0])].map((r) => [r.dataset.account, r.style.getPropertyValue('--account-color')]);`,
        tid('contact', { jid: sandbox.jid('carol') }),
      );
      assert.equal(colors.length, 2);
      assert.ok(colors.every(([, c]) => /^#[0-9a-f]{6}$/i.test(c.trim())), `colors ${JSON.stringify(colors)}`);
      assert.notEqual(colors[0][1], colors[1][1]);
      assert.ok(await first.exists(tid('presence-scope')));
    });

    await withEvidence(first, 'accounts-chat', async () => {
      // carol writes to bob: the chat opens on bob's account, the reply goes out from bob.
      await carol.message(bob, 'hola bob, soy carol');
      const bobsCarol = `${tid('contact', { jid: sandbox.jid('carol') })}[data-account="${bobAccount}"]`;
      await waitUntil(async () => (await first.text(`${bobsCarol} ${tid('unread-badge')}`).catch(() => '')) === '1', {
        message: "an unread badge on bob's carol",
      });
      await first.click(bobsCarol);
      await first.waitForText(tid('chat-account'), (text) => text.includes(bob));
      await waitUntil(async () => (await chatMessages(first)).some((m) => m.body === 'hola bob, soy carol'), {
        message: "carol's message in bob's chat",
      });
      const since = carol.mark();
      await first.type(tid('composer'), `hola carol, soy bob${Key.Enter}`);
      const reply = await carol.waitForEvent(
        (e) => e.type === 'message_added' && e.message?.direction === 'in' && e.message.body === 'hola carol, soy bob',
        { since, timeout: 20000, message: 'the reply' },
      );
      assert.equal(reply.message.peer, bob);
      // alice's chat with carol does not have it.
      await first.click(`${tid('contact', { jid: sandbox.jid('carol') })}[data-account="${aliceAccount}"]`);
      await first.waitForText(tid('chat-account'), (text) => text.includes(alice));
      assert.ok(!(await chatMessages(first)).some((m) => m.body.includes('soy carol')));
      // For the README: the buddy list and a chat with two accounts.
      await first.click(`${tid('contact', { jid: sandbox.jid('carol') })}[data-account="${bobAccount}"]`);
      await first.screenshot('main-accounts');
    });

    await withEvidence(first, 'accounts-presence', async () => {
      // Busy on bob only: carol sees bob dnd, alice stays available.
      let since = carol.mark();
      await first.select(tid('presence-scope'), bobAccount);
      await first.select(tid('own-presence'), 'dnd');
      await carolSees(bob, (p) => p?.show === 'dnd', since, 'bob dnd');
      // Away on all accounts.
      const dndSince = since;
      since = carol.mark();
      await first.select(tid('presence-scope'), 'all');
      await first.select(tid('own-presence'), 'away');
      const aliceAway = await carolSees(alice, (p) => p?.show === 'away', since, 'alice away');
      await carolSees(bob, (p) => p?.show === 'away', since, 'bob away');
      // alice's stream is ordered: a presence change of hers from the bob-only step would
      // have reached carol before this away, the first change of alice carol saw since then.
      assert.ok(
        !carol.events
          .slice(dndSince, carol.events.indexOf(aliceAway))
          .some((e) => e.type === 'presence_changed' && e.jid === alice),
        'alice changed too',
      );
    });

    await withEvidence(first, 'accounts-disable', async () => {
      const since = carol.mark();
      await openSettings(first);
      await first.click(`${tid('account-row', { jid: bob })} ${tid('account-enabled')}`);
      await carolSees(bob, (p) => p === null, since, 'bob offline');
      await closeSettings(first);
      await waitUntil(async () => (await rowAccounts(first, sandbox.jid('carol'))).length === 1, {
        message: "bob's contacts gone",
      });
      assert.equal(await first.exists(tid('presence-scope')), false);
    });
  } finally {
    await first.stop();
  }

  // Next start: alice comes online by herself, bob stays off until enabled, then needs no typing.
  const second = await App.start({ sandbox, dataDir, profile, name: 'accounts-second' });
  try {
    await withEvidence(second, 'accounts-restart', async () => {
      await waitForMainWindow(second);
      await waitUntil(async () => (await rowAccounts(second, sandbox.jid('dave'))).length === 1, {
        message: "alice's roster",
      });
      assert.equal((await rowAccounts(second, sandbox.jid('carol'))).length, 1);
      await openSettings(second);
      const row = tid('account-row', { jid: bob });
      assert.equal(await (await second.find(row)).attribute('data-enabled'), 'false');
      const since = carol.mark();
      await second.click(`${row} ${tid('account-enabled')}`);
      await carolSees(bob, (p) => p !== null, since, 'bob back online');
      assert.equal(await second.exists(tid('add-account-dialog')), false, 'asked for a password');
      // A color of one's own for bob.
      await second.execute(
        `const input = document.querySelector(arguments[0]);
         input.value = '#ff8800';
         input.dispatchEvent(new Event('change', { bubbles: true }));`,
        `${row} ${tid('account-color')}`,
      );
      await closeSettings(second);
      await waitUntil(
        async () =>
          (await second.execute(
            `return [...document.querySelectorAll(arguments[0])].map((r) => r.style.getPropertyValue('--account-color').trim());`,
            tid('contact', { jid: sandbox.jid('carol') }),
          )).includes('#ff8800'),
        { message: "bob's rows in the chosen color" },
      );
    });

    await withEvidence(second, 'accounts-remove', async () => {
      // Remove bob from Charla, keeping his history: he goes offline and out of the list.
      const since = carol.mark();
      await openSettings(second);
      await second.click(`${tid('account-row', { jid: bob })} ${tid('account-remove')}`);
      await second.waitFor(tid('account-dialog'));
      await second.click(tid('account-keep-history'));
      await second.click(tid('account-confirm'));
      await second.waitForGone(tid('account-dialog'));
      await carolSees(bob, (p) => p === null, since, 'bob offline after removal');
      await waitUntil(async () => !(await second.exists(tid('account-row', { jid: bob }))), {
        message: "bob's account row gone",
      });
      await closeSettings(second);
      await waitUntil(async () => (await rowAccounts(second, sandbox.jid('carol'))).length === 1, {
        message: "bob's contacts gone",
      });
    });
  } finally {
    await second.stop();
  }

  // Removed stays removed.
  const third = await App.start({ sandbox, dataDir, profile, name: 'accounts-third' });
  try {
    await withEvidence(third, 'accounts-removed', async () => {
      await waitForMainWindow(third);
      await openSettings(third);
      assert.deepEqual(
        await third.execute(
          `return [...document.querySelectorAll(arguments[0])].map((r) => r.dataset.jid);`,
          tid('account-row'),
        ),
        [alice],
      );
    });
  } finally {
    await third.stop();
  }
});
