/** Builders for test data. */
import type { Message, Rich, RosterEntry } from '$lib/contract';

export const T0 = Date.UTC(2025, 2, 14, 9, 30); // Friday 14 March 2025, 09:30 UTC

/** A message's `rich` when nothing was done to it (`over` changes any field). */
export function plain(over: Partial<Rich> = {}): Rich {
  // Fields the binding may gain (`unstyled`) start false; the cast keeps this valid either way.
  const base = { edited: false, retracted: false, moderated: false, hidden: false, reactions: [], reply: null, unstyled: false };
  return { ...base, ...over } as Rich;
}

export function message(id: number, overrides: Partial<Message> = {}): Message {
  return {
    id,
    conversation_id: 1,
    account_id: 1,
    peer: 'bob@example.org',
    direction: 'in',
    sender: 'bob@example.org/phone',
    body: `message ${id}`,
    server_time: T0 + id * 60_000,
    local_time: T0 + id * 60_000,
    origin_id: null,
    stanza_id: null,
    state: 'received',
    error: null,
    rich: plain(),
    ...overrides,
  };
}

export function contact(jid: string, name: string | null = null, groups: string[] = []): RosterEntry {
  return { jid, name, subscription: 'both', ask_pending: false, groups };
}
