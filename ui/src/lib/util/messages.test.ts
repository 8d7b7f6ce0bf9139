import { describe, expect, it } from 'vitest';
import { message, T0 } from '$lib/testing/fixtures';
import { chatRows, mergeMessages, messageTime } from './messages';

const ids = (list: readonly { id: number }[]) => list.map((m) => m.id);

describe('mergeMessages', () => {
  it('turns a newest-first snapshot into an id-ordered list', () => {
    expect(ids(mergeMessages([], [message(5), message(4), message(2)]))).toEqual([2, 4, 5]);
  });

  it('appends updates, replaces known ids, and adds older pages in front', () => {
    let list = mergeMessages([], [message(12), message(11), message(10)]);
    list = mergeMessages(list, [message(13)]);
    list = mergeMessages(list, [message(13, { body: 'edited' })]);
    list = mergeMessages(list, [message(9), message(8), message(7)]);
    expect(ids(list)).toEqual([7, 8, 9, 10, 11, 12, 13]);
    expect(list.at(-1)?.body).toBe('edited');
  });

  it('never holds an id twice (update duplicating a snapshot row, overlapping pages)', () => {
    let list = mergeMessages([], [message(3)]); // update that arrived before the snapshot
    list = mergeMessages(list, [message(4), message(3), message(2)]);
    list = mergeMessages(list, [message(3), message(2), message(1)]);
    expect(ids(list)).toEqual([1, 2, 3, 4]);
  });

  it('does not move a message back to an earlier state', () => {
    const sent = message(1, { direction: 'out', state: 'sent' });
    const staleSnapshot = message(1, { direction: 'out', state: 'pending' });
    expect(mergeMessages([sent], [staleSnapshot])[0]?.state).toBe('sent');
    const delivered = message(1, { direction: 'out', state: 'delivered' });
    expect(mergeMessages([sent], [delivered])[0]?.state).toBe('delivered');
    const failed = message(1, { direction: 'out', state: 'failed', error: 'x' });
    expect(mergeMessages([sent], [failed])[0]?.state).toBe('failed');
  });

  it('returns the same list when nothing changed', () => {
    const list = mergeMessages([], [message(1), message(2)]);
    expect(mergeMessages(list, [])).toBe(list);
    expect(mergeMessages(list, [list[0]!])).toBe(list);
    // The same state again as a new object: the incoming version wins.
    expect(mergeMessages(list, [{ ...list[0]! }])).not.toBe(list);
  });

  it('orders by id even when ids arrive out of order', () => {
    let list: readonly ReturnType<typeof message>[] = [];
    for (const id of [5, 1, 9, 3, 7, 2, 8, 4, 6]) list = mergeMessages(list, [message(id)]);
    expect(ids(list)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('chatRows', () => {
  const HOUR = 3_600_000;

  it('puts a day separator before the first message of each day', () => {
    const list = [
      message(1, { server_time: T0 }),
      message(2, { server_time: T0 + HOUR }),
      message(3, { server_time: T0 + 24 * HOUR }),
      message(4, { server_time: T0 + 48 * HOUR }),
      message(5, { server_time: T0 + 48 * HOUR + 1 }),
    ];
    const rows = chatRows(list, 'UTC');
    expect(rows.map((r) => (r.kind === 'day' ? 'D' : r.message.id))).toEqual(['D', 1, 2, 'D', 3, 'D', 4, 5]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });

  it('splits days in the given time zone', () => {
    // 23:30 and 00:30 UTC: two days in UTC, one day in New York.
    const late = Date.UTC(2025, 2, 14, 23, 30);
    const list = [message(1, { server_time: late }), message(2, { server_time: late + HOUR })];
    expect(chatRows(list, 'UTC').filter((r) => r.kind === 'day')).toHaveLength(2);
    expect(chatRows(list, 'America/New_York').filter((r) => r.kind === 'day')).toHaveLength(1);
  });

  it('uses the local time when there is no server time', () => {
    expect(messageTime(message(1, { server_time: null, local_time: 42 }))).toBe(42);
    expect(messageTime(message(1, { server_time: 7, local_time: 42 }))).toBe(7);
  });

  it('has no rows for no messages', () => {
    expect(chatRows([])).toEqual([]);
  });
});
