// Rich messages in the window (issue 17), alice in the window and bob as the charla-cli peer:
// Up edits alice's last message (bob gets the correction; "edited" shows the earlier version);
// alice reacts to bob's message from the ⋯ button, takes it back with its chip, and bob's
// reaction to hers shows; she answers bob's message from the keyboard menu (bob gets the reply,
// the quote jumps to the original); she deletes a message for everyone (confirmed; bob sees it
// retracted, the window a tombstone) and one of bob's for herself; the emoji picker finds ❤️ by
// its Spanish name, `:thu` + Tab writes 👍, an emoji-only message shows large; a draft is kept
// and survives a restart (in dark, with a screenshot). Screenshots: rich-light.png, rich-dark.png,
// rich-menu.png (a message's menu) and rich-emoji-picker.png.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  App, Key, Peer, Sandbox, loadDictionary, loginWithForm, openChat, tid, waitUntil, withEvidence,
} from './lib/harness.mjs';

const en = loadDictionary('en');
/** W3C WebDriver's key value for the up arrow. */
const ArrowUp = '\uE013';

let sandbox;
let app;
let bob;
let alice;
let bobJid;
let dataDir;
const profile = `e2e-rich-${process.pid}`;

before(async () => {
  sandbox = await Sandbox.start({ name: 'rich-sandbox' });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'charla-e2e-rich-'));
  [app, bob] = await Promise.all([
    App.start({ sandbox, dataDir, profile, name: 'rich-light' }),
    Peer.start(sandbox, 'bob', { name: 'rich-bob' }),
  ]);
  alice = sandbox.jid('alice');
  bobJid = sandbox.jid('bob');
  await loginWithForm(app, alice, sandbox.password('alice'));
  await waitUntil(async () => app.exists(tid('contact', { jid: bobJid })), { message: 'bob in the list' });
});

after(async () => {
  await bob?.stop();
  await app?.stop();
  await sandbox?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The open chat's messages: [{id, direction, body, edited, retracted, reactions, quote}]. */
function messages() {
  return app.execute(
    `return [...document.querySelectorAll('[data-testid="message"]')].map((m) => ({
       id: Number(m.dataset.id),
       direction: m.dataset.direction,
       state: m.dataset.state,
       body: m.querySelector('[data-testid="message-body"]')?.textContent ?? null,
       edited: m.querySelector('[data-testid="message-edited"]') !== null,
       retracted: m.dataset.retracted === 'true',
       big: m.querySelector('.bubble')?.classList.contains('big') ?? false,
       highlighted: m.classList.contains('highlight'),
       quote: m.querySelector('[data-testid="reply-quote-text"]')?.textContent ?? null,
       reactions: [...m.querySelectorAll('[data-testid="reaction"]')].map((r) => ({
         emoji: r.dataset.emoji, count: Number(r.dataset.count), ours: r.dataset.ours === 'true', title: r.title,
       })),
     }));`,
  );
}

/** Waits until a message matches `predicate`; answers it. */
async function waitForMessage(predicate, message) {
  let found;
  try {
    await waitUntil(
      async () => {
        found = (await messages()).find(predicate);
        return found !== undefined;
      },
      { message },
    );
  } catch (error) {
    error.message += `; the messages: ${JSON.stringify(await messages().catch(() => null))}`;
    throw error;
  }
  return found;
}

const row = (id) => tid('message', { id });

/**
 * Opens a message's menu with its ⋯ button (a real pointer click: the button shows on hover). A
 * message that just arrived may still move (the list keeps to the bottom as rows are measured),
 * so a click that found the row elsewhere is made again.
 */
async function menuFromButton(id) {
  await waitUntil(
    async () => {
      if (!(await app.exists(tid('context-menu')))) {
        await app.session.pointerClick(await app.find(`${row(id)} ${tid('message-menu-button')}`));
      }
      return app.exists(tid('context-menu'));
    },
    { message: `the menu of message ${id}` },
  );
}

/**
 * Presses keys on whatever has the focus, then releases the input state: a key action left
 * pending otherwise loses the Shift of later capitals and colons here.
 */
async function press(text) {
  await app.keys(text);
  await app.session.cmd('DELETE', '/actions');
}

/**
 * Writes `text` into the composer as typing does (an input event, the cursor at the end). Key
 * actions here lose the Shift of some capitals and colons, so text with them is written this way
 * and only plain keys (arrows, Enter, Tab, Escape) are pressed.
 */
async function fill(text) {
  await app.execute(
    `const c = document.querySelector('[data-testid="composer"]');
     c.focus();
     c.value = arguments[0];
     c.setSelectionRange(c.value.length, c.value.length);
     c.dispatchEvent(new Event('input', { bubbles: true }));`,
    text,
  );
}

/** An element's text as the DOM has it (WebDriver's text leaves out clipped text). */
function textOf(css) {
  return app.execute(`return document.querySelector(arguments[0])?.textContent ?? null`, css);
}

/** Picks `action` (and `emoji`, a quick reaction) in the open menu; the menu closes. */
async function pick(action, emoji) {
  await app.click(tid('context-menu-item', emoji ? { action, emoji } : { action }));
  await app.waitForGone(tid('context-menu'));
}

/** Sends `text` from alice's composer and waits until it shows as sent (or further). */
async function send(text) {
  await fill(text);
  await press(Key.Enter);
  return waitForMessage((m) => m.direction === 'out' && m.body === text && m.state !== 'pending', `"${text}" sent`);
}

test('Up in an empty composer edits the last message: bob gets the correction, the window shows "edited" and the earlier text', async () => {
  await withEvidence(app, 'rich-edit', async () => {
    await openChat(app, bobJid);
    const typo = await send('Helo Bob');
    await bob.waitForEvent((e) => e.type === 'message_added' && e.message?.body === 'Helo Bob', { message: 'bob gets "Helo Bob"' });
    await app.click(tid('composer'));
    await press(ArrowUp);
    await app.waitFor(tid('composer-editing'));
    assert.equal(await (await app.find(tid('composer'))).property('value'), 'Helo Bob');
    const since = bob.mark();
    await fill('Hello Bob');
    await press(Key.Enter);
    await bob.waitForEvent(
      (e) => e.type === 'message_updated' && e.message?.body === 'Hello Bob' && e.message.rich?.edited === true,
      { since, message: 'bob gets the correction' },
    );
    await app.waitForGone(tid('composer-editing'));
    const edited = await waitForMessage((m) => m.id === typo.id && m.body === 'Hello Bob' && m.edited, 'the message edited in place');
    assert.equal(edited.direction, 'out');
    assert.equal(await (await app.find(tid('composer'))).property('value'), '', 'the composer is empty again');
    assert.equal(await textOf(`${row(typo.id)} ${tid('message-edited')}`), en['message.edited']);

    await app.click(`${row(typo.id)} ${tid('message-edited')}`);
    await app.waitFor(tid('message-versions'));
    await waitUntil(async () => (await app.exists(tid('message-version'))), { message: 'the earlier versions' });
    const versions = await app.execute(
      `return [...document.querySelectorAll('[data-testid="message-version"]')].map((v) => v.textContent)`,
    );
    assert.deepEqual(versions, ['Helo Bob']);
    await app.click(tid('message-versions-close'));
    await app.waitForGone(tid('message-versions'));

    // Escape leaves an edit without sending anything.
    await app.click(tid('composer'));
    await press(ArrowUp);
    await app.waitFor(tid('composer-editing'));
    await press(Key.Escape);
    await app.waitForGone(tid('composer-editing'));
    assert.equal(await (await app.find(tid('composer'))).property('value'), '');
  });
});

test('alice reacts to bob\'s message from its ⋯ menu, takes it back with the chip; bob\'s reaction to hers shows', async () => {
  await withEvidence(app, 'rich-react', async () => {
    await bob.message(alice, 'Lunch at noon?');
    const lunch = await waitForMessage((m) => m.direction === 'in' && m.body === 'Lunch at noon?', "bob's message");
    await menuFromButton(lunch.id);
    const items = await app.execute(
      `return [...document.querySelectorAll('[data-testid="context-menu-item"]')].map((b) => b.dataset.emoji ?? b.dataset.action)`,
    );
    assert.deepEqual(items.slice(0, 9), ['reply', '👍', '❤️', '😂', '😮', '😢', '🙏', 'reactMore', 'copyText']);
    assert.ok(!items.includes('edit') && !items.includes('retract'), `no edit or delete for everyone on bob's: ${items}`);
    await app.screenshot('rich-menu');
    let since = bob.mark();
    await pick('react', '👍');
    await bob.waitForEvent(
      (e) => e.type === 'message_updated' && e.message?.body === 'Lunch at noon?' && e.message.rich?.reactions?.some((r) => r.emoji === '👍'),
      { since, message: "bob sees alice's 👍" },
    );
    await waitForMessage(
      (m) => m.id === lunch.id && m.reactions.length === 1 && m.reactions[0].emoji === '👍' && m.reactions[0].ours && m.reactions[0].count === 1,
      'the 👍 chip, ours',
    );

    since = bob.mark();
    await app.click(`${row(lunch.id)} ${tid('reaction', { emoji: '👍' })}`);
    await bob.waitForEvent(
      (e) => e.type === 'message_updated' && e.message?.body === 'Lunch at noon?' && e.message.rich?.reactions?.length === 0,
      { since, message: 'bob sees it taken back' },
    );
    await waitForMessage((m) => m.id === lunch.id && m.reactions.length === 0, 'the chip gone');

    // Right-click (Charla's menu, with the message's actions first) and react again.
    await app.contextClick(`${row(lunch.id)} ${tid('message-body')}`);
    await app.waitFor(tid('context-menu'));
    await pick('react', '😂');
    await waitForMessage((m) => m.id === lunch.id && m.reactions.some((r) => r.emoji === '😂' && r.ours), 'the 😂 chip');

    // Bob reacts to alice's last message ("Hello Bob"): a chip that is not ours, titled with his name.
    bob.send(`/react ${alice} 🎉`);
    const hello = await waitForMessage(
      (m) => m.body === 'Hello Bob' && m.reactions.some((r) => r.emoji === '🎉' && !r.ours && r.count === 1),
      "bob's 🎉 on alice's message",
    );
    assert.match(hello.reactions[0].title, /bob/i, 'the tooltip names who reacted');
  });
});

test('alice answers bob\'s message from the keyboard menu; bob gets a reply; its quote jumps to the original', async () => {
  await withEvidence(app, 'rich-reply', async () => {
    const lunch = (await messages()).find((m) => m.body === 'Lunch at noon?');
    // The message row takes the focus; Enter opens its menu with the first item (Reply) focused.
    await app.execute(`document.querySelector(arguments[0]).focus()`, row(lunch.id));
    await press(Key.Enter);
    await app.waitFor(tid('context-menu'));
    assert.equal(await app.execute('return document.activeElement?.dataset.action ?? null'), 'reply');
    await press(Key.Enter);
    await app.waitForGone(tid('context-menu'));
    await app.waitFor(tid('composer-reply'));
    assert.equal(await textOf(tid('composer-reply-quote')), 'Lunch at noon?');
    assert.equal(await app.execute('return document.activeElement?.dataset.testid ?? null'), 'composer', 'the composer has the focus');
    const since = bob.mark();
    await fill('Yes, see you there');
    await press(Key.Enter);
    const got = await bob.waitForEvent(
      (e) => e.type === 'message_added' && e.message?.direction === 'in' && e.message.body === 'Yes, see you there',
      { since, message: 'bob gets the reply' },
    );
    assert.ok(got.message.rich?.reply, `bob's copy is a reply: ${JSON.stringify(got.message.rich)}`);
    await app.waitForGone(tid('composer-reply'));
    const reply = await waitForMessage(
      (m) => m.body === 'Yes, see you there' && m.quote === 'Lunch at noon?',
      'the reply with its quote',
    );
    await app.click(`${row(reply.id)} ${tid('reply-quote')}`);
    await waitForMessage((m) => m.id === lunch.id && m.highlighted, 'the original highlighted');
  });
});

test('delete for everyone (confirmed) leaves a tombstone, also for bob; delete for me hides bob\'s message', async () => {
  await withEvidence(app, 'rich-delete', async () => {
    const oops = await send('Wrong chat, sorry');
    await menuFromButton(oops.id);
    await pick('retract');
    await app.waitFor(tid('confirm-delete'));
    const since = bob.mark();
    await app.click(tid('confirm-delete-ok'));
    await app.waitForGone(tid('confirm-delete'));
    await bob.waitForEvent(
      (e) => e.type === 'message_updated' && e.message?.rich?.retracted === true,
      { since, message: 'bob sees it retracted' },
    );
    const gone = await waitForMessage((m) => m.id === oops.id && m.retracted, 'the tombstone');
    assert.equal(gone.body, en['message.retracted']);
    // A tombstone's menu has only "delete for me".
    await app.contextClick(`${row(oops.id)} ${tid('message-body')}`);
    await app.waitFor(tid('context-menu'));
    const items = await app.execute(
      `return [...document.querySelectorAll('[data-testid="context-menu-item"]')].map((b) => b.dataset.action)`,
    );
    assert.deepEqual(items.filter((a) => a !== 'copy' && a !== 'selectAll'), ['hide']);
    await press(Key.Escape);
    await app.waitForGone(tid('context-menu'));

    await bob.message(alice, 'Spam for alice');
    const spam = await waitForMessage((m) => m.body === 'Spam for alice', "bob's spam");
    await menuFromButton(spam.id);
    await pick('hide');
    await waitUntil(async () => !(await app.exists(row(spam.id))), { message: 'the hidden message gone' });
  });
});

test('emoji: the picker finds ❤️ by its Spanish name; ":thu" + Tab writes 👍; emoji alone show large', async () => {
  await withEvidence(app, 'rich-emoji', async () => {
    await app.click(tid('composer-emoji'));
    await app.waitFor(tid('emoji-picker'));
    // Spanish without its accent (WebDriver types no "ó" here; the search ignores accents anyway).
    await app.type(tid('emoji-search'), 'corazon rojo');
    await app.waitFor(`${tid('emoji-results')} ${tid('emoji-option', { emoji: '❤️' })}`);
    await app.screenshot('rich-emoji-picker');
    await app.click(`${tid('emoji-results')} ${tid('emoji-option', { emoji: '❤️' })}`);
    await app.waitForGone(tid('emoji-picker'));
    assert.equal(await (await app.find(tid('composer'))).property('value'), '❤️');
    await fill('❤️ :thu');
    await app.waitFor(tid('emoji-suggestion', { emoji: '👍' }));
    await press(Key.Tab);
    await app.waitForGone(tid('emoji-suggestions'));
    assert.equal(await (await app.find(tid('composer'))).property('value'), '❤️ 👍');
    const since = bob.mark();
    await press(Key.Enter);
    await bob.waitForEvent((e) => e.type === 'message_added' && e.message?.body === '❤️ 👍', { since, message: 'bob gets the emoji' });
    await waitForMessage((m) => m.body === '❤️ 👍' && m.big, 'the emoji shown large');
    // Drop the large emoji out of view for the screenshot of the other features.
    await app.execute(`document.querySelector('[data-testid="message-list"]').scrollTop = 1e6`);
    await app.screenshot('rich-light');
  });
});

test('a draft is kept as it is typed, shown in the list, and survives a restart (dark)', async () => {
  await withEvidence(app, 'rich-draft', async () => {
    await fill('Unsent thoughts');
    // (WebDriver takes the list's status lines for hidden: the DOM is read as it is.)
    await app.waitFor(`${tid('contact', { jid: bobJid })} ${tid('contact-draft')}[data-kept="true"]`, { visible: false });
    assert.match(await textOf(`${tid('contact', { jid: bobJid })} ${tid('contact-draft')}`), /Unsent thoughts/);
  });
  await app.stop();
  app = await App.start({ sandbox, dataDir, profile, name: 'rich-dark', env: { GTK_THEME: 'Adwaita:dark' } });
  await withEvidence(app, 'rich-dark', async () => {
    await loginWithForm(app, alice, sandbox.password('alice'));
    const draft = `${tid('contact', { jid: bobJid })} ${tid('contact-draft')}`;
    await app.waitFor(draft, { visible: false });
    assert.equal(await textOf(draft), en['roster.draft'].replace('{text}', 'Unsent thoughts'));
    await openChat(app, bobJid);
    assert.equal(await (await app.find(tid('composer'))).property('value'), 'Unsent thoughts');
    await waitForMessage((m) => m.retracted, 'the history with its tombstone');
    await waitForMessage((m) => m.quote === 'Lunch at noon?', 'the reply');
    assert.equal(await app.execute(`return matchMedia('(prefers-color-scheme: dark)').matches`), true);
    await app.screenshot('rich-dark');
    // Sending clears the draft.
    await press(Key.Enter);
    await app.waitForGone(draft);
    assert.equal(await (await app.find(tid('composer'))).property('value'), '');
  });
});
