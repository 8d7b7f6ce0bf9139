// Avatars in the window: bob (the command-line client) sets an avatar; alice's buddy list shows
// it as an image in his row (instead of his initials), and so does the chat header.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { Peer, Sandbox, openChat, startLoggedIn, tid, waitUntil, withEvidence } from './lib/harness.mjs';

/** A 1x1 red PNG. */
const PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

let sandbox;
let app;
let bob;
let dir;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'charla-avatar-'));
  sandbox = await Sandbox.start({ name: 'avatar-sandbox' });
  [app, bob] = await Promise.all([
    startLoggedIn(sandbox, 'alice', { name: 'avatar-app' }),
    Peer.start(sandbox, 'bob', { name: 'avatar-bob' }),
  ]);
});

after(async () => {
  await bob?.stop();
  await Promise.all([app?.stop(), sandbox?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The `src` of the avatar image inside `css`, or null while it shows initials. */
function avatarSrc(css) {
  return app.execute(
    `return document.querySelector(arguments[0])?.querySelector('[data-testid="avatar-image"]')?.getAttribute('src') ?? null;`,
    css,
  );
}

test('(c) a peer sets an avatar; the buddy list and the chat header show the image', async () => {
  await withEvidence(app, 'avatar-buddy-list', async () => {
    const row = tid('contact', { jid: sandbox.jid('bob') });
    await app.waitFor(row);
    assert.equal(await avatarSrc(row), null, 'initials before bob has an avatar');
    const file = path.join(dir, 'bob.png');
    fs.writeFileSync(file, Buffer.from(PIXEL_PNG, 'base64'));
    const since = bob.mark();
    bob.send(`/avatar ${file}`);
    const set = await bob.waitForEvent((e) => typeof e.avatar === 'string', { since, message: 'avatar published' });
    let src = null;
    await waitUntil(async () => (src = await avatarSrc(row)) !== null, { message: 'an <img> in bob’s row' });
    assert.match(src, /^data:image\/png;base64,/);
    const bytes = Buffer.from(src.slice(src.indexOf(',') + 1), 'base64');
    const { createHash } = await import('node:crypto');
    assert.equal(createHash('sha1').update(bytes).digest('hex'), set.avatar, 'the image is the one bob published');
    await openChat(app, sandbox.jid('bob'));
    await waitUntil(async () => (await avatarSrc(tid('chat-header'))) === src, { message: 'the chat header shows it' });
  });
});
