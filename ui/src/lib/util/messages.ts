/**
 * A chat's message list: merging the first page, live updates and older pages into one list
 * ordered by id, without duplicates; and the rows the list view shows (day separators).
 */
import type { Message, MessageState } from '$lib/contract';
import { dayKey } from './datetime';

/** How far a message got; a merge never moves a message back (a late snapshot row is stale). */
const STATE_RANK: Readonly<Record<MessageState, number>> = {
  received: 0,
  pending: 0,
  sent: 1,
  failed: 2,
  delivered: 3,
  displayed: 4,
};

/**
 * Which of two versions of one message to keep: the further one, or else the newer one. A
 * message the user sent again (`retried`) moves on from `failed` to whatever comes next.
 */
function newest(current: Message, incoming: Message, retried: ReadonlySet<number>): Message {
  if (current.state === 'failed' && retried.has(current.id)) return incoming;
  return STATE_RANK[incoming.state] >= STATE_RANK[current.state] ? incoming : current;
}

/**
 * Merges `incoming` (any order; a snapshot, an update, an older page) into `current` (sorted by
 * id) and returns a new list sorted by id with each id once. Returns `current` itself when
 * nothing changed, so callers can skip work.
 */
export function mergeMessages(
  current: readonly Message[],
  incoming: readonly Message[],
  retried: ReadonlySet<number> = new Set(),
): readonly Message[] {
  if (incoming.length === 0) return current;
  if (strictlyAfter(current.at(-1)?.id ?? Number.NEGATIVE_INFINITY, incoming)) return [...current, ...incoming];
  const byId = new Map<number, Message>();
  for (const message of current) byId.set(message.id, message);
  let changed = false;
  let appendOnly = true;
  const lastId = current.at(-1)?.id ?? Number.NEGATIVE_INFINITY;
  for (const message of incoming) {
    const existing = byId.get(message.id);
    const kept = existing ? newest(existing, message, retried) : message;
    if (kept !== existing) {
      byId.set(message.id, kept);
      changed = true;
      if (!existing && message.id < lastId) appendOnly = false;
    }
  }
  if (!changed) return current;
  const merged = [...byId.values()];
  // Map order is insertion order: current (sorted), then the new ones; sort only when needed.
  if (appendOnly) {
    const added = merged.slice(current.length).sort((a, b) => a.id - b.id);
    return [...merged.slice(0, current.length), ...added];
  }
  return merged.sort((a, b) => a.id - b.id);
}

/** Whether `incoming` holds only new messages, in order, all after `lastId` (the usual update). */
function strictlyAfter(lastId: number, incoming: readonly Message[]): boolean {
  let previous = lastId;
  for (const message of incoming) {
    if (message.id <= previous) return false;
    previous = message.id;
  }
  return true;
}

/** When a message was sent: the server's (or delay) timestamp, else when we stored it. */
export function messageTime(message: Message): number {
  return message.server_time ?? message.local_time;
}

export type ChatRow =
  | { kind: 'day'; key: string; time: number }
  | { kind: 'message'; key: string; message: Message };

/** The list's rows: the messages in id order, with a separator before each new calendar day. */
export function chatRows(messages: readonly Message[], timeZone?: string): ChatRow[] {
  const rows: ChatRow[] = [];
  let day: string | null = null;
  for (const message of messages) {
    const time = messageTime(message);
    const key = dayKey(time, timeZone);
    if (key !== day) {
      rows.push({ kind: 'day', key: `day-${message.id}`, time });
      day = key;
    }
    rows.push({ kind: 'message', key: `m-${message.id}`, message });
  }
  return rows;
}
