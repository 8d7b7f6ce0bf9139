import { describe, expect, it } from 'vitest';
import { FakeBackend } from '$lib/testing/backend';
import { useFakeTime } from '$lib/testing/time';
import { BlockingStore } from './blocking.svelte';
import { NoticeStore } from './notices.svelte';
import { SessionStore } from './session.svelte';

useFakeTime();

/** A blocking store with accounts 1 (a@x) and 2 (b@x) signed in. */
function blocking(backend = new FakeBackend()) {
  const session = new SessionStore();
  session.signedIn(1, 'a@x');
  session.signedIn(2, 'b@x');
  const notices = new NoticeStore();
  return { store: new BlockingStore(backend, { session, notices }), backend, notices, session };
}

describe('BlockingStore', () => {
  it("reads every signed-in account's list; an offline one keeps its last list, without a notice", async () => {
    const { store, backend, notices } = blocking();
    backend.blockList = new Set(['spam@x']);
    await store.load();
    expect(store.list).toEqual([
      { account: 1, jid: 'spam@x' },
      { account: 2, jid: 'spam@x' },
    ]);
    backend.blocked = (account) =>
      account === 2 ? Promise.reject({ code: 'not_connected', message: '' }) : Promise.resolve([]);
    await store.load();
    expect(store.list).toEqual([{ account: 2, jid: 'spam@x' }]);
    expect(notices.list).toEqual([]);
  });

  it('blocks and unblocks on the server, reading the lists again after unblocking', async () => {
    const { store, backend } = blocking();
    await store.block(1, 'spam@x');
    expect(backend.called('block')).toEqual([[1, 'spam@x', true]]);
    expect(store.list).toEqual([]);
    await store.load();
    await store.unblock(1, 'spam@x');
    expect(backend.called('block').at(-1)).toEqual([1, 'spam@x', false]);
    expect(store.list).toEqual([]);
  });

  it('reports a failed block as a notice', async () => {
    const { store, backend, notices } = blocking();
    backend.block = () => Promise.reject({ code: 'not_connected', message: 'offline' });
    await store.block(1, 'spam@x');
    expect(notices.list.map((n) => n.key)).toEqual(['error.notConnected']);
  });

  it("forgets an account's list when it signs out", async () => {
    const { store, backend } = blocking();
    backend.blockList = new Set(['spam@x']);
    await store.load();
    store.drop(1);
    expect(store.list).toEqual([{ account: 2, jid: 'spam@x' }]);
  });
});
