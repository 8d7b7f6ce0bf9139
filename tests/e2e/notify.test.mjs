// Unread counts and desktop notifications as the shell routes them (src-tauri/src/shell.rs,
// notify.rs): the window title counts unread messages; do-not-disturb silences notifications
// but not the count; a burst of messages gives a few coalesced notifications titled
// "Name (N)"; clicking a notification opens its chat; own messages, and messages into the chat
// the user is looking at, never notify.
//
// One app (alice) and one peer (bob) for the whole file; the tests run in order and each
// leaves the app with the echo chat open.
//
// Test ids: contact, contact-name, unread-badge, chat-header, composer, send-button, message,
// message-body, own-presence.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Key, Peer, Sandbox, chatHeaderText, chatMessages, contactName, dunstctl, expectNoNotification, notesSettled,
  notificationsSince, openChat, quietCount, readNotifications, startLoggedIn, tid, unreadCount, waitForChatHeader,
  waitForNotesSettled, waitForNotification, waitForQuiet, waitForUnread, waitUntil, withEvidence,
} from './lib/harness.mjs';

let sandbox;
let app;
let bob;
let alice;
let bobJid;
let echoJid;

before(async () => {
  sandbox = await Sandbox.start({ name: 'notify-sandbox' });
  [app, bob] = await Promise.all([
    startLoggedIn(sandbox, 'alice', { name: 'notify-app' }),
    Peer.start(sandbox, 'bob', { name: 'notify-bob' }),
  ]);
  alice = sandbox.jid('alice');
  bobJid = sandbox.jid('bob');
  echoJid = sandbox.jid('echo');
  await app.waitFor(tid('contact', { jid: bobJid }));
  await openChat(app, echoJid);
});

after(async () => {
  await bob?.stop();
  await Promise.all([app?.stop(), sandbox?.stop()]);
});

/**
 * Whether a Notify call is Charla's, about `jid`: the shell titles it with the contact's roster
 * name (or the JID without one), plus " (N)" once it counts several messages.
 */
function about(jid, name) {
  return (n) => n.appName === 'Charla' && [jid, name].includes(n.summary.replace(/ \(\d+\)$/, ''));
}
const fromBob = (n) => about(bobJid, null)(n);
const fromEcho = (n) => about(echoJid, 'Echo')(n);

async function titleIs(expected) {
  await waitUntil(
    async () => {
      const seen = await app.title();
      if (seen !== expected) throw new Error(`title ${JSON.stringify(seen)}`);
      return true;
    },
    { message: `window title ${JSON.stringify(expected)}` },
  );
}

test('the window title counts unread messages: "Charla (2)", back to "Charla" once read', async () => {
  await withEvidence(app, 'notify-title', async () => {
    assert.equal(await app.title(), 'Charla');
    await bob.message(alice, 'title one');
    await bob.message(alice, 'title two');
    await waitForUnread(app, bobJid, 2);
    await titleIs('Charla (2)');
    await openChat(app, bobJid);
    await titleIs('Charla');
    await waitForUnread(app, bobJid, 0);
    await openChat(app, echoJid);
  });
});

test('do-not-disturb: no notification, the unread badge still counts; available again notifies', async () => {
  await withEvidence(app, 'notify-dnd', async () => {
    const presenceSeenByBob = (show) =>
      bob.waitForEvent((e) => e.type === 'presence_changed' && e.jid === alice && e.presence?.show === show, {
        since: bob.mark(),
        message: `alice ${show} as bob sees it`,
      });
    let seen = presenceSeenByBob('dnd');
    await app.select(tid('own-presence'), 'dnd');
    await seen; // the shell has set it by the time the server forwarded it

    const since = readNotifications().length;
    const quiet = quietCount(app, bobJid, 'do_not_disturb');
    await bob.message(alice, 'during dnd');
    await waitForUnread(app, bobJid, 1);
    await expectNoNotification(fromBob, {
      since,
      after: waitForQuiet(app, bobJid, { why: 'do_not_disturb', atLeast: quiet + 1 }),
      message: 'notification while do-not-disturb',
    });
    await titleIs('Charla (1)');

    seen = presenceSeenByBob('available');
    await app.select(tid('own-presence'), 'available');
    await seen;
    const after = readNotifications().length;
    await bob.message(alice, 'after dnd');
    await waitForUnread(app, bobJid, 2);
    const note = await waitForNotification(fromBob, { since: after });
    assert.equal(note.body, 'after dnd');
    assert.equal(notificationsSince(since).filter((n) => n.body === 'during dnd').length, 0);
  });
});

test('a burst of 30 messages: one notification on screen, then "bob (30)" with the last text', async (t) => {
  await withEvidence(app, 'notify-burst', async () => {
    // Reading bob's chat starts the count afresh (and clears the badge).
    await openChat(app, bobJid);
    await waitForUnread(app, bobJid, 0);
    await openChat(app, echoJid);
    dunstctl('close-all');

    const since = readNotifications().length;
    const taken = notesSettled(app);
    const texts = Array.from({ length: 30 }, (_, i) => `burst ${i + 1}`);
    await bob.messages(alice, texts);
    await waitForUnread(app, bobJid, 30);
    await waitForNotification(fromBob, { since });
    // Every message of the burst shown or held: nothing more comes on its own.
    await waitForNotesSettled(app, taken + 30);
    // While bob's notification is on screen, later messages are only counted; once it
    // closes, one notification shows the count and the newest text.
    if (!notificationsSince(since).filter(fromBob).at(-1).summary.endsWith('(30)')) {
      dunstctl('close-all');
      await waitForNotification((n) => fromBob(n) && n.summary.endsWith('(30)'), { since });
    }
    const calls = notificationsSince(since).filter(fromBob);
    t.diagnostic(`${calls.length} Notify calls for 30 messages: ${JSON.stringify(calls.map((c) => c.summary))}`);
    assert.ok(calls.length >= 1 && calls.length <= 2, `${calls.length} Notify calls for 30 messages`);
    const last = calls.at(-1);
    assert.match(last.summary, / \(30\)$/);
    assert.equal(last.body, 'burst 30');
  });
});

/**
 * Starts bob's notifications afresh (reading his chat makes the shell forget them), leaves
 * echo's chat open, and closes every notification on screen, so that bob's next one is dunst's
 * notification 0.
 */
async function freshStartForBob() {
  await openChat(app, bobJid);
  await waitForUnread(app, bobJid, 0);
  await openChat(app, echoJid);
  dunstctl('close-all');
  await waitUntil(() => dunstctl('count', 'displayed') === '0', { message: 'dunst shows no notification' });
}

/** Clicks dunst's notification 0 (its default action) and waits until bob's chat is in view. */
async function clickAndExpectBobsChat({ timeout } = {}) {
  await waitUntil(() => Number(dunstctl('count', 'displayed')) === 1, { message: 'dunst shows one notification' });
  dunstctl('action', '0');
  await waitForChatHeader(app, await contactName(app, bobJid), { timeout });
}

test("clicking bob's notification (dunst's default action) opens bob's chat", async () => {
  await withEvidence(app, 'notify-click', async () => {
    await freshStartForBob();
    assert.match(await chatHeaderText(app), /Echo/);
    const since = readNotifications().length;
    await bob.message(alice, 'click me');
    await waitForNotification((n) => fromBob(n) && n.body === 'click me', { since });
    await clickAndExpectBobsChat();
    await waitUntil(async () => (await chatMessages(app)).some((m) => m.body === 'click me' && m.direction === 'in'), {
      message: '"click me" in the chat that opened',
    });
    await waitForUnread(app, bobJid, 0);
    await titleIs('Charla');
    await openChat(app, echoJid);
  });
});

// A chat's notification is never updated in place (the click on an updated one would be
// lost, see src-tauri/src/notify.rs): messages that come while it is on screen are counted,
// and shown as one new notification when it closes; that one opens the chat too.
test("messages while bob's notification shows are counted, then shown as \"bob (2)\" that opens his chat", async () => {
  await withEvidence(app, 'notify-click-counted', async () => {
    await freshStartForBob();
    const since = readNotifications().length;
    const taken = notesSettled(app);
    await bob.message(alice, 'first');
    await waitForNotification((n) => fromBob(n) && n.body === 'first', { since });
    await bob.message(alice, 'second');
    await waitForUnread(app, bobJid, 2);
    // The second is held (the first is on screen), and nothing more comes on its own.
    await waitForNotesSettled(app, taken + 2);
    assert.equal(notificationsSince(since).filter(fromBob).length, 1, 'held while the first is on screen');
    dunstctl('close-all');
    await waitForNotification((n) => fromBob(n) && n.body === 'second' && n.summary.endsWith('(2)'), { since });
    try {
      await clickAndExpectBobsChat();
    } finally {
      // Read bob's messages either way, so the next test starts with nothing unread.
      await openChat(app, bobJid);
      await waitForUnread(app, bobJid, 0);
      await openChat(app, echoJid);
    }
  });
});

/** Pretends the window is hidden (minimised, another workspace) or shown again. */
async function setHidden(hidden) {
  await app.execute(
    `if (arguments[0]) Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
     else delete document.visibilityState;
     document.dispatchEvent(new Event('visibilitychange'));`,
    hidden,
  );
}

test("own messages never notify; echo's reply notifies only while its chat is not in view", async () => {
  await withEvidence(app, 'notify-own', async () => {
    await openChat(app, echoJid);

    // The window is hidden: the UI tells the shell nobody looks at a chat, so echo's reply
    // counts and notifies. The text is typed before hiding and sent with a DOM click (nobody
    // clicks into a hidden window).
    let since = readNotifications().length;
    await app.type(tid('composer'), 'ping away');
    await setHidden(true);
    try {
      await app.execute(`document.querySelector(arguments[0]).click()`, tid('send-button'));
      const reply = await waitForNotification((n) => fromEcho(n) && n.body === 'Echo: ping away', { since });
      assert.equal(reply.summary, 'Echo');
      await waitForUnread(app, echoJid, 1);
      // Messages are decided in order: the reply's notification shown, one for the own message
      // (sent before it) can no longer come.
      await expectNoNotification((n) => n.body === 'ping away', {
        since,
        after: Promise.resolve(reply),
        message: 'notification of an own message',
      });
    } finally {
      await setHidden(false);
    }
    // Shown again: the open chat is read.
    await waitForUnread(app, echoJid, 0);

    // With echo's chat in view, neither the own message nor the reply notifies.
    since = readNotifications().length;
    const quiet = quietCount(app, echoJid, 'chat_open');
    await app.type(tid('composer'), `ping here${Key.Enter}`);
    await waitUntil(
      async () => (await chatMessages(app)).some((m) => m.direction === 'in' && m.body === 'Echo: ping here'),
      { message: "echo's reply in the open chat" },
    );
    await expectNoNotification((n) => n.body.includes('ping here'), {
      since,
      after: waitForQuiet(app, echoJid, { why: 'chat_open', atLeast: quiet + 1 }),
      message: 'notification in the open chat',
    });
    assert.equal(await unreadCount(app, echoJid), 0);
    assert.equal(await app.title(), 'Charla');
  });
});

// A visible but unfocused window counts as "not looking": App.svelte listens for window blur
// (this once failed because its effect re-ran on the state it set and reset `focused`).
test("a window that lost focus: echo's reply notifies", async () => {
  await withEvidence(app, 'notify-blur', async () => {
    await openChat(app, echoJid);
    // Echo's notification from the test before may still be on screen: while it is, the
    // shell only counts echo's messages.
    dunstctl('close-all');
    await waitUntil(() => dunstctl('count', 'displayed') === '0', { message: 'dunst shows no notification' });
    const since = readNotifications().length;
    await app.type(tid('composer'), 'ping blurred');
    await app.execute(`window.dispatchEvent(new Event('blur'))`);
    try {
      await app.execute(`document.querySelector(arguments[0]).click()`, tid('send-button'));
      await waitForNotification((n) => fromEcho(n) && n.body === 'Echo: ping blurred', { since, timeout: 2000 });
      await waitForUnread(app, echoJid, 1, { timeout: 1000 });
    } finally {
      await app.execute(`window.dispatchEvent(new Event('focus'))`);
    }
  });
});
