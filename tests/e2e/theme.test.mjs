// Light and dark: the same profile and conversation in a light session and in a dark one
// (GTK_THEME=Adwaita:dark, which WebKitGTK turns into prefers-color-scheme: dark), saved as
// tests/e2e/screenshots/main-light.png and main-dark.png.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  App, Key, Peer, Sandbox, chatMessages, loginWithForm, openChat, tid, waitUntil, withEvidence,
} from './lib/harness.mjs';

let sandbox;
let bob;
let dataDir;
const profile = `e2e-theme-${process.pid}`;
const colors = {};

before(async () => {
  sandbox = await Sandbox.start({ name: 'theme-sandbox' });
  bob = await Peer.start(sandbox, 'bob', { status: 'Hola', name: 'theme-bob' });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'charla-e2e-theme-'));
});

after(async () => {
  await bob?.stop();
  await sandbox?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Logs alice in unless the profile already did (a remembered login), and opens bob's chat. */
async function toBobsChat(app) {
  await waitUntil(async () => (await app.exists(tid('own-presence'))) || (await app.exists(tid('login-jid'), { visible: true })), {
    message: 'the login screen or the main window',
  });
  if (!(await app.exists(tid('own-presence')))) {
    await loginWithForm(app, sandbox.jid('alice'), sandbox.password('alice'));
  }
  await app.waitFor(tid('contact', { jid: bob.jid }));
  await openChat(app, bob.jid);
}

async function appearance(app) {
  return app.execute(`return {
    dark: matchMedia('(prefers-color-scheme: dark)').matches,
    page: getComputedStyle(document.body).backgroundColor,
    text: getComputedStyle(document.body).color,
    composer: getComputedStyle(document.querySelector('[data-testid="composer"]')).backgroundColor,
  }`);
}

test('main window, light', async () => {
  const app = await App.start({ sandbox, dataDir, profile, name: 'theme-light' });
  try {
    await withEvidence(app, 'theme-light', async () => {
      await toBobsChat(app);
      await app.type(tid('composer'), `Hello Bob${Key.Enter}`);
      await bob.waitForEvent((e) => e.type === 'message_added' && e.message?.body === 'Hello Bob');
      await bob.message(sandbox.jid('alice'), 'Hi Alice! Lunch at noon?');
      await waitUntil(async () => {
        const messages = await chatMessages(app);
        return messages.length >= 2 && messages.every((m) => m.state !== 'pending');
      }, { message: 'both messages shown' });
      colors.light = await appearance(app);
      assert.equal(colors.light.dark, false);
      await app.screenshot('main-light');
    });
  } finally {
    await app.stop();
  }
});

test('main window, dark (GTK_THEME=Adwaita:dark)', async () => {
  const app = await App.start({ sandbox, dataDir, profile, name: 'theme-dark', env: { GTK_THEME: 'Adwaita:dark' } });
  try {
    await withEvidence(app, 'theme-dark', async () => {
      await toBobsChat(app);
      await waitUntil(async () => (await chatMessages(app)).length >= 2, { message: 'the stored conversation' });
      colors.dark = await appearance(app);
      assert.equal(colors.dark.dark, true, 'prefers-color-scheme: dark does not match');
      await app.screenshot('main-dark');
      if (colors.light) {
        assert.notEqual(colors.dark.text, colors.light.text, `text colour is the same in both: ${colors.dark.text}`);
        assert.notEqual(colors.dark.composer, colors.light.composer, 'the composer looks the same in both');
      }
    });
  } finally {
    await app.stop();
  }
});
