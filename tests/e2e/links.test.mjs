// xmpp: links (RFC 5122, XEP-0147) reaching the real window: one given at the first start
// waits for the login; later ones come from a second launch of the same profile (the desktop
// runs `charla %u`), which hands them over and exits. A link never acts on its own: it opens
// the chat with an unsent draft, or the add-contact dialog filled in.
//
// One app (alice, started with a link before logging in) for the whole file.
//
// Test ids: login-jid, chat-header, composer, message, contact, add-contact-dialog,
// add-contact-jid, add-contact-name, add-contact-group, add-contact-submit, notice.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';

import {
  App, BIN, Sandbox, chatHeaderText, chatMessages, contactName, loadDictionary, loginWithForm, sleep, tid,
  waitForChatHeader, waitUntil, withEvidence,
} from './lib/harness.mjs';

let sandbox;
let app;

const en = loadDictionary('en');

before(async () => {
  sandbox = await Sandbox.start({ name: 'links-sandbox' });
  const carol = sandbox.jid('carol');
  app = await App.start({
    sandbox,
    name: 'links-app',
    args: [`xmpp:${carol}?message;body=Started%20with%20a%20link`],
  });
});

after(async () => {
  await Promise.all([app?.stop(), sandbox?.stop()]);
});

/** The message box's current text. */
function composerValue() {
  return app.execute(`return document.querySelector(arguments[0])?.value ?? null`, tid('composer'));
}

/** Waits for the chat with `jid` to be in view with `draft` in its message box. */
async function waitForDraft(jid, draft) {
  await waitForChatHeader(app, await contactName(app, jid));
  await waitUntil(async () => (await composerValue()) === draft, {
    message: `the composer to hold ${JSON.stringify(draft)} (it holds ${JSON.stringify(await composerValue())})`,
  });
}

/** Launches the same binary again with `link`, as the desktop does; resolves with its exit. */
async function launchWith(link) {
  const second = spawn(BIN.app, [link], { env: { ...process.env, ...app.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  second.stdout.on('data', (d) => (output += d));
  second.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => second.once('exit', (code, signal) => resolve({ code, signal })));
  const result = await Promise.race([exited, sleep(10000).then(() => null)]);
  if (!result) second.kill('SIGKILL');
  assert.deepEqual(result, { code: 0, signal: null }, `the second launch must hand over and exit; output: ${output.slice(-2000)}`);
}

test('a link given at the first start waits for the login, then opens its chat with the draft', async () => {
  await withEvidence(app, 'links-first-start', async () => {
    const carol = sandbox.jid('carol');
    await app.waitFor(tid('login-jid'));
    assert.equal(await app.exists(tid('composer')), false, 'no chat before the login');
    await loginWithForm(app, sandbox.jid('alice'), sandbox.password('alice'));
    await waitForDraft(carol, 'Started with a link');
    assert.deepEqual(await chatMessages(app).then((m) => m.filter((x) => x.body?.includes('Started'))), [], 'nothing was sent');
  });
});

test('a second launch with ?message;body= opens that chat with the unsent draft and exits', async () => {
  await withEvidence(app, 'links-second-launch', async () => {
    const bob = sandbox.jid('bob');
    await launchWith(`xmpp:${bob}?message;body=Hola%20Bob`);
    await waitForDraft(bob, 'Hola Bob');
    // Unsent: no message in the chat, even after a while.
    await sleep(1000);
    assert.deepEqual(await chatMessages(app).then((m) => m.filter((x) => x.body === 'Hola Bob')), []);
    assert.deepEqual(await app.windowHandles().then((h) => h.length), 1);
  });
});

test('?roster;name=;group= opens the add-contact dialog filled in; the contact is added only on submit', async () => {
  await withEvidence(app, 'links-roster', async () => {
    const zoe = sandbox.jid('zoe');
    await launchWith(`xmpp:${zoe}?roster;name=Zoe%20Z;group=Friends`);
    await app.waitFor(tid('add-contact-dialog'));
    const values = await app.execute(
      `return ['add-contact-jid', 'add-contact-name', 'add-contact-group'].map(
         (id) => document.querySelector('[data-testid="' + id + '"]')?.value ?? null)`,
    );
    assert.deepEqual(values, [zoe, 'Zoe Z', 'Friends']);
    await sleep(500);
    assert.equal(await app.exists(tid('contact', { jid: zoe })), false, 'not added before the user confirms');
    await app.click(tid('add-contact-submit'));
    await app.waitForGone(tid('add-contact-dialog'));
    await app.waitFor(tid('contact', { jid: zoe }));
    assert.equal(await contactName(app, zoe), 'Zoe Z');
  });
});

test('?roster for someone already a contact opens their chat instead', async () => {
  await withEvidence(app, 'links-roster-known', async () => {
    const carol = sandbox.jid('carol');
    await launchWith(`xmpp:${carol}?roster;name=Carol;group=Friends`);
    await waitForChatHeader(app, await contactName(app, carol));
    assert.match(await chatHeaderText(app), new RegExp(await contactName(app, carol)));
    assert.equal(await app.exists(tid('add-contact-dialog')), false);
  });
});

test('a malformed link is reported as a notice, and nothing opens', async () => {
  await withEvidence(app, 'links-bad', async () => {
    const before = await chatHeaderText(app);
    await launchWith(`xmpp:${sandbox.domain}?message;body=no%20user%20part`);
    const notice = await app.waitFor(tid('notice', { code: 'bad_link' }));
    assert.equal((await notice.text()).trim(), en['error.badLink']);
    assert.equal(await chatHeaderText(app), before);
  });
});
