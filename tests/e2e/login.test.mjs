// Logging in: a wrong password is refused on the login screen; a demo account logs in and shows
// the contact list with presence, groups and the filter.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  App, Sandbox, contactShow, loginWithDemoAccount, tid, waitForLoginScreen, waitUntil, withEvidence,
} from './lib/harness.mjs';

let sandbox;
let app;

before(async () => {
  sandbox = await Sandbox.start({ name: 'login-sandbox' });
  app = await App.start({ sandbox, name: 'login-app' });
});

after(async () => {
  await Promise.all([app?.stop(), sandbox?.stop()]);
});

test('(a) a wrong password shows login-error and stays on the login screen', async () => {
  await withEvidence(app, 'login-wrong-password', async () => {
    await waitForLoginScreen(app);
    await app.type(tid('login-jid'), sandbox.jid('alice'));
    await app.type(tid('login-password'), 'not-the-password');
    await app.click(tid('login-submit'));
    const error = await app.waitFor(tid('login-error'), { timeout: 30000 });
    const text = (await error.text()).trim();
    assert.ok(text.length > 0, 'login-error is empty');
    assert.ok(await app.exists(tid('login-jid'), { visible: true }), 'left the login screen');
    assert.equal(await app.exists(tid('own-presence')), false, 'the main window is shown');
    assert.equal(await app.exists(tid('login-connecting'), { visible: true }), false, 'still connecting');
    // The form keeps what was typed, so the user can correct the password.
    assert.equal(await (await app.find(tid('login-jid'))).property('value'), sandbox.jid('alice'));
  });
});

test('(b) the alice demo account logs in: bob is offline, echo is online', async () => {
  await withEvidence(app, 'login-demo-account', async () => {
    const buttons = await app.execute(
      `return [...document.querySelectorAll('[data-testid="demo-account"]')].map((b) => b.dataset.jid)`,
    );
    assert.ok(buttons.includes(sandbox.jid('alice')), `demo accounts: ${buttons}`);
    await loginWithDemoAccount(app, sandbox.jid('alice'));
    await app.waitFor(tid('contact', { jid: sandbox.jid('bob') }));
    assert.equal(await contactShow(app, sandbox.jid('bob')), 'offline');
    const echo = sandbox.jid('echo');
    await waitUntil(async () => ['available', 'chat'].includes(await contactShow(app, echo)), {
      message: `${echo} online (its presence-dot: ${await contactShow(app, echo)})`,
    });
    assert.equal(await app.exists(tid('login-jid'), { visible: true }), false, 'the login form is still shown');
  });
});

test('the contact list has the roster groups and a working filter', async () => {
  await withEvidence(app, 'login-groups-filter', async () => {
    const groups = await app.execute(
      `return [...document.querySelectorAll('[data-testid="group-header"]')].map((g) => g.dataset.group)`,
    );
    for (const group of ['Family', 'Work']) assert.ok(groups.includes(group), `groups: ${groups}`);
    const rows = () =>
      app.execute(`return [...document.querySelectorAll('[data-testid="contact"]')].map((c) => c.dataset.jid)`);
    assert.ok((await rows()).length >= 3, `contacts: ${await rows()}`);
    await app.type(tid('contact-filter'), 'car');
    await waitUntil(async () => JSON.stringify(await rows()) === JSON.stringify([sandbox.jid('carol')]), {
      message: 'only carol after filtering "car"',
    });
    await app.clear(tid('contact-filter'));
    await waitUntil(async () => (await rows()).length >= 3, { message: 'all contacts back' });
  });
});
