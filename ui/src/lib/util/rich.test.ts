import { describe, expect, it } from 'vitest';
import type { Message, Reaction } from '$lib/contract';
import { message, plain } from '$lib/testing/fixtures';
import { roomLine } from '$lib/testing/backend';
import { lastEditable, messageActions, quoteOf, replyTarget, toggleReaction, type MessagePlace } from './rich';

const CHAT: MessagePlace = { room: false, moderator: false };
const ROOM: MessagePlace = { room: true, moderator: false };
const MODERATOR: MessagePlace = { room: true, moderator: true };

const ours = (id: number, over: Partial<Message> = {}) => message(id, { direction: 'out', state: 'delivered', ...over });

describe('messageActions', () => {
  it('offers edit and delete for everyone only on our own messages', () => {
    expect(messageActions(ours(1), CHAT)).toEqual(['reply', 'react', 'copyText', 'edit', 'retract', 'hide']);
    expect(messageActions(message(2), CHAT)).toEqual(['reply', 'react', 'copyText', 'hide']);
  });

  it('offers the earlier versions of an edited message', () => {
    expect(messageActions(message(2, { rich: plain({ edited: true }) }), CHAT)).toContain('versions');
    expect(messageActions(message(2), CHAT)).not.toContain('versions');
  });

  it('offers only "delete for me" on a deleted message, and nothing on a hidden one', () => {
    const retracted = { rich: plain({ retracted: true }), body: '' };
    expect(messageActions(ours(1, retracted), CHAT)).toEqual(['hide']);
    expect(messageActions(message(2, retracted), MODERATOR)).toEqual(['hide']);
    expect(messageActions(message(2, { rich: plain({ hidden: true }) }), CHAT)).toEqual([]);
  });

  it('offers a failed message of ours only copy and delete for me', () => {
    expect(messageActions(ours(1, { state: 'failed' }), CHAT)).toEqual(['copyText', 'hide']);
  });

  it('offers moderation in a room only to a moderator, on another\'s line that is not private', () => {
    const theirs = roomLine(1);
    const mine = roomLine(2, { direction: 'out', nick: 'me', state: 'sent' });
    expect(messageActions(theirs, ROOM)).not.toContain('moderate');
    expect(messageActions(theirs, MODERATOR)).toEqual(['reply', 'react', 'copyText', 'hide', 'moderate']);
    expect(messageActions(mine, MODERATOR)).toEqual(['reply', 'react', 'copyText', 'edit', 'retract', 'hide']);
    const whisper = roomLine(3, { private_with: 'bob' });
    expect(messageActions(whisper, MODERATOR)).toEqual(['copyText', 'hide']);
  });
});

describe('toggleReaction', () => {
  const reactions: Reaction[] = [
    { emoji: '👍', by: ['bob@example.org', 'me@example.org'], ours: true },
    { emoji: '😂', by: ['bob@example.org'], ours: false },
    { emoji: '🎉', by: ['me@example.org'], ours: true },
  ];

  it('adds an emoji we have not used to our whole set', () => {
    expect(toggleReaction(reactions, '😂')).toEqual(['👍', '🎉', '😂']);
    expect(toggleReaction([], '❤️')).toEqual(['❤️']);
  });

  it('takes back one we had, keeping the others', () => {
    expect(toggleReaction(reactions, '👍')).toEqual(['🎉']);
    expect(toggleReaction([{ emoji: '👍', by: ['me'], ours: true }], '👍')).toEqual([]);
  });
});

describe('lastEditable', () => {
  it('is our newest message that can be edited', () => {
    const list = [ours(1), message(2), ours(3), message(4)];
    expect(lastEditable(list)?.id).toBe(3);
  });

  it('skips deleted, hidden and failed messages, and has none without ours', () => {
    const list = [
      ours(1),
      ours(2, { rich: plain({ retracted: true }), body: '' }),
      ours(3, { rich: plain({ hidden: true }) }),
      ours(4, { state: 'failed' }),
      message(5),
    ];
    expect(lastEditable(list)?.id).toBe(1);
    expect(lastEditable([message(1), message(2)])).toBeNull();
    expect(lastEditable([])).toBeNull();
  });

  it('takes our room lines, not private ones', () => {
    const lines = [roomLine(1, { direction: 'out' }), roomLine(2, { direction: 'out', private_with: 'bob' })];
    expect(lastEditable(lines)?.id).toBe(1);
  });
});

describe('replyTarget', () => {
  const list = [message(1), message(2), message(3)];
  const reply = (target: number | null) => ({ id: 'x', to: null, target, quote: target === null ? null : 'q', author: null });

  it('is the loaded row the reply points at', () => {
    expect(replyTarget(list, reply(2))?.id).toBe(2);
  });

  it('is null when the original is not loaded or not stored here', () => {
    expect(replyTarget(list, reply(9))).toBeNull();
    expect(replyTarget(list, reply(null))).toBeNull();
  });
});

describe('quoteOf', () => {
  it('is the text on one line, cut with an ellipsis', () => {
    expect(quoteOf('a\n  b')).toBe('a b');
    expect(quoteOf('x'.repeat(10), 5)).toBe('xxxx…');
  });
});
