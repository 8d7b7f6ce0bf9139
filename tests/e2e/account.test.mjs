// Sign-up (XEP-0077) from the login screen: a taken name is refused with its own error; a new
// account is created, the login form fills itself, and the new account logs in and is online
// (and the server knows it: charla-cli logs in with it too). Then, in Settings, its password is
// changed and the account is deleted on the server after confirming: the window is back at the
// login screen, and logging in with the account is refused.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { App, Peer, Sandbox, tid, waitForLoginScreen, waitForMainWindow, waitUntil, withEvidence } from './lib/harness.mjs';

let sandbox;
let app;
let peer;

before(async () => {
  sandbox = await Sandbox.start({ name: 'account-sandbox', allowRegistration: true });
  app = await App.start({ sandbox, name: 'account-app' });
});

after(async () => {
  await Promise.all([peer?.stop(), app?.stop(), sandbox?.stop()]);
});

async function fillRegistration(jid, password) {
  await app.type(tid('register-jid'), jid);
  await app.type(tid('register-password'), password);
  await app.type(tid('register-confirm'), password);
  await app.click(tid('register-submit'));
}

test('a taken name is refused with username_taken and stays on the form', async () => {
  await withEvidence(app, 'account-taken', async () => {
    await waitForLoginScreen(app);
    await app.click(tid('login-register'));
    await app.waitFor(tid('register-form'));
    await fillRegistration(sandbox.jid('alice'), 'whatever');
    const error = await app.waitFor(`${tid('register-error')}[data-code="username_taken"]`, { timeout: 30000 });
    assert.ok((await error.text()).trim().length > 0, 'the error is empty');
    assert.ok(await app.exists(tid('register-form'), { visible: true }), 'left the form');
  });
});

test('a new account is created from the login screen and is online with it', async () => {
  await withEvidence(app, 'account-create', async () => {
    const jid = sandbox.jid('newbie');
    await app.clear(tid('register-jid'));
    await app.clear(tid('register-password'));
    await app.clear(tid('register-confirm'));
    await fillRegistration(jid, 'newbie');
    // Back on the login form, filled in with the new account.
    await app.waitFor(tid('register-done'), { timeout: 30000 });
    assert.equal(await (await app.find(tid('login-jid'))).property('value'), jid);
    assert.equal(await (await app.find(tid('login-password'))).property('value'), 'newbie');
    await app.click(tid('login-submit'));
    await waitForMainWindow(app);
    // Online: no connection banner once the session is up.
    await waitUntil(async () => !(await app.exists(tid('connection-banner'))), {
      message: 'online (no connection banner)',
    });
    // The server has the account: another client logs in with it.
    peer = await Peer.start(sandbox, 'newbie');
  });
});

test('in Settings the password is changed, then the account is deleted on the server', async () => {
  await withEvidence(app, 'account-care', async () => {
    const jid = sandbox.jid('newbie');
    await peer.stop();
    peer = null;
    await app.click(tid('settings-button'));
    await app.click(tid('account-change-password'));
    await app.type(tid('account-password'), 'fresh-pw');
    await app.type(tid('account-password-confirm'), 'fresh-pw');
    await app.click(tid('account-confirm'));
    await app.waitFor(tid('account-password-done'), { timeout: 30000 });
    await app.click(tid('account-cancel'));
    // The session logged in again with the new password.
    await waitUntil(async () => !(await app.exists(tid('connection-banner'))), {
      timeout: 30000,
      message: 'online again after the password change',
    });

    await app.click(tid('account-delete'));
    await app.waitFor(`${tid('account-dialog')} form[data-action="delete"]`);
    await app.click(tid('account-confirm'));
    await waitForLoginScreen(app, { timeout: 30000 });

    await app.clear(tid('login-jid'));
    await app.type(tid('login-jid'), jid);
    await app.type(tid('login-password'), 'fresh-pw');
    await app.click(tid('login-submit'));
    await app.waitFor(`${tid('login-error')}[data-code="auth_failed"]`, { timeout: 30000 });
  });
});
