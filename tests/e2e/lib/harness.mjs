// The end-to-end harness: a fresh sandbox XMPP server, the real Charla window driven through
// tauri-driver + WebKitWebDriver, a headless peer (charla-cli), and the desktop-notification log.
//
// Everything a test starts is registered and torn down in `after` hooks; on an abrupt exit
// (signal, crash) the process groups this file started are killed by their ids.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Session, driverReady, Key } from './webdriver.mjs';

export { Key };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const E2E_DIR = path.join(ROOT, 'tests/e2e');
export const SCREENSHOT_DIR = path.join(E2E_DIR, 'screenshots');
export const ARTIFACT_DIR = path.join(E2E_DIR, 'artifacts');
const TARGET = process.env.CARGO_TARGET_DIR
  ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR)
  : path.join(ROOT, 'target');
export const BIN = {
  app: process.env.CHARLA_E2E_APP ? path.resolve(process.env.CHARLA_E2E_APP) : path.join(TARGET, 'debug/charla'),
  sandbox: path.join(TARGET, 'debug/charla-sandbox'),
  cli: path.join(TARGET, 'debug/charla-cli'),
  tauriDriver: findTauriDriver(),
  nativeDriver: process.env.CHARLA_E2E_NATIVE_DRIVER ?? '/usr/bin/WebKitWebDriver',
};
export const DOMAIN = 'charla.test';
/** Environment for the app unless a test overrides it. */
const APP_ENV = {
  LANG: 'en_US.UTF-8',
  WEBKIT_DISABLE_COMPOSITING_MODE: '1',
  WEBKIT_DISABLE_DMABUF_RENDERER: '1',
};
const DEFAULT_TIMEOUT = Number(process.env.CHARLA_E2E_TIMEOUT_MS ?? 15000);

function findTauriDriver() {
  if (process.env.TAURI_DRIVER) return process.env.TAURI_DRIVER;
  const home = path.join(os.homedir(), '.cargo/bin/tauri-driver');
  if (fs.existsSync(home)) return home;
  return 'tauri-driver';
}

// ---------------------------------------------------------------------------------------------
// Small utilities

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `fn` until it returns a truthy value (which is returned) or `timeout` ms pass. Errors
 * thrown by `fn` count as "not yet"; the last one is reported on timeout.
 */
export async function waitUntil(fn, { timeout = DEFAULT_TIMEOUT, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  let lastValue;
  for (;;) {
    try {
      lastValue = await fn();
      if (lastValue) return lastValue;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? `; last error: ${lastError.message}` : `; last value: ${JSON.stringify(lastValue)}`;
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${detail}`);
    }
    await sleep(interval);
  }
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A run of `count` consecutive free loopback ports; returns the first. */
export async function freePorts(count = 1) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error('no free ports found');
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

let counter = 0;
/** A unique, readable name for this test process: `<prefix>-<pid>-<n>`. */
export function uniqueName(prefix) {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `charla-e2e-${prefix}-`));
}

function artifactDir(name) {
  const dir = path.join(ARTIFACT_DIR, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Child processes: each in its own process group, killed by id on teardown or abrupt exit.

const liveGroups = new Set();

function start(command, args, { env, logFile, stdio } = {}) {
  const out = logFile ? fs.openSync(logFile, 'a') : 'ignore';
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    detached: true, // own process group, so the whole subtree can be stopped by its id
    stdio: stdio ?? ['ignore', out, out],
  });
  if (logFile) fs.closeSync(out);
  liveGroups.add(child.pid);
  child.once('exit', () => liveGroups.delete(child.pid));
  child.exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  return child;
}

/** Stops a child started by `start`: SIGTERM to its group, SIGKILL after `grace` ms. */
async function stop(child, grace = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    killGroup(child?.pid, 'SIGKILL'); // leftovers of an exited leader
    return;
  }
  killGroup(child.pid, 'SIGTERM');
  const timer = sleep(grace).then(() => 'timeout');
  if ((await Promise.race([child.exited, timer])) === 'timeout') killGroup(child.pid, 'SIGKILL');
  await child.exited;
  killGroup(child.pid, 'SIGKILL');
  liveGroups.delete(child.pid);
}

function killGroup(pid, signal) {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function killAllNow() {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  liveGroups.clear();
}
process.once('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAllNow();
    process.exit(128 + (os.constants.signals[signal] ?? 1));
  });
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// The sandbox server

export class Sandbox {
  /**
   * Starts `charla-sandbox` on free ports in a fresh directory and waits until it accepts
   * connections. Reads `<dir>/sandbox.json` when the sandbox writes one.
   */
  static async start({ name = uniqueName('sandbox'), allowRegistration = false } = {}) {
    const dir = tempDir('sandbox');
    const port = await freePorts(3);
    const logFile = path.join(artifactDir(name), 'sandbox.log');
    const sandbox = new Sandbox(null, dir, port, logFile);
    sandbox.allowRegistration = allowRegistration;
    await sandbox.#launch();
    return sandbox;
  }

  async #launch() {
    const { dir, port, logFile } = this;
    const args = ['--port', String(port), '--dir', dir];
    if (this.allowRegistration) args.push('--allow-registration');
    const child = start(BIN.sandbox, args, { logFile });
    this.child = child;
    try {
      await waitUntil(
        async () => {
          if (child.exitCode !== null) throw new Error(`charla-sandbox exited: ${tail(logFile)}`);
          return fs.existsSync(path.join(dir, 'ca.pem')) && (await portOpen(port));
        },
        { timeout: 30000, message: `charla-sandbox on port ${port}` },
      );
      // sandbox.json is written once the demo accounts (and bots) are ready; older sandboxes
      // do not write it, so fall back to the known defaults after a short wait.
      const jsonFile = path.join(dir, 'sandbox.json');
      const found = await waitUntil(() => fs.existsSync(jsonFile), { timeout: 5000 }).catch(() => false);
      if (found) {
        await waitUntil(() => {
          try {
            this.config = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
            return true;
          } catch {
            return false; // still being written
          }
        });
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops the server but keeps its directory (accounts, history), for `resume`. */
  async pause() {
    await stop(this.child, 8000);
    // sandbox.json is rewritten when the server is ready again.
    fs.rmSync(path.join(this.dir, 'sandbox.json'), { force: true });
  }

  /** Starts the server again on the same port and directory after `pause`. */
  async resume() {
    await this.#launch();
  }

  constructor(child, dir, port, logFile) {
    this.child = child;
    this.dir = dir;
    this.port = port;
    this.logFile = logFile;
    this.config = null;
    /** In-band registration (XEP-0077) is open (`start({ allowRegistration: true })`). */
    this.allowRegistration = false;
  }

  get domain() {
    return this.config?.domain ?? DOMAIN;
  }
  get host() {
    return this.config?.host ?? '127.0.0.1';
  }
  get caFile() {
    return this.config?.ca_file ?? path.join(this.dir, 'ca.pem');
  }
  get hasConfig() {
    return this.config !== null;
  }
  /** Demo accounts: [{jid, password}]. */
  get accounts() {
    return (
      this.config?.accounts ??
      ['alice', 'bob', 'carol', 'dave'].map((user) => ({ jid: `${user}@${DOMAIN}`, password: user }))
    );
  }
  jid(user) {
    return `${user}@${this.domain}`;
  }

  /** The sandbox's Prosody config file. */
  prosodyConfig() {
    const found = [];
    const walk = (dir) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory() && entry.name !== 'data') walk(full);
        else if (entry.name === 'prosody.cfg.lua') found.push(full);
      }
    };
    walk(this.dir);
    if (found.length !== 1) throw new Error(`expected one prosody.cfg.lua under ${this.dir}, found ${found.length}`);
    return found[0];
  }

  /** Registers `user` (password: the user name) on the server: a stranger, in nobody's roster. */
  register(user) {
    const result = spawnSync('prosodyctl', ['--config', this.prosodyConfig(), 'register', user, this.domain, user], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`prosodyctl register ${user}: ${result.stderr}`);
  }
  password(user) {
    return this.accounts.find((a) => a.jid === this.jid(user))?.password ?? user;
  }

  async stop() {
    if (this.child) await stop(this.child, 8000);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The peer: the headless core through charla-cli

export class Peer {
  /** Logs `user` in on `sandbox` with charla-cli; resolves once it is online. */
  static async start(sandbox, user, { status, name = uniqueName(`peer-${user}`) } = {}) {
    const db = path.join(tempDir(`peer-${user}`), 'peer.sqlite3');
    const args = [
      '--jid', sandbox.jid(user),
      '--password', sandbox.password(user),
      '--host', '127.0.0.1',
      '--port', String(sandbox.port),
      '--ca', sandbox.caFile,
      '--db', db,
    ];
    if (status) args.push('--status', status);
    const logFile = path.join(artifactDir(name), `peer-${user}.log`);
    const child = start(BIN.cli, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new Peer(child, sandbox.jid(user), db, logFile);
    await peer.waitForEvent((e) => e.type === 'connection' && e.state?.state === 'online', {
      timeout: 20000,
      message: `${user} online`,
    });
    return peer;
  }

  constructor(child, jid, db, logFile) {
    this.child = child;
    this.jid = jid;
    this.db = db;
    this.events = [];
    this.waiters = new Set();
    const log = fs.createWriteStream(logFile, { flags: 'a' });
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      log.write(chunk);
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line) continue;
        try {
          this.events.push(JSON.parse(line));
        } catch {
          continue; // not an event (e.g. a /roster listing that is not JSON)
        }
        for (const wake of this.waiters) wake();
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => log.write(`[stderr] ${chunk}`));
    child.once('exit', () => {
      for (const wake of this.waiters) wake();
    });
  }

  /**
   * Resolves with the first event (at index >= `since`) matching `predicate`. Pass
   * `since: peer.mark()` to only look at events after a point.
   */
  waitForEvent(predicate, { timeout = DEFAULT_TIMEOUT, since = 0, message = 'peer event' } = {}) {
    return new Promise((resolve, reject) => {
      let index = since;
      const check = () => {
        for (; index < this.events.length; index++) {
          if (predicate(this.events[index])) {
            done();
            resolve(this.events[index]);
            return;
          }
        }
        if (this.child.exitCode !== null) {
          done();
          reject(new Error(`${this.jid}: charla-cli exited while waiting for ${message}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.jid}: timed out after ${timeout} ms waiting for ${message}; events: ${JSON.stringify(this.events.slice(-5))}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The index of the next event; pass to `waitForEvent({since})`. */
  mark() {
    return this.events.length;
  }

  send(command) {
    this.child.stdin.write(`${command}\n`);
  }

  /** Sends a chat message; resolves with the stored outgoing message once the server acked it. */
  async message(to, text, { timeout } = {}) {
    const since = this.mark();
    this.send(`/msg ${to} ${text}`);
    const added = await this.waitForEvent(
      (e) => e.type === 'message_added' && e.message?.direction === 'out' && e.message.body === text,
      { since, timeout, message: `message_added for ${JSON.stringify(text)}` },
    );
    return added.message;
  }

  /**
   * Sends several chat messages at once (without waiting between them); resolves once the
   * server acked every one.
   */
  async messages(to, texts, { timeout } = {}) {
    const since = this.mark();
    const waiting = new Set(texts);
    for (const text of texts) this.send(`/msg ${to} ${text}`);
    await this.waitForEvent(
      (e) => {
        if (e.type === 'message_added' && e.message?.direction === 'out') waiting.delete(e.message.body);
        return waiting.size === 0;
      },
      { since, timeout, message: `message_added for all ${texts.length} messages` },
    );
  }

  status(show, text = '') {
    this.send(`/status ${show}${text ? ` ${text}` : ''}`);
  }

  async stop() {
    if (this.child.exitCode === null) {
      this.send('/quit');
      const timer = sleep(5000).then(() => 'timeout');
      if ((await Promise.race([this.child.exited, timer])) === 'timeout') await stop(this.child);
    }
    fs.rmSync(path.dirname(this.db), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The app: tauri-driver -> WebKitWebDriver -> target/debug/charla

export class App {
  /**
   * Starts tauri-driver and opens a session on the real app window.
   *
   * - `sandbox`: sets CHARLA_SANDBOX_DIR so the app trusts its CA and defaults the server.
   * - `dataDir`: reuse an app data directory (XDG_* and CHARLA_PROFILE) from an earlier App,
   *   e.g. to restart with the same profile; a fresh one by default.
   * - `env`: extra environment for the app (LANG, GTK_THEME, ...).
   * - `args`: command-line arguments for the app (an `xmpp:` link, ...).
   * - `settings`: settings the app finds saved at start (merged over the test defaults). In a fresh
   *   data directory auto-away is off by default: Xvfb gets no real input, so its idle time only
   *   grows, and a long suite must not see its accounts turn away on their own.
   */
  static async start({ sandbox, dataDir, profile, env = {}, args = [], settings, name = uniqueName('app') } = {}) {
    const logs = artifactDir(name);
    const logFile = path.join(logs, 'app.log');
    const ownsData = !dataDir;
    dataDir ??= tempDir('app');
    profile ??= `e2e-${path.basename(dataDir)}`;
    const xdg = {
      XDG_DATA_HOME: path.join(dataDir, 'data'),
      XDG_CONFIG_HOME: path.join(dataDir, 'config'),
      XDG_CACHE_HOME: path.join(dataDir, 'cache'),
      XDG_STATE_HOME: path.join(dataDir, 'state'),
    };
    for (const dir of Object.values(xdg)) fs.mkdirSync(dir, { recursive: true });
    if (ownsData || settings) {
      // Tauri's config directory: the app identifier, with the profile appended (src-tauri/src/lib.rs).
      const configDir = path.join(xdg.XDG_CONFIG_HOME, `org.charla.Charla.${profile}`);
      fs.mkdirSync(configDir, { recursive: true });
      const saved = { auto_away: { away_after_secs: null, xa_after_secs: null }, ...settings };
      fs.writeFileSync(path.join(configDir, 'settings.json'), JSON.stringify(saved));
    }
    const appEnv = {
      ...APP_ENV,
      ...xdg,
      CHARLA_PROFILE: profile,
      ...(sandbox ? { CHARLA_SANDBOX_DIR: sandbox.dir } : {}),
      ...env,
    };
    if (!fs.existsSync(BIN.app)) throw new Error(`${BIN.app} is missing; run .ci/e2e (it builds it)`);
    const port = await freePorts(2);
    const driver = start(
      BIN.tauriDriver,
      ['--port', String(port), '--native-port', String(port + 1), '--native-driver', BIN.nativeDriver],
      { env: appEnv, logFile },
    );
    const base = `http://127.0.0.1:${port}`;
    const app = new App({ driver, base, dataDir, ownsData, profile, logFile, name, env: appEnv });
    try {
      await waitUntil(
        async () => {
          if (driver.exitCode !== null) throw new Error(`tauri-driver exited: ${tail(logFile)}`);
          return driverReady(base);
        },
        { timeout: 10000, message: 'tauri-driver /status' },
      );
      app.timing.sessionRequested = Date.now();
      app.session = await Session.create(base, {
        browserName: 'wry',
        'tauri:options': { application: BIN.app, args },
      });
      app.timing.sessionCreated = Date.now();
      await app.session.setTimeouts({ implicit: 0, script: 30000 });
      await app.waitForPaint({ timeout: 20000 });
      app.timing.firstPaint = Date.now();
    } catch (error) {
      await app.stop();
      throw new Error(`cannot start the app: ${error.message}\n--- app log ---\n${tail(logFile)}`);
    }
    return app;
  }

  constructor({ driver, base, dataDir, ownsData, profile, logFile, name, env }) {
    Object.assign(this, { driver, base, dataDir, ownsData, profile, logFile, name, env });
    this.session = null;
    this.timing = {};
  }

  /** Waits until the document is loaded and two animation frames have run (a new frame is on screen). */
  async waitForPaint({ timeout = DEFAULT_TIMEOUT } = {}) {
    await waitUntil(async () => (await this.session.execute('return document.readyState')) === 'complete', {
      timeout,
      message: 'document.readyState complete',
    });
    await this.session.executeAsync(`
      const done = arguments[arguments.length - 1];
      const fallback = setTimeout(() => done('timeout'), 1000);
      requestAnimationFrame(() => requestAnimationFrame(() => { clearTimeout(fallback); done('painted'); }));
    `);
  }

  // -- finding things ------------------------------------------------------------------------

  /** CSS for a data-testid, optionally with more attribute filters: tid('contact', {jid: 'x'}). */
  static tid(testid, data = {}) {
    const extra = Object.entries(data)
      .map(([k, v]) => `[data-${k}="${String(v).replaceAll('"', '\\"')}"]`)
      .join('');
    return `[data-testid="${testid}"]${extra}`;
  }

  find(css) {
    return this.session.find(css);
  }

  findAll(css) {
    return this.session.findAll(css);
  }

  /** Whether an element matching `css` exists (and, with `visible`, is displayed). */
  async exists(css, { visible = false } = {}) {
    const found = await this.findAll(css);
    if (!visible) return found.length > 0;
    for (const el of found) if (await el.displayed()) return true;
    return false;
  }

  /** Waits for an element matching `css` (displayed unless `visible: false`) and returns it. */
  async waitFor(css, { timeout = DEFAULT_TIMEOUT, visible = true } = {}) {
    return waitUntil(
      async () => {
        for (const el of await this.findAll(css)) if (!visible || (await el.displayed())) return el;
        return null;
      },
      { timeout, message: `element ${css}` },
    );
  }

  /** Waits until no element matches `css` (or none is displayed). */
  async waitForGone(css, { timeout = DEFAULT_TIMEOUT } = {}) {
    await waitUntil(async () => !(await this.exists(css, { visible: true })), {
      timeout,
      message: `${css} to disappear`,
    });
  }

  async click(css) {
    const el = await this.waitFor(css);
    await el.click();
    return el;
  }

  /**
   * Right-clicks `css` (its centre, moved by `x`, `y` px) with the real mouse events, as a user
   * opening a context menu does; returns the element.
   */
  async contextClick(css, { x = 0, y = 0 } = {}) {
    const el = await this.waitFor(css);
    await this.session.pointerClick(el, { button: 2, x, y });
    return el;
  }

  /** Clears an input (unless `append`) and types `text` into it with real key events. */
  async type(css, text, { append = false } = {}) {
    const el = await this.waitFor(css);
    if (!append) await this.clear(el);
    if (text) await el.type(text);
    return el;
  }

  /**
   * Empties an input. WebDriver's Element Clear sets the value without an `input` event, so
   * frameworks that bind on `input` (Svelte's bind:value) would not see it: fire one.
   */
  async clear(elOrCss) {
    const el = typeof elOrCss === 'string' ? await this.waitFor(elOrCss) : elOrCss;
    await el.clear();
    await this.execute(`arguments[0].dispatchEvent(new Event('input', { bubbles: true }))`, el);
    return el;
  }

  async text(css) {
    return (await this.waitFor(css, { visible: false })).text();
  }

  /** Waits until the text of `css` satisfies `predicate` (a string means "equals"). */
  async waitForText(css, predicate, { timeout = DEFAULT_TIMEOUT } = {}) {
    const test = typeof predicate === 'function' ? predicate : (t) => t === predicate;
    let last;
    return waitUntil(
      async () => {
        const el = (await this.findAll(css))[0];
        if (!el) return false;
        last = await el.text();
        return test(last) ? last : false;
      },
      { timeout, message: `text of ${css} (last: ${JSON.stringify(last)})` },
    );
  }

  /** Sets a <select> to `value` the way a user would: the value changes and input/change fire. */
  async select(css, value) {
    const el = await this.waitFor(css);
    const ok = await this.session.execute(
      `const el = arguments[0], value = arguments[1];
       if (![...el.options].some((o) => o.value === value)) return false;
       el.focus();
       el.value = value;
       el.dispatchEvent(new Event('input', { bubbles: true }));
       el.dispatchEvent(new Event('change', { bubbles: true }));
       return true;`,
      el,
      value,
    );
    if (!ok) {
      const options = await this.session.execute('return [...arguments[0].options].map((o) => o.value)', el);
      throw new Error(`${css} has no option ${JSON.stringify(value)} (options: ${options.join(', ')})`);
    }
    return el;
  }

  execute(script, ...args) {
    return this.session.execute(script, ...args);
  }

  /** Presses `key` with `modifiers` held (`app.chord([Key.Control], 'k')`) on the focused element. */
  chord(modifiers, key) {
    return this.session.chord(modifiers, key);
  }

  /** Types `text` (real key events, see `Key`) into whatever has focus. */
  keys(text) {
    return this.session.keys(text);
  }

  /** The window title as WebDriver reports it (the page's `document.title`). */
  title() {
    return this.session.title();
  }

  windowHandles() {
    return this.session.windowHandles();
  }

  windowHandle() {
    return this.session.windowHandle();
  }

  /** Sends later commands to the window `handle` (see `windowHandles`). */
  switchToWindow(handle) {
    return this.session.switchToWindow(handle);
  }

  executeAsync(script, ...args) {
    return this.session.executeAsync(script, ...args);
  }

  /**
   * Saves a PNG of the window to tests/e2e/screenshots/<name>.png after the next paint.
   *
   * With WEBKIT_DISABLE_COMPOSITING_MODE=1 or WEBKIT_DISABLE_DMABUF_RENDERER=1, WebKitWebDriver's
   * screenshot waits for the next rendered frame, and an idle page renders none: the command
   * hangs. So a 1x1 px element toggles between two fully transparent colours on every animation
   * frame while the screenshot is taken (a repaint that changes no pixel).
   */
  async screenshot(name) {
    await this.waitForPaint();
    await this.execute(`
      const pump = document.createElement('div');
      pump.setAttribute('aria-hidden', 'true');
      pump.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none;z-index:2147483647';
      document.documentElement.append(pump);
      let odd = false;
      window.__e2eFramePump = true;
      (function tick() {
        if (!window.__e2eFramePump) return pump.remove();
        odd = !odd;
        pump.style.backgroundColor = odd ? 'rgba(1, 0, 0, 0)' : 'rgba(0, 0, 0, 0)';
        requestAnimationFrame(tick);
      })();`);
    let png;
    try {
      png = await this.session.screenshot();
    } finally {
      await this.execute('window.__e2eFramePump = false').catch(() => {});
    }
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${name}.png`);
    fs.writeFileSync(file, png);
    return file;
  }

  // -- the app as a process tree ---------------------------------------------------------------

  /** The pid of the charla process (a descendant of tauri-driver). */
  appPid() {
    const exe = fs.realpathSync(BIN.app);
    return descendants(this.driver.pid).find((pid) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/exe`) === exe;
      } catch {
        return false;
      }
    });
  }

  /** charla and every process under it (WebKitWebProcess, WebKitNetworkProcess, ...). */
  appTree() {
    const pid = this.appPid();
    return pid ? [pid, ...descendants(pid)] : [];
  }

  /** The app's log so far (stdout and stderr of tauri-driver, WebKitWebDriver and the app). */
  log() {
    try {
      return fs.readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  logTail(lines = 40) {
    return tail(this.logFile, lines);
  }

  async stop({ keepData = false } = {}) {
    if (this.session) {
      await Promise.race([this.session.delete().catch(() => {}), sleep(5000)]);
      this.session = null;
    }
    await stop(this.driver, 3000);
    if (this.ownsData && !keepData) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export const tid = App.tid;

// ---------------------------------------------------------------------------------------------
// /proc helpers

function childrenOf() {
  const map = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!map.has(ppid)) map.set(ppid, []);
      map.get(ppid).push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return map;
}

/** Every descendant of `pid`, breadth first. */
export function descendants(pid) {
  const map = childrenOf();
  const out = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of map.get(queue.shift()) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/**
 * {pid, name, rssKb, pssKb, ussKb} from /proc/<pid>/smaps_rollup and /proc/<pid>/comm. USS is
 * the private memory (Private_Clean + Private_Dirty): what exiting the process would free.
 */
export function memoryOf(pid) {
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
  return {
    pid,
    name: fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(),
    rssKb: field('Rss'),
    pssKb: field('Pss'),
    ussKb: field('Private_Clean') + field('Private_Dirty'),
  };
}

/**
 * Processes outside `exclude` that map a file whose path contains `needle` (e.g. another WebKit
 * app): they share those pages, which lowers every PSS figure of the measured tree.
 */
export function othersMapping(needle, exclude = []) {
  const skip = new Set([...exclude, process.pid]);
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || skip.has(Number(entry))) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/maps`, 'utf8').includes(needle)) {
        found.push({ pid: Number(entry), name: fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() });
      }
    } catch {
      // exited, or not ours to read
    }
  }
  return found;
}

/**
 * When a process started, in Unix milliseconds (10 ms resolution). /proc gives the start in clock
 * ticks since boot; it is turned into wall time through the current uptime rather than `btime`,
 * which drifts from the wall clock on long-running virtual machines.
 */
export function processStartMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
  const now = Date.now();
  const uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return now - (uptime - startTicks / ticksPerSecond) * 1000;
}

// ---------------------------------------------------------------------------------------------
// Desktop notifications: `.ci/e2e` runs `dbus-monitor` on the session bus and writes its output
// to $CHARLA_E2E_NOTIFY_LOG.

export const NOTIFY_LOG = process.env.CHARLA_E2E_NOTIFY_LOG ?? '';

/** Every Notify call recorded so far: [{appName, summary, body, imagePath}]. */
export function readNotifications(file = NOTIFY_LOG) {
  if (!file) throw new Error('CHARLA_E2E_NOTIFY_LOG is not set: run the tests through .ci/e2e');
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return parseNotifyLog(text);
}

/**
 * Parses dbus-monitor's text output. A call looks like:
 *   method call time=... member=Notify
 *      string "app"        (app_name)
 *      uint32 0            (replaces_id)
 *      string ""           (app_icon)
 *      string "summary"
 *      string "body"
 *      array [ ... ]       (actions, hints)
 *      int32 -1            (expire_timeout)
 * Top-level arguments are indented by three spaces; a string may span lines (and then a line
 * may start without indentation), so blocks are split on dbus-monitor's header lines only.
 */
export function parseNotifyLog(text) {
  const calls = [];
  const blocks = text
    .split(/^(?=(?:method call|method return|signal|error) time=)/m).filter((b) => /^method call\b.*\bmember=Notify\b/.test(b));
  for (const block of blocks) {
    const body = block.slice(block.indexOf('\n') + 1);
    const args = [];
    // An argument ends where the next top-level one starts, or at the end of the block.
    const re = /^ {3}(string|uint32|int32) ("[\s\S]*?"|\S+)(?=\n {3}\S|\s*(?![\s\S]))/gm;
    let m;
    while ((m = re.exec(body)) && args.length < 5) {
      args.push(m[1] === 'string' ? m[2].slice(1, -1) : Number(m[2]));
    }
    const image = /string "image-path"\s+variant\s+string "([^"]*)"/.exec(body);
    if (args.length >= 5) calls.push({ appName: args[0], summary: args[3], body: args[4], imagePath: image?.[1] ?? null });
  }
  return calls;
}

/** The Notify calls recorded after index `since` (pass `readNotifications().length` taken earlier). */
export function notificationsSince(since) {
  return readNotifications().slice(since);
}

/**
 * Asserts that no Notify call after index `since` matches `predicate`, once `after` (a settled
 * fact: `waitForQuiet`, `waitForNotesSettled`, or a notification shown after the one that must
 * not be) has resolved. No time window: the fact says nothing more can come.
 */
export async function expectNoNotification(predicate, { since, after, message = 'a notification' }) {
  if (!(after instanceof Promise)) throw new Error('expectNoNotification needs a settled fact to wait on (after)');
  await after;
  const found = notificationsSince(since).filter(predicate);
  if (found.length > 0) throw new Error(`unexpected ${message}: ${JSON.stringify(found)}`);
}

/**
 * How many incoming messages from `peer` the app decided not to notify (for `why`, or any
 * reason), from its log: `charla: not notified: N from PEER (WHY)`.
 */
export function quietCount(app, peer, why = null) {
  let count = 0;
  for (const m of app.log().matchAll(/charla: not notified: (\d+) from (\S+) \((\w+)\)/g)) {
    if (m[2] === peer && (why === null || m[3] === why)) count += Number(m[1]);
  }
  return count;
}

/** Waits until the app has decided not to notify `atLeast` messages from `peer` (see `quietCount`). */
export function waitForQuiet(app, peer, { why = null, atLeast = 1, timeout } = {}) {
  return waitUntil(() => quietCount(app, peer, why) >= atLeast, {
    timeout,
    message: `${atLeast} message(s) from ${peer} not notified${why ? ` (${why})` : ''}; log: ${app.logTail(10)}`,
  });
}

/** How many messages the app's notifier had taken when it last settled (nothing more to show). */
export function notesSettled(app) {
  let taken = 0;
  for (const m of app.log().matchAll(/charla: notifications settled after (\d+) messages/g)) taken = Math.max(taken, Number(m[1]));
  return taken;
}

/**
 * Waits until the notifier has settled with at least `atLeast` messages taken: every one of them
 * is shown or held (its chat's notification is on screen), and nothing more shows until a message
 * comes or a notification closes.
 */
export function waitForNotesSettled(app, atLeast, { timeout } = {}) {
  return waitUntil(() => notesSettled(app) >= atLeast, {
    timeout,
    message: `notifications settled after ${atLeast} messages; log: ${app.logTail(10)}`,
  });
}

/**
 * Runs `dunstctl` (the notification daemon `.ci/e2e` starts on this session bus); returns its
 * trimmed stdout, throws on failure.
 */
export function dunstctl(...args) {
  const result = spawnSync('dunstctl', args, { encoding: 'utf8', timeout: 10000 });
  if (result.error) throw new Error(`dunstctl ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`dunstctl ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout.trim();
}

/** Waits for a Notify call matching `predicate` among those after index `since`. */
export async function waitForNotification(predicate, { since = 0, timeout = DEFAULT_TIMEOUT } = {}) {
  let seen = [];
  return waitUntil(
    () => {
      seen = readNotifications().slice(since);
      return seen.find(predicate);
    },
    { timeout, message: `a desktop notification (seen: ${JSON.stringify(seen)})` },
  );
}

// ---------------------------------------------------------------------------------------------
// The UI dictionaries (ui/src/lib/i18n/<lang>.ts), read as text: key -> string or plural forms.

export function loadDictionary(lang) {
  const source = fs.readFileSync(path.join(ROOT, `ui/src/lib/i18n/${lang}.ts`), 'utf8');
  const dict = {};
  const str = String.raw`'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|\x60((?:[^\x60\\]|\\.)*)\x60`;
  const unquote = (m, i) => (m[i] ?? m[i + 1] ?? m[i + 2]).replace(/\\(.)/g, '$1');
  // 'key': 'value',
  const simple = new RegExp(String.raw`^\s*(?:${str})\s*:\s*(?:${str})\s*,?\s*$`, 'gm');
  for (const m of source.matchAll(simple)) dict[unquote(m, 1)] = unquote(m, 4);
  // 'key': { one: '...', other: '...' },
  const plural = new RegExp(String.raw`^\s*(?:${str})\s*:\s*\{([^}]*)\}`, 'gm');
  for (const m of source.matchAll(plural)) {
    const forms = {};
    for (const f of m[4].matchAll(new RegExp(String.raw`(\w+)\s*:\s*(?:${str})`, 'g'))) forms[f[1]] = unquote(f, 2);
    dict[unquote(m, 1)] = forms;
  }
  // 'key':\n 'long value',
  const wrapped = new RegExp(String.raw`^\s*(?:${str})\s*:\s*\n\s*(?:${str})\s*,`, 'gm');
  for (const m of source.matchAll(wrapped)) dict[unquote(m, 1)] ??= unquote(m, 4);
  return dict;
}

// ---------------------------------------------------------------------------------------------
// Test helpers

/**
 * Runs `fn(app)`; on failure saves `failed-<name>.png` and appends the app's log tail to the
 * error, so a red run says what the window showed.
 */
export async function withEvidence(app, name, fn) {
  try {
    return await fn(app);
  } catch (error) {
    const safe = name.replace(/[^\w.-]+/g, '_').slice(0, 80);
    let shot = '';
    try {
      if (app?.session) shot = await app.screenshot(`failed-${safe}`);
    } catch (e) {
      shot = `(no screenshot: ${e.message})`;
    }
    let dom = '';
    try {
      if (app?.session) {
        dom = await app.execute(
          `return [...document.querySelectorAll('[data-testid]')].slice(0, 60)
             .map((e) => e.dataset.testid + (e.dataset.jid ? '[' + e.dataset.jid + ']' : '')).join(' ')`,
        );
      }
    } catch {
      // the page is gone
    }
    error.message += `\n  screenshot: ${shot}\n  data-testids on the page: ${dom || '(none)'}\n  app log tail:\n${app?.logTail(15) ?? ''}`;
    throw error;
  }
}

/** Waits for the login screen (fresh profile) or fails with a clear message. */
export async function waitForLoginScreen(app, { timeout = DEFAULT_TIMEOUT } = {}) {
  await app.waitFor(tid('login-jid'), { timeout }).catch((error) => {
    throw new Error(`the login screen ([data-testid="login-jid"]) did not appear: ${error.message}`);
  });
}

/** Logs in through the form: types the JID and password and submits. Waits for the main window. */
export async function loginWithForm(app, jid, password, { timeout = 30000 } = {}) {
  await waitForLoginScreen(app);
  await app.type(tid('login-jid'), jid);
  await app.type(tid('login-password'), password);
  await app.click(tid('login-submit'));
  await waitForMainWindow(app, { timeout });
}

/**
 * Logs in with the demo-account button for `jid`. If the button only fills the form, submits it.
 */
export async function loginWithDemoAccount(app, jid, { timeout = 30000 } = {}) {
  await waitForLoginScreen(app);
  await app.click(tid('demo-account', { jid }));
  const loggedIn = await waitUntil(() => app.exists(tid('own-presence')), { timeout: 2000 }).catch(() => false);
  if (!loggedIn) {
    const connecting = await app.exists(tid('login-connecting'), { visible: true });
    if (!connecting && (await app.exists(tid('login-submit'), { visible: true }))) {
      await app.click(tid('login-submit'));
    }
  }
  await waitForMainWindow(app, { timeout });
}

export async function waitForMainWindow(app, { timeout = 30000 } = {}) {
  let failure = null;
  await waitUntil(
    async () => {
      if (await app.exists(tid('own-presence'))) return true;
      if (await app.exists(tid('login-error'), { visible: true })) {
        failure = await app.text(tid('login-error'));
        return true;
      }
      return false;
    },
    { timeout, message: 'the main window ([data-testid="own-presence"])' },
  );
  if (failure !== null) throw new Error(`login failed: ${failure}`);
}

/** The presence `data-show` of a contact row, or null if the row is not there. */
export async function contactShow(app, jid) {
  return app.execute(
    `const row = document.querySelector(arguments[0]);
     return row ? row.querySelector('[data-testid="presence-dot"]')?.dataset.show ?? null : null;`,
    tid('contact', { jid }),
  );
}

/** Text of a contact's status line ('' if none shown), or null if the row is not there. */
export async function contactStatus(app, jid) {
  return app.execute(
    `const row = document.querySelector(arguments[0]);
     if (!row) return null;
     const el = row.querySelector('[data-testid="contact-status"]');
     return el ? el.innerText.trim() : '';`,
    tid('contact', { jid }),
  );
}

/** The messages in the open chat: [{direction, state, body}]. */
export async function chatMessages(app) {
  return app.execute(
    `return [...document.querySelectorAll('[data-testid="message"]')].map((m) => ({
       direction: m.dataset.direction ?? null,
       state: m.dataset.state ?? null,
       body: m.querySelector('[data-testid="message-body"]')?.textContent ?? null,
     }));`,
  );
}

/** Starts the app on `sandbox` and logs `user` in through the form; returns the app. */
export async function startLoggedIn(sandbox, user, { name, env, dataDir, settings } = {}) {
  const app = await App.start({ sandbox, name, env, dataDir, settings });
  try {
    await withEvidence(app, `${name ?? 'app'}-login`, () =>
      loginWithForm(app, sandbox.jid(user), sandbox.password(user)),
    );
  } catch (error) {
    await app.stop();
    throw error;
  }
  return app;
}

/** The number in a contact row's unread badge (0 without a badge), or null if the row is not there. */
export async function unreadCount(app, jid) {
  return app.execute(
    `const row = document.querySelector(arguments[0]);
     if (!row) return null;
     const badge = row.querySelector('[data-testid="unread-badge"]');
     return badge ? Number(badge.textContent.trim()) : 0;`,
    tid('contact', { jid }),
  );
}

/** Waits until `jid`'s row shows `count` unread messages (0: no badge). */
export async function waitForUnread(app, jid, count, { timeout } = {}) {
  await waitUntil(
    async () => {
      const seen = await unreadCount(app, jid);
      if (seen !== count) throw new Error(`the badge shows ${seen}`);
      return true;
    },
    { timeout, message: `${jid} unread ${count}` },
  );
}

/**
 * The name a contact row shows. Read from the DOM: WebDriver's Get Element Text can leave out
 * text in these ellipsis-truncated lines (see README).
 */
export async function contactName(app, jid) {
  const row = tid('contact', { jid });
  await app.waitFor(row);
  const name = await app.execute(
    `return document.querySelector(arguments[0])?.querySelector('[data-testid="contact-name"]')?.textContent.trim() ?? ''`,
    row,
  );
  if (!name) throw new Error(`${jid}'s row shows no name`);
  return name;
}

/** The open chat's header text ('' without one), from the DOM (see `contactName`). */
export function chatHeaderText(app) {
  return app.execute(`return document.querySelector(arguments[0])?.textContent ?? ''`, tid('chat-header'));
}

/** Waits until the open chat's header shows `text`. */
export async function waitForChatHeader(app, text, { timeout } = {}) {
  await waitUntil(
    async () => {
      const seen = await chatHeaderText(app);
      if (!seen.includes(text)) throw new Error(`the header shows ${JSON.stringify(seen)}`);
      return true;
    },
    { timeout, message: `the chat header to show ${JSON.stringify(text)}` },
  );
}

/** Opens the chat with `jid` from the contact list and waits for its header and composer. */
export async function openChat(app, jid) {
  const name = await contactName(app, jid);
  await app.click(tid('contact', { jid }));
  await waitForChatHeader(app, name);
  await app.waitFor(tid('composer'));
}
