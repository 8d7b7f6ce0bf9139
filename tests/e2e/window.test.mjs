// The window as a desktop app: keyboard shortcuts (Ctrl+K quick switcher, Esc, Ctrl+Tab),
// a second launch of the same profile handing over to the running one (single instance), and
// popping a chat out into a window of its own.
//
// One app (alice) and one peer (bob) for the whole file; the pop-out comes last, as it leaves
// a second window.
//
// Test ids: quick-switcher, quick-switcher-input, quick-switcher-item, chat-tab, chat-header,
// chat-presence, composer, contact, pop-out, message, message-body.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import {
  BIN, Key, Peer, Sandbox, chatHeaderText, chatMessages, expectNoNotification, openChat, quietCount, readNotifications,
  sleep, startLoggedIn, tid, unreadCount, waitForChatHeader, waitForQuiet, waitUntil, withEvidence,
} from './lib/harness.mjs';

let sandbox;
let app;
let bob;
let alice;
let bobJid;
let carolJid;
let mainHandle;

before(async () => {
  sandbox = await Sandbox.start({ name: 'window-sandbox' });
  [app, bob] = await Promise.all([
    startLoggedIn(sandbox, 'alice', { name: 'window-app' }),
    Peer.start(sandbox, 'bob', { status: 'En casa', name: 'window-bob' }),
  ]);
  alice = sandbox.jid('alice');
  bobJid = sandbox.jid('bob');
  carolJid = sandbox.jid('carol');
  await app.waitFor(tid('contact', { jid: bobJid }));
  mainHandle = await app.windowHandle();
});

after(async () => {
  await bob?.stop();
  await Promise.all([app?.stop(), sandbox?.stop()]);
});

function headerShows(jid) {
  return waitForChatHeader(app, jid);
}

/** The tabs: [{jid, selected}]. */
function tabs() {
  return app.execute(
    `return [...document.querySelectorAll('[data-testid="chat-tab"]')]
       .map((t) => ({ jid: t.dataset.jid, selected: t.getAttribute('aria-selected') === 'true' }))`,
  );
}

async function selectedTab(jid) {
  await waitUntil(
    async () => {
      const seen = await tabs();
      if (seen.find((t) => t.selected)?.jid !== jid) throw new Error(`tabs: ${JSON.stringify(seen)}`);
      return true;
    },
    { message: `tab ${jid} selected` },
  );
}

test('Ctrl+K opens the quick switcher; "car" + Enter opens carol\'s chat', async () => {
  await withEvidence(app, 'window-switcher', async () => {
    assert.equal(await app.exists(tid('quick-switcher')), false);
    await app.chord([Key.Control], 'k');
    await app.waitFor(tid('quick-switcher'));
    // The input has focus: plain key strokes go there.
    await waitUntil(() => app.execute(`return document.activeElement?.dataset.testid === 'quick-switcher-input'`), {
      message: 'focus in the switcher input',
    });
    await app.keys('car');
    await waitUntil(
      async () =>
        JSON.stringify(
          await app.execute(
            `return [...document.querySelectorAll('[data-testid="quick-switcher-item"]')].map((i) => i.dataset.jid)`,
          ),
        ) === JSON.stringify([carolJid]),
      { message: 'only carol matches "car"' },
    );
    await app.keys(Key.Enter);
    await app.waitForGone(tid('quick-switcher'));
    await headerShows(carolJid);
    await selectedTab(carolJid);
  });
});

test('Esc closes the quick switcher without opening anything', async () => {
  await withEvidence(app, 'window-switcher-esc', async () => {
    const before = await tabs();
    await app.chord([Key.Control], 'k');
    await app.waitFor(tid('quick-switcher'));
    await app.keys('bo');
    await app.keys(Key.Escape);
    await app.waitForGone(tid('quick-switcher'));
    assert.deepEqual(await tabs(), before);
    await headerShows(carolJid);
  });
});

test('Ctrl+Tab moves to the next tab, Ctrl+PageUp / Ctrl+PageDown to the previous / next', async () => {
  await withEvidence(app, 'window-ctrl-tab', async () => {
    await openChat(app, bobJid);
    await app.click(tid('chat-tab', { jid: carolJid }));
    await selectedTab(carolJid);
    assert.deepEqual((await tabs()).map((t) => t.jid), [carolJid, bobJid]);
    await app.chord([Key.Control], Key.Tab);
    await selectedTab(bobJid);
    await headerShows(bobJid);
    await app.chord([Key.Control], Key.Tab); // wraps around
    await selectedTab(carolJid);
    await app.chord([Key.Control], Key.PageUp); // wraps around backwards
    await selectedTab(bobJid);
    await app.chord([Key.Control], Key.PageDown);
    await selectedTab(carolJid);
    await headerShows(carolJid);
  });
});

// WebKitGTK reports Shift+Tab with `key` "Unidentified" (`code` "Tab"; GTK's keyval is
// ISO_Left_Tab), for WebDriver's keys and real X key events (xdotool) alike, and
// MainWindow.svelte only looks at `event.key === 'Tab'`.
test('Ctrl+Shift+Tab moves to the previous tab', async () => {
  await withEvidence(app, 'window-ctrl-shift-tab', async () => {
    await selectedTab(carolJid);
    await app.chord([Key.Control, Key.Shift], Key.Tab);
    try {
      await waitUntil(async () => (await tabs()).find((t) => t.selected)?.jid === bobJid, {
        timeout: 1000,
        message: 'bob\'s tab selected after Ctrl+Shift+Tab',
      });
    } finally {
      await app.click(tid('chat-tab', { jid: carolJid }));
      await selectedTab(carolJid);
    }
  });
});

/** pids of charla processes started with `CHARLA_PROFILE=<profile>`. */
function charlaProcesses(profile) {
  const exe = fs.realpathSync(BIN.app);
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/exe`) !== exe) continue;
      const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(`CHARLA_PROFILE=${profile}`)) found.push(Number(entry));
    } catch {
      // exited meanwhile, or not ours
    }
  }
  return found;
}

/**
 * The pid owning the profile's single-instance D-Bus name (tauri-plugin-single-instance: the
 * app identifier, which lib.rs suffixes with the profile, + ".SingleInstance"), or null.
 */
function singleInstanceOwner(profile) {
  const id = `org.charla.Charla.${profile.replace(/[^A-Za-z0-9_-]/g, '')}.SingleInstance`;
  const reply = spawnSync('gdbus', [
    'call', '--session', '--dest', 'org.freedesktop.DBus', '--object-path', '/org/freedesktop/DBus',
    '--method', 'org.freedesktop.DBus.GetConnectionUnixProcessID', id,
  ], { encoding: 'utf8', timeout: 10000 });
  const pid = /uint32 (\d+)/.exec(reply.stdout)?.[1];
  return pid ? Number(pid) : null;
}

test('a second launch with the same profile hands over to the running app and exits', async (t) => {
  await withEvidence(app, 'window-single-instance', async () => {
    const running = charlaProcesses(app.profile);
    assert.equal(running.length, 1, `charla processes of the profile before: ${running}`);
    assert.equal(singleInstanceOwner(app.profile), running[0], 'the running app owns the single-instance name');
    const started = Date.now();
    const second = spawn(BIN.app, [], { env: { ...process.env, ...app.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    second.stdout.on('data', (d) => (output += d));
    second.stderr.on('data', (d) => (output += d));
    const exited = new Promise((resolve) => second.once('exit', (code, signal) => resolve({ code, signal })));
    const result = await Promise.race([exited, sleep(10000).then(() => null)]);
    if (!result) second.kill('SIGKILL');
    assert.ok(result, `the second instance still runs after 10 s; its output: ${output.slice(-2000)}`);
    t.diagnostic(`the second instance exited after ${Date.now() - started} ms`);
    assert.deepEqual(result, { code: 0, signal: null }, `output: ${output.slice(-2000)}`);
    assert.deepEqual(charlaProcesses(app.profile), running);
    assert.equal(singleInstanceOwner(app.profile), running[0]);
    assert.deepEqual(await app.windowHandles(), [mainHandle]);
    // The running app still answers.
    await headerShows(carolJid);
  });
});

test("pop-out: bob's chat in a window of its own, with his presence and new messages", async () => {
  await withEvidence(app, 'window-pop-out', async () => {
    await app.click(tid('chat-tab', { jid: bobJid }));
    await headerShows(bobJid);
    await app.click(tid('pop-out'));
    let handles;
    await waitUntil(
      async () => {
        handles = await app.windowHandles();
        return handles.length === 2;
      },
      { message: `a second window (handles: ${JSON.stringify(handles)})` },
    );
    // The main window hands the chat over: its tab closes there.
    await waitUntil(async () => !(await tabs()).some((t) => t.jid === bobJid), { message: "bob's tab gone from the main window" });

    const popOut = handles.find((h) => h !== mainHandle);
    let since = readNotifications().length;
    let quiet = 0;
    await app.switchToWindow(popOut);
    try {
      await headerShows(bobJid);
      const page = await app.execute(`return {
        headers: document.querySelectorAll('[data-testid="chat-header"]').length,
        contacts: document.querySelectorAll('[data-testid="contact"]').length,
        tabs: document.querySelectorAll('[data-testid="chat-tab"]').length,
        popOutButtons: document.querySelectorAll('[data-testid="pop-out"]').length,
        composers: document.querySelectorAll('[data-testid="composer"]').length,
      }`);
      assert.deepEqual(page, { headers: 1, contacts: 0, tabs: 0, popOutButtons: 0, composers: 1 });
      assert.equal(await app.title(), `${bobJid} — Charla`);
      let show;
      await waitUntil(
        async () => {
          show = await app.execute(`return document.querySelector('[data-testid="chat-presence"]')?.dataset.show`);
          return show === 'available';
        },
        { message: `bob shown available in the pop-out (data-show: ${show})` },
      );
      assert.match(await chatHeaderText(app), /En casa/);

      since = readNotifications().length;
      quiet = quietCount(app, bobJid, 'chat_open');
      await bob.message(alice, 'hola pop-out');
      await waitUntil(
        async () => (await chatMessages(app)).some((m) => m.direction === 'in' && m.body === 'hola pop-out'),
        { message: 'bob\'s message in the pop-out' },
      );
    } finally {
      await app.switchToWindow(mainHandle);
    }
    // The pop-out is where bob's chat is read: the main window (still on carol's chat) counts
    // nothing unread, and nothing notifies.
    await headerShows(carolJid);
    await expectNoNotification((n) => n.body === 'hola pop-out', {
      since,
      after: waitForQuiet(app, bobJid, { why: 'chat_open', atLeast: quiet + 1 }),
      message: 'notification of a message shown in the pop-out',
    });
    assert.equal(await unreadCount(app, bobJid), 0);
    assert.equal(await app.title(), 'Charla');
  });
});
