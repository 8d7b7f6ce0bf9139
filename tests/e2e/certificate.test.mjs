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

import { App, Sandbox, tid, waitForLoginScreen, waitForMainWindow, waitUntil, withEvidence } from './lib/harness.mjs';

// Each test's own budget, the same as .ci/e2e's --test-timeout. The waits on the app (a TLS
// handshake, a reconnection) have no tighter limit than what is left of it, less a margin to save
// the evidence of a failure: on a busy machine they take as long as they take.
const BUDGET = 300000;
const EVIDENCE_MARGIN = 20000;

/** A deadline for the test that starts now: `left()` is the time its waits may still take. */
function budget() {
  const end = Date.now() + BUDGET - EVIDENCE_MARGIN;
  return { left: () => Math.max(1000, end - Date.now()) };
}

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

test('an untrusted certificate is shown, cancelled, trusted, and then accepted after a restart', { timeout: BUDGET }, async () => {
  const { left } = budget();
  const env = { CHARLA_SANDBOX_DIR: otherDir };
  const expected = fingerprint(path.join(sandbox.dir, 'server.pem'));
  const first = await App.start({ dataDir, profile, env, name: 'certificate-first' });
  try {
    await withEvidence(first, 'certificate-dialog', async () => {
      await submitLogin(first);
      await first.waitFor(tid('certificate-dialog'), { timeout: left() });
      assert.equal((await first.text(tid('certificate-fingerprint'))).trim(), expected);
      assert.equal((await first.text(tid('certificate-server'))).trim(), sandbox.jid('alice').split('@')[1]);
      const reason = await first.execute(`return document.querySelector(arguments[0]).dataset.reason`, tid('certificate-reason'));
      assert.equal(reason, 'unknown_issuer');
      await first.screenshot('certificate-dialog');

      await first.click(tid('certificate-cancel'));
      await first.waitForGone(tid('certificate-dialog'));
      const error = await first.waitFor(tid('login-error'), { timeout: left() });
      assert.equal(await error.attribute('data-code'), 'tls_certificate');
      assert.equal(await first.exists(tid('own-presence')), false, 'logged in without trusting');

      await submitLogin(first);
      await first.waitFor(tid('certificate-dialog'), { timeout: left() });
      await first.click(tid('certificate-trust'));
      await waitForMainWindow(first, { timeout: left() });
    });
  } finally {
    await first.stop();
  }

  const second = await App.start({ dataDir, profile, env, name: 'certificate-second' });
  try {
    await withEvidence(second, 'certificate-pinned', async () => {
      await submitLogin(second);
      await waitForMainWindow(second, { timeout: left() });
      assert.equal(await second.exists(tid('certificate-dialog')), false, 'asked again for the pinned certificate');
    });
  } finally {
    await second.stop();
  }
});

test('a certificate that changes while online stops the reconnection and asks again in the main window', { timeout: BUDGET }, async () => {
  const { left } = budget();
  const env = { CHARLA_SANDBOX_DIR: otherDir };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'charla-e2e-certificate-changed-'));
  const app = await App.start({ dataDir: dir, profile: `${profile}-changed`, env, name: 'certificate-changed' });
  try {
    await withEvidence(app, 'certificate-changed', async () => {
      await submitLogin(app);
      await app.waitFor(tid('certificate-dialog'), { timeout: left() });
      await app.click(tid('certificate-trust'));
      await waitForMainWindow(app, { timeout: left() });

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

      // The core reports the lost connection (the banner) and reconnects; the reconnection that
      // meets the new certificate stops and opens the dialog over the main window, with the new
      // print. That may be the backoff's own attempt or one the banner's "Reconnect now" starts:
      // the test waits for the dialog, pressing the button whenever the banner offers it (so as
      // not to sit out the backoff), however long a busy machine makes either take.
      const seen = new Set();
      await waitUntil(
        async () => {
          if (await app.exists(tid('certificate-dialog'), { visible: true })) return true;
          const states = await app.execute(
            `return [...document.querySelectorAll(arguments[0])].map((b) => b.dataset.state)`,
            tid('connection-banner'),
          );
          seen.add(states.length ? states.join(',') : 'online');
          for (const retry of await app.findAll(tid('connection-retry'))) await retry.click().catch(() => {});
          return false;
        },
        { timeout: left(), interval: 250, message: 'the certificate dialog after the reconnection' },
      ).catch((error) => {
        error.message += `; connection states the banner showed: ${[...seen].join(' → ')}`;
        throw error;
      });
      assert.equal((await app.text(tid('certificate-fingerprint'))).trim(), changed);
      const reason = await app.execute(`return document.querySelector(arguments[0]).dataset.reason`, tid('certificate-reason'));
      assert.equal(reason, 'pin_changed');
      assert.ok(await app.exists(tid('own-presence')), 'the main window stays');
      await app.click(tid('certificate-trust'));
      await app.waitForGone(tid('certificate-dialog'), { timeout: left() });
      // Online again: the core reported it, so the banner went.
      await app.waitForGone(tid('connection-banner'), { timeout: left() });
    });
  } finally {
    await app.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
