// An untrusted server certificate in the window: the app is told to trust another CA than the
// one that signed the sandbox's certificate, so alice's login stops with the certificate dialog
// (server, SHA-256 fingerprint, reason). Cancel keeps her on the login screen; "Trust this
// certificate" pins it and logs in; after a restart the pinned certificate is accepted without
// asking. Saves tests/e2e/screenshots/certificate-dialog.png.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { App, Sandbox, tid, waitForLoginScreen, waitForMainWindow, withEvidence } from './lib/harness.mjs';

let sandbox;
let dataDir;
let otherDir;
const profile = `e2e-certificate-${process.pid}`;

/** openssl's SHA-256 fingerprint of a PEM certificate (AA:BB:...). */
function fingerprint(file) {
  const out = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', file], { encoding: 'utf8' });
  return out.trim().split('=')[1];
}

before(async () => {
  sandbox = await Sandbox.start({ name: 'certificate-sandbox' });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'charla-e2e-certificate-'));
  // The same sandbox description, but trusting a CA of its own that signed nothing.
  otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'charla-e2e-other-ca-'));
  const ca = path.join(otherDir, 'ca.pem');
  execFileSync('openssl', [
    'req', '-x509', '-nodes', '-days', '30', '-subj', '/CN=Not the sandbox CA',
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-keyout', path.join(otherDir, 'ca.key'), '-out', ca,
  ], { stdio: 'ignore' });
  const description = JSON.parse(fs.readFileSync(path.join(sandbox.dir, 'sandbox.json'), 'utf8'));
  fs.writeFileSync(path.join(otherDir, 'sandbox.json'), JSON.stringify({ ...description, ca_file: ca }));
});

after(async () => {
  await sandbox?.stop();
  for (const dir of [dataDir, otherDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function submitLogin(app) {
  await waitForLoginScreen(app);
  await app.type(tid('login-jid'), sandbox.jid('alice'));
  await app.type(tid('login-password'), sandbox.password('alice'));
  await app.click(tid('login-submit'));
}

test('an untrusted certificate is shown, cancelled, trusted, and then accepted after a restart', async () => {
  const env = { CHARLA_SANDBOX_DIR: otherDir };
  const expected = fingerprint(path.join(sandbox.dir, 'server.pem'));
  const first = await App.start({ dataDir, profile, env, name: 'certificate-first' });
  try {
    await withEvidence(first, 'certificate-dialog', async () => {
      await submitLogin(first);
      await first.waitFor(tid('certificate-dialog'), { timeout: 30000 });
      assert.equal((await first.text(tid('certificate-fingerprint'))).trim(), expected);
      assert.equal((await first.text(tid('certificate-server'))).trim(), sandbox.jid('alice').split('@')[1]);
      const reason = await first.execute(`return document.querySelector(arguments[0]).dataset.reason`, tid('certificate-reason'));
      assert.equal(reason, 'unknown_issuer');
      await first.screenshot('certificate-dialog');

      await first.click(tid('certificate-cancel'));
      await first.waitForGone(tid('certificate-dialog'));
      const error = await first.waitFor(tid('login-error'));
      assert.equal(await error.attribute('data-code'), 'tls_certificate');
      assert.equal(await first.exists(tid('own-presence')), false, 'logged in without trusting');

      await submitLogin(first);
      await first.waitFor(tid('certificate-dialog'), { timeout: 30000 });
      await first.click(tid('certificate-trust'));
      await waitForMainWindow(first);
    });
  } finally {
    await first.stop();
  }

  const second = await App.start({ dataDir, profile, env, name: 'certificate-second' });
  try {
    await withEvidence(second, 'certificate-pinned', async () => {
      await submitLogin(second);
      await waitForMainWindow(second);
      assert.equal(await second.exists(tid('certificate-dialog')), false, 'asked again for the pinned certificate');
    });
  } finally {
    await second.stop();
  }
});

test('a certificate that changes while online stops the reconnection and asks again in the main window', async () => {
  const env = { CHARLA_SANDBOX_DIR: otherDir };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'charla-e2e-certificate-changed-'));
  const app = await App.start({ dataDir: dir, profile: `${profile}-changed`, env, name: 'certificate-changed' });
  try {
    await withEvidence(app, 'certificate-changed', async () => {
      await submitLogin(app);
      await app.waitFor(tid('certificate-dialog'), { timeout: 30000 });
      await app.click(tid('certificate-trust'));
      await waitForMainWindow(app);

      // The server comes back with another certificate for the same names (a new key, signed
      // by the sandbox's CA, which its own bots trust and the app does not).
      await sandbox.pause();
      const names = [sandbox.domain, `conference.${sandbox.domain}`, `upload.${sandbox.domain}`];
      const extensions = path.join(otherDir, 'leaf.ext');
      fs.writeFileSync(
        extensions,
        `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`,
      );
      const csr = path.join(otherDir, 'leaf.csr');
      execFileSync('openssl', [
        'req', '-new', '-nodes', '-subj', `/CN=${sandbox.domain}`,
        '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-keyout', path.join(sandbox.dir, 'server.key'), '-out', csr,
      ], { stdio: 'ignore' });
      execFileSync('openssl', [
        'x509', '-req', '-days', '30', '-in', csr, '-extfile', extensions,
        '-CA', path.join(sandbox.dir, 'ca.pem'), '-CAkey', path.join(sandbox.dir, 'ca.key'), '-CAcreateserial',
        '-out', path.join(sandbox.dir, 'server.pem'),
      ], { stdio: 'ignore' });
      const changed = fingerprint(path.join(sandbox.dir, 'server.pem'));
      await sandbox.resume();

      // Reconnecting now (the banner's button, instead of the backoff's wait) meets it: the
      // dialog opens over the main window, with the new print.
      await app.waitFor(tid('connection-retry'), { timeout: 30000 });
      await app.click(tid('connection-retry'));
      await app.waitFor(tid('certificate-dialog'), { timeout: 30000 });
      assert.equal((await app.text(tid('certificate-fingerprint'))).trim(), changed);
      const reason = await app.execute(`return document.querySelector(arguments[0]).dataset.reason`, tid('certificate-reason'));
      assert.equal(reason, 'pin_changed');
      assert.ok(await app.exists(tid('own-presence')), 'the main window stays');
      await app.click(tid('certificate-trust'));
      await app.waitForGone(tid('certificate-dialog'));
      await app.waitForGone(tid('connection-banner'), { timeout: 30000 });
    });
  } finally {
    await app.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
