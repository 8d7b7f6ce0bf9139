/** Message keys for values that come from the backend. The record types keep them exhaustive. */
import type { MessageState, Show } from './contract';
import type { MessageKey } from './i18n';

export const PRESENCE_LABELS: Readonly<Record<Show, MessageKey>> = {
  chat: 'presence.chat',
  available: 'presence.available',
  away: 'presence.away',
  xa: 'presence.xa',
  dnd: 'presence.dnd',
  offline: 'presence.offline',
};

/** What the send-state icon says; incoming messages have none. */
export const STATE_LABELS: Readonly<Record<Exclude<MessageState, 'received'>, MessageKey>> = {
  pending: 'state.pending',
  sent: 'state.sent',
  delivered: 'state.delivered',
  displayed: 'state.displayed',
  failed: 'state.failed',
};
