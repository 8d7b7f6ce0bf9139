#!/usr/bin/env node
// Charla's benchmarks (issue 6): runs every measurement and prints one table with min / median
// / max per figure and the target. Started by `bench/run.sh` (`make bench`), which
// provides an X display (Xvfb), a D-Bus session and a notification daemon for the app.
//
//   node bench/run.mjs [--runs 5] [--minutes 10] [--only core,cli,app,flood,open,soak,rooms]
//   (flood alone: flood-server, flood-cli, flood-closed, flood-open;
//    rooms alone: rooms-join, rooms-burst, rooms-rejoin)
//                      [--json FILE]
//
// Parts:
//   core   headless store/core benchmarks (crates/charla-core/benches/core.rs)
//   cli    the headless core (charla-cli): launch to online and idle memory, 50 / 2,000 contacts
//   app    the desktop app (release build): cold start to first paint, launch to online and
//          idle memory of the whole process tree, 50 / 2,000 contacts
//   flood  a 2,000-message flood from a peer: a raw client (the server's share), CLI, app with
//          the chat closed, app with it open
//   open   opening a chat with 20,000 messages in the app, to first paint
//   soak   memory of the app tree over --minutes of messages and presence changes
//   rooms  group chats (issue 16), with the headless core (charla-cli): joining a room of 500
//          occupants and 10,000 archived lines (the last 50 caught up) until RoomJoined; a
//          2,000-line burst into a joined room until stored and printed, its CPU and its
//          notifications; relaunching with 20 bookmarked rooms until all are joined
//
// Every end-to-end part runs against a real Prosody started by charla-bench-server
// (tests/src/bin/charla-bench-server.rs). Numbers are printed, never judged: a busy machine
// gives slower numbers, not failures.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { App, BIN as HARNESS_BIN, ROOT, descendants, memoryOf, processStartMs, sleep, tid } from '../tests/e2e/lib/harness.mjs';

const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
const BIN = {
  server: path.join(TARGET, 'release/charla-bench-server'),
  cli: path.join(TARGET, 'release/charla-cli'),
  app: path.join(TARGET, 'release/charla'),
};
const USER = 'alice@charla.test';
const FLOODER = 'carol@charla.test';
const FLOOD = 2000;
const HISTORY = 20000;
const IDLE_MS = 10000;
const PROFILE = 'bench';
/** Group chats (issue 16): the crowded room, the burst, the bookmarked rooms. */
const ROOM_OCCUPANTS = 500;
const ROOM_ARCHIVE = 10000;
const ROOM_BURST = 2000;
const BOOKMARKED_ROOMS = 20;
const NICK = 'alice';
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

// ---------------------------------------------------------------------------------------------
// Options, statistics, the table

function parseArgs(argv) {
  const options = { runs: 5, minutes: 10, only: null, json: null };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    const arg = argv[i];
    if (arg === '--runs') options.runs = Math.max(1, Number(value()));
    else if (arg === '--minutes') options.minutes = Number(value());
    else if (arg === '--only') options.only = new Set(value().split(','));
    else if (arg === '--json') options.json = path.resolve(value());
    else throw new Error(`unknown argument ${arg} (see the top of bench/run.mjs)`);
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
/** Whether `part` (e.g. `flood-open`) was asked for: by its name or its group (`flood`). */
const wanted = (part) => !options.only || options.only.has(part) || options.only.has(part.split('-')[0]);

/** Figures collected: name -> {unit, runs, target?, note?}. */
const results = new Map();

/** Targets of issue 6: [figure name, test on the median, text]. */
const TARGETS = new Map([
  ['ingest: parse+dedup+commit, 1 tx/burst of 100', [(v) => v >= 50000, '>= 50,000 msg/s']],
  ['history: first page, store just opened', [(v) => v < 5, '< 5 ms']],
  ['search: FTS5 over 1,000,000 messages', [(v) => v < 30, '< 30 ms']],
  ['cli: launch to online, 50 contacts', [(v) => v < 600, '< 0.6 s']],
  ['cli: launch to online, 2000 contacts', [(v) => v < 1000, '< 1 s']],
  ['app: launch to online, 50 contacts', [(v) => v < 600, '< 0.6 s']],
  ['app: launch to online, 2000 contacts', [(v) => v < 1000, '< 1 s']],
  ['app: idle PSS of the tree, 50 contacts', [(v) => v < 160, '< 160 MB']],
  ['app: idle PSS of the tree, 2000 contacts', [(v) => v < 200, '< 200 MB']],
  ['cli: flood 2,000, until all receipted + printed', [(v) => v < 3000, '< 3 s']],
  ['cli: flood 2,000, CPU seconds', [(v) => v < 3, '< 3 CPU-s']],
  ['app: flood 2,000, chat closed, until receipted + badge', [(v) => v < 3000, '< 3 s']],
  ['app: flood 2,000, chat closed, CPU seconds (tree)', [(v) => v < 3, '< 3 CPU-s']],
  ['app: flood 2,000, chat open, until receipted + shown', [(v) => v < 3000, '< 3 s']],
  ['app: flood 2,000, chat open, CPU seconds (tree)', [(v) => v < 3, '< 3 CPU-s']],
  ['app: open a 20,000-message chat, click to first paint', [(v) => v < 150, '< 150 ms']],
  ['app: cold start to first contentful paint', [(v) => v < 1000, '< 1 s']],
  // Issue 16.
  ['cli: join a room of 500 occupants, 10,000 archived lines, to RoomJoined', [(v) => v < 1000, '< 1 s']],
  ['cli: room burst 2,000 lines, until all stored + printed', [(v) => v < 3000, '< 3 s']],
  ['cli: room burst 2,000 lines, CPU seconds', [(v) => v < 3, '< 3 CPU-s']],
  ['cli: room burst 2,000 lines, notifications after coalescing', [(v) => v === 1, '1']],
  ['cli: launch to 20 bookmarked rooms joined', [(v) => v < 2000, '< 2 s']],
]);

function record(name, unit, value, note) {
  if (!results.has(name)) results.set(name, { unit, runs: [], note });
  if (value !== null && value !== undefined && Number.isFinite(value)) results.get(name).runs.push(value);
  if (note) results.get(name).note = note;
}

function spread(values) {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return null;
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { min: s[0], median: mid, max: s[s.length - 1] };
}

function fmt(v) {
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(v < 1 ? 3 : 2);
}

function printTable() {
  const rows = [['measurement', 'median', 'min', 'max', 'unit', 'runs', 'target', 'met']];
  for (const [name, r] of results) {
    const s = spread(r.runs);
    const target = TARGETS.get(name);
    const met = !target ? '' : !s ? 'n/a' : target[0](s.median) ? 'yes' : 'NO';
    rows.push(s
      ? [name, fmt(s.median), fmt(s.min), fmt(s.max), r.unit, String(r.runs.length), target?.[1] ?? '', met]
      : [name, r.note ?? 'n/a', '', '', r.unit, '0', target?.[1] ?? '', met]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row) => `| ${row.map((c, i) => (i === 0 || i >= 6 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(`\nCharla benchmarks, ${new Date().toISOString()}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.release()}`);
  console.log(line(rows[0]));
  console.log(`|${widths.map((w, i) => (i === 0 || i >= 6 ? ':' : '-') + '-'.repeat(w) + (i === 0 || i >= 6 ? '-' : ':')).join('|')}|`);
  for (const row of rows.slice(1)) console.log(line(row));
}

const log = (...args) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);

// ---------------------------------------------------------------------------------------------
// Processes

/** CPU seconds (user + system, including reaped children) of each live process in `pids`. */
function cpuByProcess(pids) {
  const out = new Map();
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, { name, s: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK });
    } catch {
      // exited
    }
  }
  return out;
}

/** CPU seconds of the live processes `pids` together. */
function cpuSeconds(pids) {
  return [...cpuByProcess(pids).values()].reduce((sum, p) => sum + p.s, 0);
}

/** "name s, ..." of the CPU seconds each process used between two `cpuByProcess` readings. */
function cpuParts(before, after) {
  return [...after].map(([pid, p]) => `${p.name} ${(p.s - (before.get(pid)?.s ?? 0)).toFixed(2)}`).join(', ');
}

function treeMemory(pids) {
  const total = { rssKb: 0, pssKb: 0, ussKb: 0, processes: [] };
  for (const pid of pids) {
    try {
      const m = memoryOf(pid);
      total.rssKb += m.rssKb;
      total.pssKb += m.pssKb;
      total.ussKb += m.ussKb;
      total.processes.push(m);
    } catch {
      // exited
    }
  }
  return total;
}

const mb = (kb) => kb / 1024;

/** A child whose stdout is JSON lines, kept as `events`, with waits on them. */
class JsonChild {
  constructor(command, args, { env, name }) {
    this.name = name;
    this.events = [];
    this.waiters = new Set();
    this.spawnedAt = Date.now();
    this.child = spawn(command, args, {
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = once(this.child, 'exit');
    leftovers.groups.add(this.child.pid);
    this.child.once('exit', () => leftovers.groups.delete(this.child.pid));
    this.stderr = '';
    let buffer = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      const at = Date.now();
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        try {
          const event = JSON.parse(line);
          event.seenMs ??= at;
          this.events.push(event);
        } catch {
          continue;
        }
      }
      for (const wake of this.waiters) wake();
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.child.once('exit', () => {
      for (const wake of this.waiters) wake();
    });
  }

  get pid() {
    return this.child.pid;
  }

  mark() {
    return this.events.length;
  }

  send(line) {
    this.child.stdin.write(`${line}\n`);
  }

  /** The first event at index >= `since` matching `predicate`. */
  waitFor(predicate, { since = 0, timeout = 60000, what = 'event' } = {}) {
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
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done();
          reject(new Error(`${this.name} exited while waiting for ${what}: ${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${what} within ${timeout} ms; stderr: ${this.stderr.slice(-800)}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Ends the process group: `quit` line first if given, then SIGTERM, then SIGKILL. */
  async stop(quit) {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      if (quit) this.send(quit);
      const timeout = sleep(quit ? 5000 : 0).then(() => 'timeout');
      if ((await Promise.race([this.exited, timeout])) === 'timeout') {
        try {
          process.kill(-this.child.pid, 'SIGTERM');
        } catch {
          // gone
        }
        const kill = sleep(5000).then(() => 'timeout');
        if ((await Promise.race([this.exited, kill])) === 'timeout') {
          try {
            process.kill(-this.child.pid, 'SIGKILL');
          } catch {
            // gone
          }
          await this.exited;
        }
      }
    }
  }
}

/** Temporary directories and process groups still to clean up if the run is interrupted. */
const leftovers = { dirs: new Set(), groups: new Set() };
process.on('exit', () => {
  for (const pid of leftovers.groups) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
  for (const dir of leftovers.dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `charla-bench-${prefix}-`));
  leftovers.dirs.add(dir);
  return dir;
}

/** A charla-bench-server: Prosody with alice and `contacts` contacts; `dir` holds sandbox.json. */
class Server {
  static async start(contacts) {
    const dir = tempDir(`server${contacts}`);
    const proc = new JsonChild(BIN.server, ['--dir', dir, '--contacts', String(contacts)], { name: `server(${contacts})` });
    const ready = await proc.waitFor((e) => e.event === 'ready', { timeout: 120000, what: 'ready' });
    const server = new Server(proc, dir, ready);
    proc.send('watch');
    await proc.waitFor((e) => e.event === 'watching', { what: 'watching' });
    if (!Server.announced?.has(contacts)) {
      log(`server with ${contacts} contacts ready (accounts and rosters written, Prosody up, in ${ready.setup_ms} ms)`);
      (Server.announced ??= new Set()).add(contacts);
    }
    return server;
  }

  constructor(proc, dir, ready) {
    Object.assign(this, { proc, dir, port: ready.port, caFile: ready.ca_file, contacts: ready.contacts });
  }

  /** Resolves with the Unix ms at which bob saw alice become available, after index `since`. */
  async online(since, timeout = 60000) {
    const e = await this.proc.waitFor((ev) => ev.event === 'presence' && ev.type === 'available', { since, timeout, what: "alice's presence" });
    return e.at_ms;
  }

  async offline(since, timeout = 20000) {
    await this.proc.waitFor((ev) => ev.event === 'presence' && ev.type === 'unavailable', { since, timeout, what: "alice's unavailable presence" }).catch(() => {});
  }

  /** Floods alice with FLOOD messages tagged `tag`; resolves with flood_sent and flood_done. */
  async flood(tag, { raw = false } = {}) {
    const since = this.proc.mark();
    this.proc.send(`${raw ? 'raw-flood' : 'flood'} ${FLOOD} ${tag}`);
    const sent = await this.proc.waitFor((e) => e.event === 'flood_sent' && e.tag === tag, { since, what: 'flood_sent' });
    const done = await this.proc.waitFor((e) => e.event === 'flood_done' && e.tag === tag, { since, timeout: 320000, what: 'flood_done' });
    return { sent, done };
  }

  /** Creates room `name` with `occupants` occupants (erin included) and `lines` archived lines. */
  async room(name, occupants, lines) {
    const since = this.proc.mark();
    this.proc.send(`room-setup ${name} ${occupants} ${lines}`);
    const ready = await this.proc.waitFor((e) => e.event === 'room_ready' || e.event === 'error', { since, timeout: 600000, what: 'room_ready' });
    if (ready.event === 'error') throw new Error(`room setup: ${ready.error}`);
    log(`room ${ready.room}: ${occupants} occupants, ${lines} archived lines (archived in ${ready.archive_ms} ms, ready in ${ready.ms} ms; setup, not measured)`);
    return ready.room;
  }

  async stop() {
    await this.proc.stop('quit');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `fn(server)` with a fresh server for `contacts` contacts, stopped afterwards. */
async function withServer(contacts, fn) {
  const server = await Server.start(contacts);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The headless core

function startCli(server, db) {
  return new JsonChild(BIN.cli, [
    '--jid', USER, '--password', 'alice', '--host', '127.0.0.1', '--port', String(server.port),
    '--ca', server.caFile, '--db', db,
  ], { name: 'charla-cli' });
}

/** The server's share: a raw login's initial presence until bob sees it, no Charla involved. */
async function benchServerPresence(server, { caps = false } = {}) {
  const n = server.contacts;
  for (let run = 0; run < options.runs; run++) {
    const since = server.proc.mark();
    server.proc.send(caps ? 'raw-presence caps' : 'raw-presence');
    const sent = await server.proc.waitFor((e) => e.event === 'raw_presence_sent', { since, what: 'raw_presence_sent' });
    const online = await server.online(since);
    const what = caps ? "initial presence with Charla's caps" : 'initial presence';
    record(`server: ${what} to bob's client, ${n} contacts`, 'ms', online - sent.at_ms);
    await server.offline(since);
  }
}

async function benchCli(server) {
  const n = server.contacts;
  const dir = tempDir('cli');
  try {
    // Run 0 creates the database (first login: whole roster); the measured runs relaunch it.
    for (let run = 0; run <= options.runs; run++) {
      const since = server.proc.mark();
      const cli = startCli(server, path.join(dir, 'cli.sqlite3'));
      try {
        const started = cli.spawnedAt;
        const online = await server.online(since);
        if (run === 0) {
          log(`cli ${n} contacts: first login ${online - started} ms (not counted)`);
          await sleep(2000);
          continue;
        }
        record(`cli: launch to online, ${n} contacts`, 'ms', online - started);
        // When the core itself reported being online (stdout), to split client from server time.
        const own = cli.events.find((e) => e.type === 'connection' && e.state?.state === 'online');
        if (own) record(`cli: launch to the core's own online event, ${n} contacts`, 'ms', own.seenMs - started);
        await sleep(IDLE_MS);
        const m = treeMemory([cli.pid, ...descendants(cli.pid)]);
        record(`cli: idle PSS, ${n} contacts`, 'MB', mb(m.pssKb));
        record(`cli: idle RSS, ${n} contacts`, 'MB', mb(m.rssKb));
        log(`cli ${n} contacts run ${run}: online after ${online - started} ms (its own online event after ${own ? own.seenMs - started : '?'} ms), PSS ${mb(m.pssKb).toFixed(1)} MB`);
      } finally {
        const off = server.proc.mark();
        await cli.stop('/quit');
        await server.offline(off);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The server's share: the same flood to a raw client that receipts each message at once. */
async function benchServerFlood() {
  for (let run = 0; run < options.runs; run++) {
    await withServer(50, async (server) => {
      const tag = `raw${run}-${Date.now()}`;
      const { sent, done } = await server.flood(tag, { raw: true });
      record('server: flood 2,000 to a raw client, until all receipted', 'ms', done.last_receipt_ms - sent.start_ms);
      log(`server flood run ${run}: ${done.receipts} receipts, last after ${done.last_receipt_ms - sent.start_ms} ms`);
    });
  }
}

async function benchCliFlood() {
  for (let run = 0; run < options.runs; run++) {
    await withServer(50, (server) => cliFloodRun(server, run));
  }
}

async function cliFloodRun(server, run) {
  const dir = tempDir('cli-flood');
  const since = server.proc.mark();
  const cli = startCli(server, path.join(dir, 'cli.sqlite3'));
  try {
    await server.online(since);
    await sleep(2000);
    const tag = `cli${run}-${Date.now()}`;
    const cpu0 = cpuSeconds([cli.pid]);
    const mark = cli.mark();
    const flooding = server.flood(tag);
    let printed = 0;
    const shown = await cli.waitFor((e) => {
      if (e.type === 'message_added' && e.message?.origin_id?.startsWith(`${tag}-`)) printed++;
      return printed === FLOOD;
    }, { since: mark, timeout: 320000, what: 'every flood message printed' });
    const { sent, done } = await flooding;
    const cpu = cpuSeconds([cli.pid]) - cpu0;
    const end = Math.max(done.last_receipt_ms ?? Infinity, shown.seenMs);
    record('cli: flood 2,000, until all receipted + printed', 'ms', end - sent.start_ms);
    record('cli: flood 2,000, CPU seconds', 's', cpu);
    log(`cli flood run ${run}: ${done.receipts} receipts, last after ${done.last_receipt_ms - sent.start_ms} ms, printed after ${shown.seenMs - sent.start_ms} ms, ${cpu.toFixed(2)} CPU-s`);
  } finally {
    const off = server.proc.mark();
    await cli.stop('/quit');
    await server.offline(off);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Group chats (issue 16), with the headless core

/** Starts charla-cli on a fresh or kept `db` and waits until bob sees alice online. */
async function onlineCli(server, db) {
  const since = server.proc.mark();
  const cli = startCli(server, db);
  try {
    await server.online(since);
  } catch (error) {
    await cli.stop('/quit');
    throw error;
  }
  return cli;
}

async function stopCli(server, cli) {
  const off = server.proc.mark();
  await cli.stop('/quit');
  await server.offline(off);
}

/** alice's `room_joined` for `room` at index >= `since`. */
function roomJoined(cli, room, since, timeout = 120000) {
  return cli.waitFor((e) => e.type === 'room_joined' && e.room === room, { since, timeout, what: `room_joined of ${room}` });
}

/** Joining a room of 500 occupants and 10,000 archived lines, each run a new device (fresh database). */
async function benchRoomJoin() {
  await withServer(50, async (server) => {
    const room = await server.room('crowd', ROOM_OCCUPANTS, ROOM_ARCHIVE);
    for (let run = 0; run <= options.runs; run++) {
      const dir = tempDir('room-join');
      const cli = await onlineCli(server, path.join(dir, 'cli.sqlite3'));
      try {
        await sleep(2000);
        const mark = cli.mark();
        const at = Date.now();
        cli.send(`/join ${room} ${NICK}`);
        const joined = await roomJoined(cli, room, mark);
        const ms = joined.seenMs - at;
        const what = `${joined.occupants.length} occupants, ${joined.added} lines caught up`;
        // Joining bookmarked the room with autojoin: leave it (autojoin cleared), or the next
        // run's fresh device would join it at login by itself.
        const left = cli.mark();
        cli.send(`/leave ${room}`);
        await cli.waitFor((e) => e.type === 'room_left' && e.room === room, { since: left, what: 'room_left' });
        if (run === 0) {
          log(`room join: first run ${ms} ms, ${what} (warm-up, not counted)`);
          continue;
        }
        record('cli: join a room of 500 occupants, 10,000 archived lines, to RoomJoined', 'ms', ms);
        log(`room join run ${run}: ${ms} ms, ${what}`);
      } finally {
        await stopCli(server, cli);
        fs.rmSync(dir, { recursive: true, force: true });
      }
      if (run > 0) await rawRoomJoin(server, room);
    }
  });
}

/** The server's share of a join: a raw client enters the room and reads its last 50 lines. */
async function rawRoomJoin(server, room) {
  const since = server.proc.mark();
  server.proc.send(`raw-room-join ${room.split('@')[0]}`);
  const e = await server.proc.waitFor((ev) => ev.event === 'raw_room_joined', { since, timeout: 60000, what: 'raw_room_joined' });
  record('server: a raw client enters the 500-occupant room and reads its last 50 lines', 'ms', e.caught_up_ms - e.start_ms);
  record('server: ... of which entering (500 presences)', 'ms', e.in_ms - e.start_ms);
  log(`raw room join: in after ${e.in_ms - e.start_ms} ms, last 50 lines after ${e.caught_up_ms - e.start_ms} ms`);
}

/** A 2,000-line burst into a joined room (erin and alice in it), its notify setting "all". */
async function benchRoomBurst() {
  await withServer(50, async (server) => {
    const room = await server.room('burst', 1, 0);
    for (let run = 0; run < options.runs; run++) {
      const dir = tempDir('room-burst');
      const cli = await onlineCli(server, path.join(dir, 'cli.sqlite3'));
      try {
        const mark0 = cli.mark();
        cli.send(`/join ${room} ${NICK}`);
        await roomJoined(cli, room, mark0);
        cli.send(`/notify ${room} all`);
        await cli.waitFor((e) => Array.isArray(e.room_notify), { since: mark0, what: 'the notify setting' });
        await sleep(2000);
        const tag = `burst${run}-${Date.now()}`;
        const cpu0 = cpuSeconds([cli.pid]);
        const mark = cli.mark();
        const since = server.proc.mark();
        server.proc.send(`room-flood burst ${ROOM_BURST} ${tag}`);
        let stored = 0;
        const shown = await cli.waitFor((e) => {
          if (e.type === 'room_message_added' && e.message?.origin_id?.startsWith(`${tag}-`)) stored++;
          return stored === ROOM_BURST;
        }, { since: mark, timeout: 320000, what: 'every burst line printed' });
        const cpu = cpuSeconds([cli.pid]) - cpu0;
        const sent = await server.proc.waitFor((e) => e.event === 'room_flood_sent' && e.tag === tag, { since, what: 'room_flood_sent' });
        const done = await server.proc.waitFor((e) => e.event === 'room_flood_done' && e.tag === tag, { since, timeout: 320000, what: 'room_flood_done' });
        // The app's decisions for the burst's batches are printed after each batch's events:
        // a settled wait (a ping answered after what came before it) is not available through
        // the CLI, so give the last batch's decisions a moment.
        await sleep(1000);
        const said = cli.events.slice(mark);
        const notes = said.filter((e) => e.type === 'notify' && e.chat?.peer === room);
        const quiet = said.filter((e) => e.type === 'quiet' && e.chat?.peer === room).reduce((n, e) => n + e.count, 0);
        // The app decides per line (one `notify` event each); the desktop shell shows them
        // through charla_app::Coalescer: at most one per chat on screen, later ones only
        // counted ("Name (N)") while it shows. A burst of seconds, under a notification that
        // stays up longer, is one notification per room notified: derived here, as the CLI has
        // no shell (no D-Bus notification is measured).
        const coalesced = new Set(notes.map((n) => n.chat.peer)).size;
        record('cli: room burst 2,000 lines, until all stored + printed', 'ms', shown.seenMs - sent.start_ms);
        record('cli: room burst 2,000 lines, CPU seconds', 's', cpu);
        record('cli: room burst 2,000 lines, notifications after coalescing', 'count', coalesced);
        record('cli: room burst 2,000 lines, notify decisions (app events)', 'count', notes.length);
        record('server: room burst 2,000 lines, until the last is reflected to its sender', 'ms', done.reflected_ms - sent.start_ms);
        log(`room burst run ${run}: reflected to erin after ${done.reflected_ms - sent.start_ms} ms, stored + printed after ${shown.seenMs - sent.start_ms} ms, ${cpu.toFixed(2)} CPU-s, ${notes.length} notify events (${quiet} quiet) -> ${coalesced} notification(s) coalesced`);
      } finally {
        await stopCli(server, cli);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });
}

/** Launching with 20 bookmarked (autojoin) rooms until all are joined; run 0 is the first launch. */
async function benchRoomsRejoin() {
  await withServer(50, async (server) => {
    const since = server.proc.mark();
    server.proc.send(`rooms-bookmarked ${BOOKMARKED_ROOMS}`);
    const made = await server.proc.waitFor((e) => e.event === 'rooms_bookmarked' || e.event === 'error', { since, timeout: 300000, what: 'rooms_bookmarked' });
    if (made.event === 'error') throw new Error(`bookmarks: ${made.error}`);
    log(`${made.rooms.length} rooms made and bookmarked for alice in ${made.ms} ms (setup, not measured)`);
    const dir = tempDir('rooms-rejoin');
    try {
      for (let run = 0; run <= options.runs; run++) {
        const cli = await onlineCli(server, path.join(dir, 'cli.sqlite3'));
        try {
          const started = cli.spawnedAt;
          const joined = new Map();
          await cli.waitFor((e) => {
            if (e.type === 'room_joined' && made.rooms.includes(e.room) && !joined.has(e.room)) joined.set(e.room, e.seenMs);
            return joined.size === made.rooms.length;
          }, { timeout: 120000, what: `all ${made.rooms.length} rooms joined` });
          const last = Math.max(...joined.values()) - started;
          const own = cli.events.find((e) => e.type === 'connection' && e.state?.state === 'online');
          const online = own ? own.seenMs - started : NaN;
          if (run === 0) {
            log(`rooms rejoin: first launch (rooms from the bookmarks) ${last} ms, online after ${online} ms (not counted)`);
            await sleep(2000);
            continue;
          }
          record('cli: launch to 20 bookmarked rooms joined', 'ms', last);
          record("cli: launch to the core's own online event, 20 bookmarked rooms", 'ms', online);
          log(`rooms rejoin run ${run}: all joined after ${last} ms (online after ${online} ms, first room after ${Math.min(...joined.values()) - started} ms)`);
        } finally {
          await stopCli(server, cli);
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The app

/** Starts the release app on `server` with the profile in `dataDir` (kept on stop). */
async function startApp(server, dataDir, name) {
  const app = await App.start({ sandbox: { dir: server.dir }, dataDir, profile: PROFILE, name });
  await app.session.setTimeouts({ implicit: 0, script: 330000 });
  return app;
}

/** The path of the app's database for a profile directory made by startApp. */
function appDb(dataDir) {
  return path.join(dataDir, 'data', `org.charla.Charla.${PROFILE}`, 'charla.sqlite3');
}

/**
 * Clicks alice's demo-account button as soon as the page shows it, with "Remember password"
 * ticked if `remember` (then the next starts log in by themselves); returns the click's Unix ms.
 */
function clickLogin(app, { remember = false } = {}) {
  return app.executeAsync(`
    const done = arguments[arguments.length - 1];
    const sel = ${JSON.stringify(tid('demo-account', { jid: USER }))};
    const keep = ${JSON.stringify(tid('login-remember-password'))};
    const wanted = ${JSON.stringify(remember)};
    (function look() {
      const button = document.querySelector(sel);
      const remember = document.querySelector(keep);
      if (button && remember) {
        if (remember.checked !== wanted) remember.click();
        const at = Date.now();
        button.click();
        done(at);
      } else requestAnimationFrame(look);
    })();`);
}

/**
 * Filters the buddy list down to the contact (the list is virtualized: only rows in view exist,
 * and a contact's place moves with its presence) and waits for its row.
 */
async function revealContact(app, jid) {
  await app.execute(`
    const input = document.querySelector('[data-testid="contact-filter"]');
    input.value = ${JSON.stringify(jid)};
    input.dispatchEvent(new Event('input', { bubbles: true }));`);
  const row = tid('contact', { jid });
  await app.waitFor(row);
  return row;
}

async function waitMain(app, timeout = 60000) {
  await app.waitFor(tid('own-presence'), { timeout });
}

/** The page's first contentful paint relative to the app process start, in ms. */
async function coldStart(app) {
  const spawned = processStartMs(app.appPid());
  const page = await app.execute(`
    const paint = performance.getEntriesByType('paint');
    const fcp = paint.find((e) => e.name === 'first-contentful-paint') ?? paint[0];
    return { origin: performance.timeOrigin, fcp: fcp ? fcp.startTime : null };`);
  return page.fcp === null ? null : page.origin + page.fcp - spawned;
}

async function benchApp(server) {
  const n = server.contacts;
  const dataDir = tempDir('app');
  try {
    for (let run = 0; run <= options.runs; run++) {
      const since = server.proc.mark();
      const app = await startApp(server, dataDir, `bench-app-${n}-${run}`);
      try {
        const spawned = processStartMs(app.appPid());
        // The first start logs in through the form and keeps the password in the session's
        // keyring; every measured start is a returning user's: it logs in by itself.
        const clicked = run === 0 ? await clickLogin(app, { remember: true }) : null;
        const online = await server.online(since);
        const fcp = await coldStart(app);
        if (run === 0) {
          log(`app ${n} contacts: first login ${Math.round(online - spawned)} ms, click to online ${Math.round(online - clicked)} ms (not counted)`);
          await waitMain(app);
          await sleep(2000);
          continue;
        }
        record(`app: launch to online, ${n} contacts`, 'ms', online - spawned);
        if (n === 50) record('app: cold start to first contentful paint', 'ms', fcp);
        await waitMain(app);
        await sleep(IDLE_MS);
        const m = treeMemory(app.appTree());
        record(`app: idle PSS of the tree, ${n} contacts`, 'MB', mb(m.pssKb));
        record(`app: idle RSS of the tree, ${n} contacts`, 'MB', mb(m.rssKb));
        const parts = m.processes.map((p) => `${p.name} ${mb(p.pssKb).toFixed(0)}`).join(', ');
        log(`app ${n} contacts run ${run}: FCP ${Math.round(fcp)} ms, online ${Math.round(online - spawned)} ms, PSS ${mb(m.pssKb).toFixed(1)} MB (${parts})`);
      } finally {
        const off = server.proc.mark();
        await app.stop({ keepData: true });
        await server.offline(off);
      }
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Waits in the page until `condition` (a JS expression) holds; returns the Unix ms it first did. */
function pageWaitUntil(app, condition) {
  return app.executeAsync(`
    const done = arguments[arguments.length - 1];
    (function check() {
      if (${condition}) done(Date.now()); else setTimeout(check, 5);
    })();`);
}

async function benchAppFlood(open) {
  for (let run = 0; run < options.runs; run++) {
    await withServer(50, (server) => appFloodRun(server, open, run));
  }
}

async function appFloodRun(server, open, run) {
  const label = open ? 'chat open' : 'chat closed';
  const dataDir = tempDir('app-flood');
  const since = server.proc.mark();
  const app = await startApp(server, dataDir, `bench-flood-${open ? 'open' : 'closed'}-${run}`);
  try {
    await clickLogin(app);
    await server.online(since);
    await waitMain(app);
    const row = await revealContact(app, FLOODER);
    if (open) {
      await app.click(row);
      await app.waitFor(tid('composer'));
    }
    await sleep(2000);
    const tag = `app${open ? 'o' : 'c'}${run}-${Date.now()}`;
    const last = `Flood message ${FLOOD - 1} of ${FLOOD}`;
    const condition = open
      ? `[...document.querySelectorAll('[data-testid="message-body"]')].some((b) => b.textContent.startsWith(${JSON.stringify(last)}))`
      : `(document.querySelector(${JSON.stringify(row)})?.querySelector('[data-testid="unread-badge"]')?.title ?? '').replace(/[^0-9]/g, '') === '${FLOOD}'`;
    const pids = app.appTree();
    const cpu0 = cpuSeconds(pids);
    const parts0 = cpuByProcess(pids);
    const shownP = pageWaitUntil(app, condition);
    const { sent, done } = await server.flood(tag);
    const shown = await shownP;
    const cpu = cpuSeconds(pids) - cpu0;
    const parts = cpuParts(parts0, cpuByProcess(pids));
    const end = Math.max(done.last_receipt_ms ?? Infinity, shown);
    record(`app: flood 2,000, ${label}, until receipted + ${open ? 'shown' : 'badge'}`, 'ms', end - sent.start_ms);
    record(`app: flood 2,000, ${label}, CPU seconds (tree)`, 's', cpu);
    log(`app flood (${label}) run ${run}: ${done.receipts} receipts, last after ${done.last_receipt_ms - sent.start_ms} ms, shown after ${shown - sent.start_ms} ms, ${cpu.toFixed(2)} CPU-s (${parts})`);
  } finally {
    const off = server.proc.mark();
    await app.stop();
    await server.offline(off);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function benchOpenChat(server) {
  const dataDir = tempDir('app-open');
  try {
    fs.mkdirSync(path.dirname(appDb(dataDir)), { recursive: true });
    const since = server.proc.mark();
    server.proc.send(`seed ${appDb(dataDir)} ${FLOODER} ${HISTORY}`);
    const seeded = await server.proc.waitFor((e) => e.event === 'seeded' || e.event === 'error', { since, timeout: 300000, what: 'seeded' });
    if (seeded.event === 'error') throw new Error(`seeding: ${seeded.error}`);
    log(`seeded ${HISTORY} messages with ${FLOODER} in ${seeded.ms} ms`);
    const last = `Seeded message ${HISTORY - 1}:`;
    for (let run = 0; run <= options.runs; run++) {
      const on = server.proc.mark();
      const app = await startApp(server, dataDir, `bench-open-${run}`);
      try {
        await clickLogin(app);
        await server.online(on);
        await waitMain(app);
        const row = await revealContact(app, FLOODER);
        await sleep(1000);
        const ms = await app.executeAsync(`
          const done = arguments[arguments.length - 1];
          const row = document.querySelector(${JSON.stringify(row)});
          const t0 = performance.now();
          row.click();
          (function check() {
            const shown = [...document.querySelectorAll('[data-testid="message-body"]')]
              .some((b) => b.textContent.startsWith(${JSON.stringify(last)}));
            if (shown) requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
            else requestAnimationFrame(check);
          })();`);
        if (run === 0) {
          log(`open chat: first run ${Math.round(ms)} ms (not counted)`);
          continue;
        }
        record('app: open a 20,000-message chat, click to first paint', 'ms', ms);
        log(`open chat run ${run}: ${Math.round(ms)} ms`);
      } finally {
        const off = server.proc.mark();
        await app.stop({ keepData: true });
        await server.offline(off);
      }
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function benchSoak(server) {
  const dataDir = tempDir('app-soak');
  const since = server.proc.mark();
  const app = await startApp(server, dataDir, 'bench-soak');
  try {
    await clickLogin(app);
    await server.online(since);
    await waitMain(app);
    await sleep(IDLE_MS);
    const samples = [];
    const sample = (label) => {
      const m = treeMemory(app.appTree());
      samples.push({ label, rss: mb(m.rssKb), pss: mb(m.pssKb) });
      log(`soak ${label}: RSS ${mb(m.rssKb).toFixed(1)} MB, PSS ${mb(m.pssKb).toFixed(1)} MB`);
    };
    sample('start');
    const seconds = Math.round(options.minutes * 60);
    const mark = server.proc.mark();
    server.proc.send(`soak ${seconds}`);
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      await sleep(Math.min(60000, end - Date.now()));
      sample(`${Math.round((seconds * 1000 - (end - Date.now())) / 1000)} s`);
    }
    const done = await server.proc.waitFor((e) => e.event === 'soak_done', { since: mark, timeout: 60000, what: 'soak_done' });
    await sleep(5000);
    sample('end');
    const first = samples[0];
    const lastSample = samples[samples.length - 1];
    const peak = Math.max(...samples.map((s) => s.pss));
    const note = `${options.minutes} min, ${done.messages} messages, ${done.presences} presence changes`;
    record(`soak (${note}): tree RSS at start`, 'MB', first.rss);
    record(`soak (${note}): tree RSS at end`, 'MB', lastSample.rss);
    record(`soak (${note}): tree PSS at start`, 'MB', first.pss);
    record(`soak (${note}): tree PSS at end`, 'MB', lastSample.pss);
    record(`soak (${note}): tree PSS peak`, 'MB', peak);
  } finally {
    await app.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

function runCore() {
  log('core benchmarks (cargo bench -p charla-core --bench core)');
  const out = spawnSync('cargo', ['bench', '--locked', '-q', '-p', 'charla-core', '--bench', 'core', '--', '--runs', String(options.runs)], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (out.status !== 0) throw new Error(`core benchmarks failed (${out.status})`);
  for (const line of out.stdout.split('\n')) {
    if (!line.startsWith('BENCH ')) continue;
    const r = JSON.parse(line.slice(6));
    if (r.runs.length === 0) record(r.name, r.unit, null, r.note);
    for (const v of r.runs) record(r.name, r.unit, v);
  }
}

// The app is needed only by its parts (`--only cli,rooms` runs without it).
const needsApp = ['app', 'flood-closed', 'flood-open', 'open', 'soak'].some(wanted);
for (const [name, file] of Object.entries(BIN)) {
  if (name === 'app' && !needsApp) continue;
  if (!fs.existsSync(file)) throw new Error(`${file} (${name}) is missing: run \`make bench\`, which builds it`);
}
// The harness starts this binary for App.start (the e2e tests use the debug build).
HARNESS_BIN.app = BIN.app;

let failed = false;
const step = async (part, fn) => {
  if (!wanted(part)) return;
  try {
    await fn();
  } catch (error) {
    failed = true;
    log(`${part} failed: ${error.stack ?? error.message}`);
  }
};

await step('core', async () => runCore());
for (const contacts of [50, 2000]) {
  if (!['cli', 'app'].some(wanted)) break;
  const server = await Server.start(contacts);
  try {
    await step('cli', () => benchServerPresence(server));
    await step('cli', () => benchCli(server));
    // After Charla's logins, so that the server knows what its caps hash stands for.
    await step('cli', () => benchServerPresence(server, { caps: true }));
    await step('app', () => benchApp(server));
  } finally {
    await server.stop();
  }
}
// Every flood run, the chat opening and the soak on a fresh server with 50 contacts: Prosody
// 0.12's file storage (`internal`) gets slower with each flood it archives (after two floods,
// about 4,000 archived messages per user, it reads a whole archive file per message and a third
// flood took a minute instead of two seconds), which would measure the server, not Charla.
await step('flood-server', () => benchServerFlood());
await step('flood-cli', () => benchCliFlood());
await step('flood-closed', () => benchAppFlood(false));
await step('flood-open', () => benchAppFlood(true));
await step('open', () => withServer(50, benchOpenChat));
await step('soak', () => withServer(50, benchSoak));
await step('rooms-join', () => benchRoomJoin());
await step('rooms-burst', () => benchRoomBurst());
await step('rooms-rejoin', () => benchRoomsRejoin());

printTable();
if (options.json) {
  fs.writeFileSync(options.json, JSON.stringify(Object.fromEntries([...results].map(([k, v]) => [k, { ...v, ...spread(v.runs) }])), null, 2));
}
process.exit(failed ? 1 : 0);
