// Avatars in the window: bob (the command-line client) sets an avatar; alice's buddy list shows
// it as an image in his row (instead of his initials), and so do the chat header and the
// notification of his next message.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  Peer, Sandbox, openChat, readNotifications, startLoggedIn, tid, waitForNotification, waitUntil, withEvidence,
} from './lib/harness.mjs';

/** A 1x1 red PNG. */
const PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

let sandbox;
let app;
let bob;
let dir;
/** The hash of bob's avatar, once set. */
let bobAvatar;

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
    bobAvatar = set.avatar;
    await openChat(app, sandbox.jid('bob'));
    await waitUntil(async () => (await avatarSrc(tid('chat-header'))) === src, { message: 'the chat header shows it' });
  });
});

test("(c) the notification of bob's message shows his avatar", async () => {
  await withEvidence(app, 'avatar-notification', async () => {
    assert.ok(bobAvatar, 'bob has an avatar (test before)');
    const since = readNotifications().length;
    await app.execute(`window.dispatchEvent(new Event('blur'))`);
    try {
      await bob.message(sandbox.jid('alice'), 'look at my picture');
      const note = await waitForNotification((n) => n.body === 'look at my picture', { since });
      assert.ok(note.imagePath?.endsWith(`/avatars/${bobAvatar}`), `image-path ${note.imagePath}`);
    } finally {
      await app.execute(`window.dispatchEvent(new Event('focus'))`);
    }
  });
});
