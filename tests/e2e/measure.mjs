#!/usr/bin/env node
// Measures Charla's cold start and memory with the real window, the way the e2e tests run it.
// Run it inside the e2e session (X display, D-Bus):
//
//   .ci/e2e --no-build --measure [--app target/release/charla] [--runs 5] [--settle 5000] [--json]
//                                [--env NAME=VALUE]...
//
// e.g. `--env WEBKIT_DISABLE_COMPOSITING_MODE=0 --env WEBKIT_DISABLE_DMABUF_RENDERER=0` measures
// with WebKit's default rendering (the harness disables both by default).
//
// Cold start, per run (fresh profile each time, so no cache):
//   - spawn -> first contentful paint: the charla process's start time (/proc/<pid>/stat, 10 ms
//     resolution) to performance.timeOrigin + the page's 'first-contentful-paint' entry. This is
//     what a user waits for, measured inside WebKit, with no polling error.
//   - spawn -> DOM complete: to timeOrigin + navigation entry domComplete.
//   - session -> painted (driver view): from the WebDriver "new session" request (just before the
//     app is spawned) until the harness saw readyState 'complete' and two animation frames ran;
//     an upper bound that includes WebDriver round trips.
// Memory: RSS and PSS (/proc/<pid>/smaps_rollup) of charla and every process under it
// (WebKitWebProcess, WebKitNetworkProcess), at the login screen and again `--settle` ms after
// alice logged in on a sandbox with her demo contacts. PSS divides shared pages among the
// processes that map them, so the PSS total is the tree's honest footprint; the RSS total counts
// shared libraries once per process. USS (private pages) is the floor. PSS is only honest when no
// other process on the machine maps the same libraries (another WebKit app would take its share
// of libwebkit2gtk's pages): the script lists any it finds.

import path from 'node:path';

import {
  App, BIN, Sandbox, loginWithForm, memoryOf, othersMapping, processStartMs, sleep, tid,
} from './lib/harness.mjs';

function parseArgs(argv) {
  const options = { app: BIN.app, runs: 3, settle: 5000, json: false, env: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--app') options.app = path.resolve(value());
    else if (arg === '--runs') options.runs = Number(value());
    else if (arg === '--settle') options.settle = Number(value());
    else if (arg === '--json') options.json = true;
    else if (arg === '--env') {
      const [name, ...rest] = value().split('=');
      options.env[name] = rest.join('=');
    }
    else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
BIN.app = options.app;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

async function coldStart(app) {
  const pid = app.appPid();
  const spawned = processStartMs(pid);
  const page = await app.execute(`
    const paint = performance.getEntriesByType('paint');
    const fcp = paint.find((e) => e.name === 'first-contentful-paint') ?? paint[0];
    const nav = performance.getEntriesByType('navigation')[0];
    return { origin: performance.timeOrigin, fcp: fcp ? fcp.startTime : null, domComplete: nav ? nav.domComplete : null };
  `);
  return {
    spawnToFcpMs: page.fcp === null ? null : Math.round(page.origin + page.fcp - spawned),
    spawnToDomCompleteMs: page.domComplete === null ? null : Math.round(page.origin + page.domComplete - spawned),
    sessionToPaintedMs: app.timing.firstPaint - app.timing.sessionRequested,
    sessionToFirstCommandMs: app.timing.sessionCreated - app.timing.sessionRequested,
  };
}

function memory(app) {
  const processes = [];
  for (const pid of app.appTree()) {
    try {
      processes.push(memoryOf(pid));
    } catch {
      // exited between listing and reading
    }
  }
  const total = (key) => processes.reduce((sum, p) => sum + p[key], 0);
  const sharing = othersMapping('libwebkit2gtk-4.1', processes.map((p) => p.pid));
  return { processes, rssKb: total('rssKb'), pssKb: total('pssKb'), ussKb: total('ussKb'), sharing };
}

const mb = (kb) => (kb / 1024).toFixed(1);

function printMemory(title, m) {
  console.log(`\n${title}`);
  console.log('  process            pid       RSS MB   PSS MB   USS MB');
  const row = (p) => `${mb(p.rssKb).padStart(8)} ${mb(p.pssKb).padStart(8)} ${mb(p.ussKb).padStart(8)}`;
  for (const p of m.processes) console.log(`  ${p.name.padEnd(18)} ${String(p.pid).padEnd(8)} ${row(p)}`);
  console.log(`  ${'total'.padEnd(27)} ${row(m)}`);
  if (m.sharing.length) {
    const names = m.sharing.map((p) => `${p.name}(${p.pid})`).join(', ');
    console.log(`  warning: other processes map libwebkit2gtk, so PSS is lower than alone: ${names}`);
  }
}

const sandbox = await Sandbox.start({ name: 'measure-sandbox' });
const result = { app: options.app, env: {}, runs: [], memory: {} };
try {
  for (let run = 0; run < options.runs; run++) {
    const app = await App.start({ sandbox, name: `measure-app-${run}`, env: options.env });
    try {
      result.env = Object.fromEntries(
        Object.entries(app.env).filter(([k]) => k.startsWith('WEBKIT_') || k === 'LANG' || k in options.env),
      );
      result.runs.push(await coldStart(app));
      if (run === options.runs - 1) {
        await app.waitFor(tid('login-jid'));
        await sleep(options.settle);
        result.memory.loginScreen = memory(app);
        await loginWithForm(app, sandbox.jid('alice'), sandbox.password('alice'));
        await app.waitFor(tid('contact', { jid: sandbox.jid('bob') }));
        await sleep(options.settle);
        result.memory.afterLogin = memory(app);
      }
    } finally {
      await app.stop();
    }
  }
} finally {
  await sandbox.stop();
}

const keys = ['spawnToFcpMs', 'spawnToDomCompleteMs', 'sessionToPaintedMs', 'sessionToFirstCommandMs'];
result.median = Object.fromEntries(keys.map((k) => [k, median(result.runs.map((r) => r[k]).filter((v) => v !== null))]));

if (options.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(`app: ${result.app}`);
  console.log(`env: ${Object.entries(result.env).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  console.log(`\ncold start over ${result.runs.length} runs (ms): median [each run]`);
  for (const k of keys) console.log(`  ${k.padEnd(24)} ${String(result.median[k]).padStart(6)}   [${result.runs.map((r) => r[k]).join(', ')}]`);
  printMemory('memory at the login screen', result.memory.loginScreen);
  printMemory(`memory ${options.settle} ms after alice logged in`, result.memory.afterLogin);
}
