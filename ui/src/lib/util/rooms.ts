/**
 * Group chats' pure logic: reading a room address or `xmpp:…?join` link, merging a room's lines,
 * folding join/leave storms into one system line, grouping occupants and completing nicks.
 */
import type { Occupant, RoomMessage } from '$lib/contract';

/**
 * The room's bare JID from what the user typed: `room@service`, or an `xmpp:room@service?join`
 * link (RFC 5122, XEP-0045 §15.6.1; its parts percent-decoded). `null` if it is neither.
 */
export function parseRoomAddress(text: string): string | null {
  let address = text.trim();
  if (address.toLowerCase().startsWith('xmpp:')) {
    address = address.slice(5).replace(/^\/\/[^/]*\//, '');
    const query = address.indexOf('?');
    if (query >= 0) {
      const action = address.slice(query + 1).split(';')[0];
      if (action !== 'join') return null;
      address = address.slice(0, query);
    }
    try {
      address = decodeURIComponent(address);
    } catch {
      return null;
    }
  }
  const at = address.indexOf('@');
  if (at <= 0 || at === address.length - 1 || address.indexOf('@', at + 1) >= 0) return null;
  if (/[\s/"&'<>:]/.test(address)) return null;
  return address.toLowerCase();
}

/** The nick to offer for an account: the local part of its address. */
export function defaultNick(jid: string): string {
  return jid.split('@')[0] ?? jid;
}

/** Merges `incoming` lines into `current` (sorted by id): a new list sorted by id, each id once. */
export function mergeLines(current: readonly RoomMessage[], incoming: readonly RoomMessage[]): readonly RoomMessage[] {
  if (incoming.length === 0) return current;
  const byId = new Map<number, RoomMessage>();
  for (const line of current) byId.set(line.id, line);
  for (const line of incoming) {
    const had = byId.get(line.id);
    // A line never moves back from `sent` (a late copy of the pending row is stale).
    if (had && had.state === 'sent' && line.state === 'pending') continue;
    byId.set(line.id, line);
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** What a system line says (rendered by the view, as text). */
export type SystemKind =
  | { kind: 'joined'; nicks: string[] }
  | { kind: 'left'; nicks: string[] }
  | { kind: 'kicked'; nick: string; reason: string | null }
  | { kind: 'banned'; nick: string; reason: string | null }
  | { kind: 'renamed'; from: string; to: string }
  | { kind: 'subject'; subject: string | null }
  | { kind: 'self_kicked'; reason: string | null }
  | { kind: 'self_banned'; reason: string | null }
  | { kind: 'self_removed' };

/** A system line, placed after the room line `after` (0: before every line). */
export interface SystemLine {
  id: number;
  after: number;
  what: SystemKind;
}

/**
 * Adds `what` after the line `after`: a join (or leave) right after another one, with no line
 * between, folds into it ("3 people joined"), so a storm of them is one line.
 */
export function addSystemLine(
  lines: readonly SystemLine[],
  after: number,
  what: SystemKind,
  id: number,
): readonly SystemLine[] {
  const last = lines.at(-1);
  if (last && last.after === after && (what.kind === 'joined' || what.kind === 'left') && last.what.kind === what.kind) {
    const nicks = (last.what as { nicks: string[] }).nicks;
    const added = what.nicks.filter((n) => !nicks.includes(n));
    return [...lines.slice(0, -1), { ...last, what: { kind: what.kind, nicks: [...nicks, ...added] } }];
  }
  return [...lines, { id, after, what }];
}

/** One row of a room's timeline. */
export type TimelineRow = { kind: 'line'; key: string; line: RoomMessage } | { kind: 'system'; key: string; system: SystemLine };

/** The room's lines with its system lines in place (each after the line it followed). */
export function timeline(lines: readonly RoomMessage[], system: readonly SystemLine[]): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let s = 0;
  const push = (upTo: number) => {
    while (s < system.length && system[s]!.after <= upTo) {
      rows.push({ kind: 'system', key: `s${system[s]!.id}`, system: system[s]! });
      s += 1;
    }
  };
  for (const line of lines) {
    push(line.id - 1);
    rows.push({ kind: 'line', key: `l${line.id}`, line });
  }
  push(Number.POSITIVE_INFINITY);
  return rows;
}

/** The member panel's groups. */
export interface OccupantGroups {
  /** Owners and admins. */
  admins: Occupant[];
  /** Members. */
  members: Occupant[];
  /** Everyone else (no affiliation). */
  others: Occupant[];
}

/** Groups occupants as the member panel shows them, each group by displayed nick. */
export function groupOccupants(occupants: Iterable<Occupant>): OccupantGroups {
  const groups: OccupantGroups = { admins: [], members: [], others: [] };
  for (const o of occupants) {
    if (o.affiliation === 'owner' || o.affiliation === 'admin') groups.admins.push(o);
    else if (o.affiliation === 'member') groups.members.push(o);
    else groups.others.push(o);
  }
  const byName = (a: Occupant, b: Occupant) => a.display.localeCompare(b.display);
  groups.admins.sort(byName);
  groups.members.sort(byName);
  groups.others.sort(byName);
  return groups;
}

/** The word being typed before `cursor` when it starts with `@`: its start and text (without `@`). */
export function mentionAt(text: string, cursor: number): { start: number; prefix: string } | null {
  const before = text.slice(0, cursor);
  const match = /(^|\s)@([^\s@]*)$/.exec(before);
  if (!match) return null;
  return { start: cursor - match[2]!.length - 1, prefix: match[2]! };
}

/** The nicks (as shown) that complete `prefix`, case-insensitively, at most `limit`. */
export function nickCandidates(prefix: string, nicks: Iterable<string>, limit = 6): string[] {
  const lower = prefix.toLowerCase();
  return [...nicks]
    .filter((n) => n.toLowerCase().startsWith(lower))
    .sort((a, b) => a.localeCompare(b))
    .slice(0, limit);
}

/**
 * Completes the `@word` before `cursor` with `nick`: at the start of the message as `nick: `,
 * elsewhere as `nick `. Answers the new text and cursor.
 */
export function completeNick(text: string, cursor: number, nick: string): { text: string; cursor: number } | null {
  const at = mentionAt(text, cursor);
  if (!at) return null;
  const inserted = at.start === 0 ? `${nick}: ` : `${nick} `;
  const next = text.slice(0, at.start) + inserted + text.slice(cursor);
  return { text: next, cursor: at.start + inserted.length };
}

/** What one occupant may do to another in the member list (the room has the last word). */
export type MemberAction = 'voice' | 'mute' | 'kick' | 'member' | 'unmember' | 'admin' | 'owner' | 'ban';

const RANK: Readonly<Record<Occupant['affiliation'], number>> = { outcast: 0, none: 1, member: 2, admin: 3, owner: 4 };

/**
 * The actions `own` (our occupant; `undefined` before we are in) is offered on `target`, as
 * XEP-0045 §8–§10 grants them: a moderator gives and takes voice and kicks those below admin; an
 * admin or owner changes the membership of, or bans, those ranked below them whose address the
 * room shows; only an owner makes admins and owners. Nothing on ourselves.
 */
export function memberActions(own: Occupant | undefined, target: Occupant): MemberAction[] {
  if (!own || own.nick === target.nick) return [];
  const actions: MemberAction[] = [];
  const moderator = own.role === 'moderator';
  const ownRank = RANK[own.affiliation];
  const theirRank = RANK[target.affiliation];
  if (moderator && target.role !== 'moderator') actions.push(target.role === 'visitor' ? 'voice' : 'mute');
  if (moderator && theirRank < Math.max(ownRank, RANK.admin)) actions.push('kick');
  if (target.real_jid !== null && ownRank >= RANK.admin && theirRank < ownRank) {
    actions.push(target.affiliation === 'member' ? 'unmember' : 'member');
    if (own.affiliation === 'owner' && target.affiliation !== 'admin') actions.push('admin');
    if (own.affiliation === 'owner') actions.push('owner');
    actions.push('ban');
  }
  return actions;
}

/** Whether `text` matches a public room's name or address, ignoring case and accents. */
export function matchesRoom(room: { jid: string; name: string | null }, text: string): boolean {
  const fold = (s: string) => s.normalize('NFKD').replace(/[\u0300-\u036f]/gu, '').toLowerCase();
  const wanted = fold(text.trim());
  return wanted === '' || fold(room.jid).includes(wanted) || fold(room.name ?? '').includes(wanted);
}
