// Rich messages in a group chat, in the window (issue 17): alice joins (and so creates, as its
// owner and a moderator) a room, bob (the charla-cli peer) joins and speaks; alice reacts to bob's
// line from its ⋯ menu (bob gets the reaction), answers it (bob gets a reply naming his line, the
// quote shows in the window), edits her answer (bob gets the correction), and deletes bob's spam
// as a moderator (XEP-0425, Prosody's mod_muc_moderation: bob's own client shows it deleted by a
// moderator, the window a tombstone).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { App, Key, Peer, Sandbox, loadDictionary, loginWithForm, tid, waitUntil, withEvidence } from './lib/harness.mjs';

const en = loadDictionary('en');

let sandbox;
let app;
let bob;
let dataDir;
let room;
const profile = `e2e-rich-rooms-${process.pid}`;

before(async () => {
  sandbox = await Sandbox.start({ name: 'rich-rooms-sandbox' });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'charla-e2e-rich-rooms-'));
  room = `club@conference.${sandbox.jid('alice').split('@')[1]}`;
  [app, bob] = await Promise.all([
    App.start({ sandbox, dataDir, profile, name: 'rich-rooms' }),
    Peer.start(sandbox, 'bob', { name: 'rich-rooms-bob' }),
  ]);
  await loginWithForm(app, sandbox.jid('alice'), sandbox.password('alice'));
});

after(async () => {
  await bob?.stop();
  await app?.stop();
  await sandbox?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The room's lines as the window shows them. */
function lines() {
  return app.execute(
    `return [...document.querySelectorAll('[data-testid="room-line"]')].map((l) => ({
       id: Number(l.dataset.id),
       text: l.querySelector('[data-testid="room-line-text"]')?.textContent ?? null,
       edited: l.dataset.edited === 'true',
       retracted: l.dataset.retracted === 'true',
       quote: l.querySelector('[data-testid="reply-quote-text"]')?.textContent ?? null,
       reactions: [...l.querySelectorAll('[data-testid="reaction"]')].map((r) => r.dataset.emoji),
     }));`,
  );
}

async function waitForLine(predicate, message) {
  let found;
  await waitUntil(
    async () => {
      found = (await lines()).find(predicate);
      return found !== undefined;
    },
    { message },
  );
  return found;
}

const line = (id) => `${tid('room-line')}[data-id="${id}"]`;

/** Opens line `id`'s menu from its ⋯ button and picks `action` (with `emoji` for a reaction). */
async function pick(id, action, emoji) {
  await waitUntil(
    async () => {
      if (!(await app.exists(tid('context-menu')))) {
        await app.session.pointerClick(await app.find(`${line(id)} ${tid('message-menu-button')}`));
      }
      return app.exists(tid('context-menu'));
    },
    { message: `the menu of line ${id}` },
  );
  await app.click(tid('context-menu-item', emoji ? { action, emoji } : { action }));
  await app.waitForGone(tid('context-menu'));
}

/** Writes `text` in the room's composer (by script: WebDriver loses some shifted characters). */
async function fill(text) {
  await app.execute(
    `const box = document.querySelector('[data-testid="room-composer"]');
     box.focus(); box.value = arguments[0]; box.dispatchEvent(new Event('input', { bubbles: true }));`,
    text,
  );
}

test('alice and bob in the room; alice reacts to bob\'s line and answers it', async () => {
  await withEvidence(app, 'rich-rooms-react-reply', async () => {
    await app.click(tid('join-room'));
    await app.waitFor(tid('join-room-dialog'));
    await app.type(tid('join-room-address'), room);
    await app.click(tid('join-room-submit'));
    await app.waitFor(`${tid('room-view', { jid: room })}[data-phase="joined"]`, { timeout: 20000 });
    let since = bob.mark();
    bob.send(`/join ${room} bob`);
    await bob.waitForEvent((e) => e.type === 'room_joined' && e.room === room, { since, message: 'bob in the room' });
    bob.send(`/say ${room} Who is coming on Friday?`);
    const friday = await waitForLine((l) => l.text === 'Who is coming on Friday?', "bob's line");

    since = bob.mark();
    await pick(friday.id, 'react', '👍');
    await bob.waitForEvent(
      (e) => e.type === 'room_message_updated' && e.message?.body === 'Who is coming on Friday?'
        && e.message.rich?.reactions?.some((r) => r.emoji === '👍' && r.by.includes('alice')),
      { since, message: "bob sees alice's reaction" },
    );
    await waitForLine((l) => l.id === friday.id && l.reactions.includes('👍'), 'the chip');

    await pick(friday.id, 'reply');
    await app.waitFor(tid('composer-reply'));
    since = bob.mark();
    await fill('Me, with cake');
    await app.keys(Key.Enter);
    const got = await bob.waitForEvent(
      (e) => e.type === 'room_message_added' && e.message?.body === 'Me, with cake',
      { since, message: 'bob gets the reply' },
    );
    assert.ok(got.message.rich?.reply?.target !== null, `a reply naming his line: ${JSON.stringify(got.message.rich)}`);
    await waitForLine((l) => l.text === 'Me, with cake' && l.quote === 'Who is coming on Friday?', 'the reply with its quote');
  });
});

test('alice edits her line from its menu; bob gets the correction', async () => {
  await withEvidence(app, 'rich-rooms-edit', async () => {
    const mine = await waitForLine((l) => l.text === 'Me, with cake', 'her line');
    await pick(mine.id, 'edit');
    await app.waitFor(tid('composer-editing'));
    const since = bob.mark();
    await fill('Me, with two cakes');
    await app.keys(Key.Enter);
    await bob.waitForEvent(
      (e) => e.type === 'room_message_updated' && e.message?.body === 'Me, with two cakes' && e.message.rich?.edited,
      { since, message: 'bob gets the correction' },
    );
    await waitForLine((l) => l.id === mine.id && l.text === 'Me, with two cakes' && l.edited, 'edited here');
  });
});

test('alice, a moderator, deletes bob\'s spam for everyone', async () => {
  await withEvidence(app, 'rich-rooms-moderate', async () => {
    bob.send(`/say ${room} Cheap watches here`);
    const spam = await waitForLine((l) => l.text === 'Cheap watches here', "bob's spam");
    await pick(spam.id, 'moderate');
    await app.waitFor(tid('confirm-delete'));
    await app.type(tid('moderate-reason'), 'spam');
    const since = bob.mark();
    await app.click(tid('confirm-delete-ok'));
    await app.waitForGone(tid('confirm-delete'));
    await bob.waitForEvent(
      (e) => e.type === 'room_message_updated' && e.message?.rich?.retracted === true && e.message.rich.moderated === true,
      { since, message: 'bob sees his line deleted by a moderator' },
    );
    const gone = await waitForLine((l) => l.id === spam.id && l.retracted, 'the tombstone');
    assert.equal(gone.text, en['message.moderated']);
  });
});
