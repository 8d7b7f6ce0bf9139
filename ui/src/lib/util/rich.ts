/**
 * What can be done to a message and what it shows beyond its text (XEP-0308 corrections,
 * XEP-0424/0425 deletions, XEP-0444 reactions, XEP-0461 replies), for chats and rooms alike:
 * pure functions over the `rich` the backend derives.
 */
import type { Direction, MessageState, Reaction, Reply, Rich } from '$lib/contract';

/** A chat message or a room line, as far as these rules read it. */
export interface RichItem {
  id: number;
  direction: Direction;
  body: string;
  state: MessageState;
  rich: Rich;
  /** A room's private message (never replied to, reacted to or moderated through the room). */
  private_with?: string | null;
}

/** The message menu's actions, in the menu's order. */
export type MessageAction = 'reply' | 'react' | 'copyText' | 'edit' | 'versions' | 'retract' | 'hide' | 'moderate';

export const MESSAGE_ACTIONS: readonly MessageAction[] = [
  'reply',
  'react',
  'copyText',
  'edit',
  'versions',
  'retract',
  'hide',
  'moderate',
];

/** Where the message is: a room, and whether we are one of its moderators. */
export interface MessagePlace {
  room: boolean;
  moderator: boolean;
}

/**
 * The actions offered on `item`: a deleted message only "delete for me"; editing and "delete
 * for everyone" only on ours; earlier versions only when edited; moderation only in a room where
 * we moderate, on another's line. A message that never left (failed) can only be hidden or copied.
 */
export function messageActions(item: RichItem, place: MessagePlace): MessageAction[] {
  const { rich } = item;
  if (rich.hidden) return [];
  if (rich.retracted) return ['hide'];
  const own = item.direction === 'out';
  const failed = item.state === 'failed';
  const inRoom = place.room && (item.private_with ?? null) === null;
  const allowed: Record<MessageAction, boolean> = {
    reply: !failed && (!place.room || inRoom),
    react: !failed && (!place.room || inRoom),
    copyText: item.body !== '',
    edit: own && !failed,
    versions: rich.edited,
    retract: own && !failed,
    hide: true,
    moderate: inRoom && place.moderator && !own,
  };
  return MESSAGE_ACTIONS.filter((action) => allowed[action]);
}

/** Our reactions to a message, in order. */
export function ourReactions(reactions: readonly Reaction[]): string[] {
  return reactions.filter((r) => r.ours).map((r) => r.emoji);
}

/**
 * Our whole new set of reactions once `emoji` is toggled: taken away if we had it, else added
 * after the others (XEP-0444 replaces a sender's set as a whole).
 */
export function toggleReaction(reactions: readonly Reaction[], emoji: string): string[] {
  const ours = ourReactions(reactions);
  return ours.includes(emoji) ? ours.filter((e) => e !== emoji) : [...ours, emoji];
}

/** Whether `item` can be edited: ours, sent or on its way, not deleted. */
export function editable(item: RichItem): boolean {
  return (
    item.direction === 'out' &&
    item.state !== 'failed' &&
    !item.rich.retracted &&
    !item.rich.hidden &&
    (item.private_with ?? null) === null
  );
}

/** The message Up in an empty composer edits: our newest one that can be edited. */
export function lastEditable<T extends RichItem>(items: readonly T[]): T | null {
  return items.findLast(editable) ?? null;
}

/** The row a reply points at, if it is among `items` (loaded); null otherwise. */
export function replyTarget<T extends RichItem>(items: readonly T[], reply: Reply): T | null {
  if (reply.target === null) return null;
  return items.find((m) => m.id === reply.target) ?? null;
}

/** At most this much of a quoted text is shown (a reply bar, a quote in a message). */
export const QUOTE_MAX = 160;

/** The start of `text` on one line, for a quote. */
export function quoteOf(text: string, max = QUOTE_MAX): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
