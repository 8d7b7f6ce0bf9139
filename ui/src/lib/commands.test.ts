import { describe, expect, it } from 'vitest';
import { commandClient, type Invoke, type OpenChannel } from './bindings/Commands';

/** A client whose `invoke` records each call and answers `answer`. */
function recording(answer: unknown = null) {
  const sent: [string, Record<string, unknown> | undefined][] = [];
  const handlers: ((update: never) => void)[] = [];
  const invoke: Invoke = (command, args) => {
    sent.push([command, args]);
    return Promise.resolve(answer as never);
  };
  const channel: OpenChannel = (handler) => {
    handlers.push(handler as (update: never) => void);
    return `channel-${handlers.length}`;
  };
  return { client: commandClient(invoke, channel), sent, handlers };
}

describe('commandClient (generated from surface.rs)', () => {
  it('sends each method as its command, arguments named as the command takes them', async () => {
    const { client, sent } = recording();
    await client.appInfo();
    await client.removeAccount('alice@example.org', true);
    await client.setProfile(1, 'Alice', null);
    await client.sendChatState(1, 'bob@example.org', 'composing');
    expect(sent).toEqual([
      ['app_info', undefined],
      ['remove_account', { jid: 'alice@example.org', keepHistory: true }],
      ['set_profile', { account: 1, fullName: 'Alice', nickname: null }],
      ['send_chat_state', { account: 1, peer: 'bob@example.org', state: 'composing' }],
    ]);
  });

  it('answers what the command answers', async () => {
    const { client } = recording(['away now']);
    await expect(client.setPresence(1, 'away', 'away now')).resolves.toEqual(['away now']);
  });

  it('streams a chat view over a channel that hands updates to the callback', async () => {
    const { client, sent, handlers } = recording([]);
    const updates: unknown[] = [];
    await client.openChat(1, 'bob@example.org', (update) => updates.push(update));
    expect(sent).toEqual([['open_chat', { account: 1, peer: 'bob@example.org', updates: 'channel-1' }]]);
    handlers[0]?.({ type: 'removed' } as never);
    expect(updates).toEqual([{ type: 'removed' }]);
  });
});
