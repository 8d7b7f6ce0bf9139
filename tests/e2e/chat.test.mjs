// Chatting with bob (the headless core as a peer): sending, receiving into a chat that is not
// open (unread badge and desktop notification), and hostile message text shown literally.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Key, Peer, Sandbox, chatMessages, openChat, readNotifications, startLoggedIn, tid, waitForNotification,
  waitUntil, withEvidence,
} from './lib/harness.mjs';

let sandbox;
let app;
let bob;
let alice;
let bobJid;

before(async () => {
  sandbox = await Sandbox.start({ name: 'chat-sandbox' });
  [app, bob] = await Promise.all([
    startLoggedIn(sandbox, 'alice', { name: 'chat-app' }),
    Peer.start(sandbox, 'bob', { status: 'Hola', name: 'chat-bob' }),
  ]);
  alice = sandbox.jid('alice');
  bobJid = sandbox.jid('bob');
  await waitUntil(async () => (await app.exists(tid('contact', { jid: bobJid }))), { message: 'bob in the list' });
});

after(async () => {
  await bob?.stop();
  await Promise.all([app?.stop(), sandbox?.stop()]);
});

const SENT_OR_LATER = ['sent', 'delivered', 'displayed'];

test('(d) alice sends "Hello Bob" with Enter; bob receives it and it shows as sent', async () => {
  await withEvidence(app, 'chat-send', async () => {
    await openChat(app, bobJid);
    const since = bob.mark();
    await app.type(tid('composer'), `Hello Bob${Key.Enter}`);
    const received = await bob.waitForEvent(
      (e) => e.type === 'message_added' && e.message?.direction === 'in' && e.message.body === 'Hello Bob',
      { since, message: 'bob receives "Hello Bob"' },
    );
    assert.equal(received.message.peer, alice);
    let seen;
    await waitUntil(
      async () => {
        seen = (await chatMessages(app)).filter((m) => m.body === 'Hello Bob');
        return seen.length === 1 && seen[0].direction === 'out' && SENT_OR_LATER.includes(seen[0].state);
      },
      { message: `"Hello Bob" out and sent (seen ${JSON.stringify(seen)})` },
    );
    assert.equal(await (await app.find(tid('composer'))).property('value'), '', 'the composer is not emptied');
  });
});

test('a burst from bob into the open chat shows every message, in order', async () => {
  await withEvidence(app, 'chat-burst', async () => {
    await openChat(app, bobJid);
    // Sent at once: the shell hands a burst to the chat view as one update.
    const texts = Array.from({ length: 40 }, (_, i) => `Burst ${String(i).padStart(2, '0')}`);
    await bob.messages(alice, texts);
    let shown = [];
    await waitUntil(
      async () => {
        shown = (await chatMessages(app)).map((m) => m.body).filter((b) => b?.startsWith('Burst '));
        return shown.at(-1) === texts.at(-1);
      },
      { message: `the last of the burst shown (seen ${JSON.stringify(shown)})` },
    );
    // The list shows only the rows in view: they are the burst's last ones, each once, in order.
    assert.ok(shown.length >= 5, `only ${shown.length} rows of the burst in view`);
    assert.deepEqual(shown, texts.slice(-shown.length));
  });
});

test('(e) bob writes while another chat is open: unread badge, notification, then the message', async (t) => {
  await withEvidence(app, 'chat-receive', async () => {
    const echo = sandbox.jid('echo');
    await openChat(app, echo);
    const notificationsBefore = readNotifications().length;
    await bob.message(alice, 'Hi Alice');
    const badge = await app.waitFor(`${tid('contact', { jid: bobJid })} ${tid('unread-badge')}`);
    assert.equal((await badge.text()).trim(), '1');
    const note = await waitForNotification(
      (n) => /bob/i.test(n.summary) && n.body.includes('Hi Alice'),
      { since: notificationsBefore },
    );
    t.diagnostic(`notification: ${JSON.stringify(note)}`);
    assert.equal(note.body, 'Hi Alice');
    // Nothing of bob's message leaks into the echo chat.
    assert.equal((await chatMessages(app)).some((m) => m.body === 'Hi Alice'), false);

    await openChat(app, bobJid);
    await waitUntil(
      async () => (await chatMessages(app)).some((m) => m.body === 'Hi Alice' && m.direction === 'in'),
      { message: '"Hi Alice" in bob\'s chat' },
    );
    await waitUntil(async () => !(await app.exists(`${tid('contact', { jid: bobJid })} ${tid('unread-badge')}`)), {
      message: 'the unread badge to clear once the chat is open',
    });
  });
});

test('(g) markup in a message is shown as text, never as HTML', async () => {
  await withEvidence(app, 'chat-markup', async () => {
    const payload = '<img src=x onerror=alert(1)>';
    await app.execute(`window.__e2eAlerts = []; window.alert = (m) => window.__e2eAlerts.push(String(m));`);
    await bob.message(alice, payload);
    let bodies;
    await waitUntil(
      async () => {
        bodies = await app.execute(
          `return [...document.querySelectorAll('[data-testid="message"][data-direction="in"] [data-testid="message-body"]')]
             .map((b) => b.textContent)`,
        );
        return bodies.includes(payload);
      },
      { message: `the payload as text (bodies: ${JSON.stringify(bodies)})` },
    );
    const found = await app.execute(`return {
      imagesInMessages: document.querySelectorAll('[data-testid="message"] img, [data-testid="message-list"] img').length,
      imagesWithSrcX: document.querySelectorAll('img[src="x"]').length,
      alerts: window.__e2eAlerts,
    }`);
    assert.deepEqual(found, { imagesInMessages: 0, imagesWithSrcX: 0, alerts: [] });
  });
});

test('styling (XEP-0393): strong, emphasis, code, a quote and a code block, built from text around a link', async () => {
  await withEvidence(app, 'chat-styling', async () => {
    // Several lines: written in alice's composer (the peer's command line takes one line).
    const body = '> quoted *line*\n*bold* _it_ ~gone~ `x<b>y` https://example.org/*a*\n```\n*not bold*\n```';
    await openChat(app, bobJid);
    await app.execute(
      `const c = document.querySelector('[data-testid="composer"]');
       c.focus();
       c.value = arguments[0];
       c.dispatchEvent(new Event('input', { bubbles: true }));`,
      body,
    );
    await app.keys(Key.Enter);
    let found;
    await waitUntil(
      async () => {
        found = await app.execute(`
          const bodies = [...document.querySelectorAll('[data-testid="message"][data-direction="out"] [data-testid="message-body"]')];
          const b = bodies.find((el) => el.textContent.includes('gone'));
          if (!b) return null;
          const texts = (css) => [...b.querySelectorAll(css)].map((e) => e.textContent);
          return {
            strong: texts('.strong:not(.directive)'),
            emphasis: texts('.emphasis:not(.directive)'),
            strike: texts('.strike:not(.directive)'),
            code: texts('.code:not(.directive)'),
            quote: texts('blockquote'),
            pre: texts('pre'),
            links: [...b.querySelectorAll('a')].map((a) => a.getAttribute('href')),
            elements: b.querySelectorAll('b, img, script').length,
          };`);
        return found !== null;
      },
      { message: 'the styled message' },
    );
    assert.deepEqual(found, {
      strong: ['line', 'bold'],
      emphasis: ['it'],
      strike: ['gone'],
      code: ['x<b>y'],
      quote: ['quoted *line*'],
      pre: ['```\n*not bold*\n```'],
      links: ['https://example.org/*a'],
      elements: 0,
    });
    await app.screenshot('chat-styling');
  });
});

test('(t) typing shows both ways: bob learns alice types, and alice sees "typing…" until bob pauses', async () => {
  await withEvidence(app, 'chat-typing', async () => {
    await openChat(app, bobJid);
    const since = bob.mark();
    await app.type(tid('composer'), 'Hel');
    await bob.waitForEvent((e) => e.type === 'chat_state' && e.peer === alice && e.state === 'composing', {
      since,
      message: 'bob learns that alice is typing',
    });
    bob.send(`/typing ${alice}`);
    const typing = await app.waitFor(tid('chat-typing'));
    assert.match(await typing.text(), /typing/);
    bob.send(`/typing ${alice} paused`);
    await waitUntil(async () => !(await app.exists(tid('chat-typing'))), { message: 'the indicator goes' });
    await app.clear(tid('composer'));
  });
});
