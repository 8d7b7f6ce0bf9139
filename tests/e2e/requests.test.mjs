// Message requests and grouped subscription requests (issue 14, item 4): a stranger (an account
// not in alice's roster, played by charla-cli) writes; nothing is notified on D-Bus and nothing
// is counted in the title; the chat is listed apart as "Message requests (N)", found by Ctrl+K,
// and can be deleted, blocked or accepted. 51 pending subscription requests (written into
// alice's roster on the server before she logs in; Prosody sends them again at login) show as
// one group, and the buddy list stays in view and usable. Screenshots in English and Spanish,
// light and dark: tests/e2e/screenshots/requests-*.png.
//
// Prosody 0.12 does not advertise XEP-0377 reporting: only "Block" is offered.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  App,
  Key,
  Peer,
  Sandbox,
  chatMessages,
  expectNoNotification,
  waitForQuiet,
  loadDictionary,
  loginWithForm,
  openChat,
  readNotifications,
  waitForNotification,
  tid,
  waitUntil,
  withEvidence,
} from './lib/harness.mjs';

const FANS = 51;
let sandbox;
let app;
let dataDir;
let alice;
let bobJid;
const peers = [];
const en = loadDictionary('en');
const es = loadDictionary('es');

/** Alice's roster file in Prosody's internal storage (`charla.test` encoded as datamanager does). */
function aliceRosterFile(config) {
  const file = path.join(path.dirname(config), 'data', sandbox.domain.replaceAll('.', '%2e'), 'roster', 'alice.dat');
  assert.ok(fs.existsSync(file), `alice's roster at ${file}`);
  return file;
}

before(async () => {
  sandbox = await Sandbox.start({ name: 'requests-sandbox' });
  const config = sandbox.prosodyConfig();
  // Strangers: accounts on the server that are in nobody's roster.
  for (const user of ['mallory', 'trudy', 'oscar']) sandbox.register(user);
  // 51 requests to see alice's presence, pending on the server: Prosody keeps them in her
  // roster's `pending` set and sends each again when she comes online.
  await sandbox.pause();
  const file = aliceRosterFile(config);
  const pending = Array.from({ length: FANS }, (_, i) => `["fan${String(i).padStart(2, '0')}@${sandbox.domain}"] = true;`);
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /\["pending"\] = \{\};/);
  fs.writeFileSync(file, text.replace('["pending"] = {};', `["pending"] = {${pending.join(' ')}};`));
  await sandbox.resume();

  alice = sandbox.jid('alice');
  bobJid = sandbox.jid('bob');
  dataDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'charla-e2e-requests-'));
  app = await App.start({ sandbox, dataDir, profile: `e2e-requests-${process.pid}`, name: 'requests-app', settings: {} });
  await withEvidence(app, 'requests-login', () => loginWithForm(app, alice, sandbox.password('alice')));
});

after(async () => {
  for (const peer of peers) await peer?.stop();
  await Promise.all([app?.stop(), sandbox?.stop()]);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function stranger(user) {
  const peer = await Peer.start(sandbox, user, { name: `requests-${user}` });
  peers.push(peer);
  return peer;
}

/** The text of the "Message requests (N)" entry, or null without one. */
function requestsEntry() {
  return app.execute(`return document.querySelector(arguments[0])?.textContent.trim() ?? null`, tid('message-requests'));
}

async function waitForRequests(count) {
  await waitUntil(
    async () => {
      const seen = await requestsEntry();
      const expected = count === 0 ? null : en['requests.title'].replace('{count}', String(count));
      if (seen !== expected) throw new Error(`the entry shows ${JSON.stringify(seen)}`);
      return true;
    },
    { message: `"Message requests (${count})"` },
  );
}

/** Opens the request list (if closed) and the request from `jid`. */
async function openRequest(jid) {
  await app.waitFor(tid('message-requests'));
  if ((await (await app.find(tid('message-requests'))).attribute('aria-expanded')) !== 'true') {
    await app.click(tid('message-requests'));
  }
  await app.click(tid('message-request', { jid }));
  await app.waitFor(tid('message-request-bar'));
}

/** Whether the element's box lies within the window (in view, not pushed out). */
function inView(css) {
  return app.execute(
    `const el = document.querySelector(arguments[0]);
     if (!el) return false;
     const r = el.getBoundingClientRect();
     return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;`,
    css,
  );
}

test(`${FANS} subscription requests are one compact group; the buddy list stays in view and usable`, async () => {
  await withEvidence(app, 'requests-subscriptions', async () => {
    const group = await app.waitFor(tid('subscription-group'), { timeout: 30000 });
    await waitUntil(async () => (await group.text()).includes(String(FANS)), { message: `the group counts ${FANS}` });
    assert.equal((await app.findAll(tid('subscription-request'))).length, 0, 'collapsed: no single cards');
    assert.ok(await inView(tid('contact', { jid: bobJid })), "bob's row is in view");

    await app.click(tid('requests-expand'));
    await waitUntil(async () => (await app.findAll(tid('subscription-request'))).length === FANS, {
      message: `${FANS} rows once expanded`,
    });
    // Expanded, the requests scroll on their own: the contacts are still in view and open.
    const pending = await app.execute(
      `const r = document.querySelector(arguments[0]).getBoundingClientRect();
       return { height: r.height, window: window.innerHeight };`,
      tid('pending'),
    );
    assert.ok(pending.height <= pending.window * 0.45, `the requests take ${pending.height} of ${pending.window} px`);
    assert.ok(await inView(tid('contact', { jid: bobJid })), "bob's row is in view with the group open");
    await app.screenshot('requests-subscriptions');
    await openChat(app, bobJid);

    await app.click(tid('requests-expand'));
    await app.click(tid('requests-deny-all'));
    await app.waitForGone(tid('subscription-group'));
    assert.equal((await app.findAll(tid('subscription-request'))).length, 0);
  });
});

test('a stranger writes: no notification, no unread count; listed apart as "Message requests (1)"', async () => {
  await withEvidence(app, 'requests-stranger', async () => {
    const mallory = await stranger('mallory');
    const since = readNotifications().length;
    await mallory.messages(alice, ['Hello, I am from the bank', 'Log in at http://bank.example/verify now']);
    await waitForRequests(1);
    await expectNoNotification((n) => n.appName === 'Charla', {
      since,
      after: waitForQuiet(app, mallory.jid, { why: 'stranger', atLeast: 2 }),
      message: "a notification of a stranger's message",
    });
    assert.equal(await app.title(), 'Charla');
    assert.equal(await app.exists(tid('contact', { jid: mallory.jid })), false, 'not a contact row');
  });
});

test('Ctrl+K finds the request; it opens as text with Accept, Block and Delete (no report on Prosody 0.12)', async () => {
  await withEvidence(app, 'requests-switcher', async () => {
    const mallory = sandbox.jid('mallory');
    await app.chord([Key.Control], 'k');
    await app.waitFor(tid('quick-switcher'));
    await app.keys('mallo');
    await app.waitFor(tid('quick-switcher-item', { jid: mallory }));
    await app.keys(Key.Enter);
    await app.waitForGone(tid('quick-switcher'));
    await app.waitFor(tid('message-request-bar'));
    for (const id of ['message-request-accept', 'message-request-block', 'message-request-delete']) {
      assert.ok(await app.exists(tid(id), { visible: true }), id);
    }
    assert.equal(await app.exists(tid('message-request-report')), false, 'no "Block and report" without XEP-0377');
    // Text nodes only (links at most, as in every chat), never HTML.
    const bodies = await app.execute(
      `return [...document.querySelectorAll('[data-testid="message-body"]')].map((b) => b.textContent)`,
    );
    assert.ok(bodies.includes('Hello, I am from the bank'), JSON.stringify(bodies));
    assert.ok(bodies.includes('Log in at http://bank.example/verify now'), JSON.stringify(bodies));
    assert.equal(
      await app.execute(`return document.querySelectorAll('[data-testid="message-body"] a').length`),
      0,
      'a link from a stranger is not a link',
    );
    if (!(await app.exists(tid('message-requests') + '[aria-expanded="true"]'))) await app.click(tid('message-requests'));
    await app.screenshot('requests-en');
  });
});

test('Delete removes the conversation and the request', async () => {
  await withEvidence(app, 'requests-delete', async () => {
    await app.click(tid('message-request-delete'));
    await app.waitForGone(tid('message-request-bar'));
    await waitForRequests(0);
  });
});

test('Block: the request goes and nothing more comes from them', async () => {
  await withEvidence(app, 'requests-block', async () => {
    const mallory = peers[0];
    await mallory.message(alice, 'me again');
    await waitForRequests(1);
    await openRequest(mallory.jid);
    await app.click(tid('message-request-block'));
    await app.waitForGone(tid('message-request-bar'));
    await waitForRequests(0);
    const since = mallory.mark();
    await mallory.message(alice, 'blocked now?');
    // The server acknowledged it (or bounced it): it has dropped it, or routed it to alice.
    await mallory.waitForEvent(
      (e) => e.type === 'message_updated' && e.message?.body === 'blocked now?' && e.message.state !== 'pending',
      { since, message: 'the server handled "blocked now?"' },
    );
    // Anything routed to alice since comes after it on her stream: echo's answer to a message
    // she writes now. Once that is on screen, the app has handled whatever mallory's did.
    await openChat(app, sandbox.jid('echo'));
    await app.type(tid('composer'), `after the block${Key.Enter}`);
    await waitUntil(async () => (await chatMessages(app)).some((m) => m.body === 'Echo: after the block'), {
      message: "echo's answer",
    });
    assert.equal(await requestsEntry(), null, 'no request from a blocked address');
  });
});

test('Accept opens the add-contact dialog filled in; once added, the chat is an ordinary one', async () => {
  await withEvidence(app, 'requests-accept', async () => {
    const trudy = await stranger('trudy');
    await trudy.message(alice, 'Hi Alice, this is Trudy from the conference');
    await waitForRequests(1);
    await openRequest(trudy.jid);

    // Spanish, light theme: the request list and the request bar.
    await app.select(tid('language-select'), 'es');
    await app.waitForText(tid('message-request-accept'), (t) => t.trim() === es['requests.accept']);
    await app.screenshot('requests-es');
    await app.select(tid('language-select'), 'en');
    await app.waitForText(tid('message-request-accept'), (t) => t.trim() === en['requests.accept']);

    await app.click(tid('message-request-accept'));
    const jid = await app.waitFor(tid('add-contact-jid'));
    assert.equal(await jid.property('value'), trudy.jid);
    await app.click(tid('add-contact-submit'));
    await app.waitFor(tid('contact', { jid: trudy.jid }));
    await app.waitForGone(tid('message-request-bar'));
    await waitForRequests(0);
  });
});

test('dark theme, with stranger notifications turned on in the settings: they notify, still not counted', async () => {
  await app.stop({ keepData: true });
  app = await App.start({
    sandbox,
    dataDir,
    profile: `e2e-requests-${process.pid}`,
    name: 'requests-dark',
    env: { GTK_THEME: 'Adwaita:dark' },
  });
  await withEvidence(app, 'requests-dark', async () => {
    await loginWithForm(app, alice, sandbox.password('alice'));
    // The setting "Notify me of messages from people not in my contacts" turns their
    // notifications on (still no unread count).
    await app.click(tid('settings-button'));
    const box = await app.waitFor(tid('settings-notify-strangers'));
    assert.equal(await box.property('checked'), false, 'off by default');
    // The settings panel opens scrolled down (to its focused Close button): bring it into view.
    await app.execute(`document.querySelector(arguments[0]).scrollIntoView({ block: 'center' })`, tid('settings-notify-strangers'));
    await box.click();
    await waitUntil(async () => (await box.property('checked')) === true, { message: 'checked' });
    await app.click(tid('settings-close'));
    const oscar = await stranger('oscar');
    const since = readNotifications().length;
    await oscar.messages(alice, ['Congratulations! You won a prize', 'Reply with your password to claim it']);
    await waitForRequests(1);
    await waitForNotification((n) => n.appName === 'Charla' && n.summary.startsWith(oscar.jid), { since });
    assert.equal(await app.title(), 'Charla');
    await openRequest(oscar.jid);
    assert.equal(await app.execute('return matchMedia("(prefers-color-scheme: dark)").matches'), true);
    await app.screenshot('requests-dark');
  });
});
