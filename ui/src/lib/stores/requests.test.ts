import { describe, expect, it } from 'vitest';
import type { MessageRequest } from '$lib/contract';
import { contact, message } from '$lib/testing/fixtures';
import { FakeBackend } from '$lib/testing/backend';
import { flush, useFakeTime } from '$lib/testing/time';
import { AppStore } from './app.svelte';

useFakeTime();

function request(peer: string, count: number, id: number, account = 1): MessageRequest {
  return { account_id: account, peer, count, last: message(id, { peer, account_id: account, body: `from ${peer}` }) };
}

async function loggedIn(requests: MessageRequest[] = []) {
  const backend = new FakeBackend();
  backend.requests.set(1, requests);
  const app = new AppStore(backend);
  await app.start();
  await app.signIn.login({ jid: 'me@example.org/x', password: 'p', remember: false, host: null, port: null });
  return { app, backend };
}

describe('message requests', () => {
  it('are loaded at login, newest first, apart from unread counts', async () => {
    const { app } = await loggedIn([request('eve@x', 20, 7), request('mallory@x', 1, 9)]);
    expect(app.requests.list.map((r) => r.peer)).toEqual(['mallory@x', 'eve@x']);
    expect(app.requests.total).toBe(2);
    expect(app.requests.has(1, 'eve@x')).toBe(true);
    expect(app.unread.total).toBe(0);
    expect(app.unread.title).toBe('Charla');
  });

  it('are read again when the shell says a stranger wrote', async () => {
    const { app, backend } = await loggedIn();
    expect(app.requests.total).toBe(0);
    backend.requests.set(1, [request('eve@x', 3, 4)]);
    backend.emitShell({ type: 'requests_changed', account: 1 });
    await flush();
    expect(app.requests.list.map((r) => [r.peer, r.count])).toEqual([['eve@x', 3]]);
  });

  it('are found by address for the quick switcher', async () => {
    const { app } = await loggedIn([request('eve@x', 2, 7), request('mallory@y', 1, 9)]);
    expect(app.requests.search('EVE').map((r) => r.peer)).toEqual(['eve@x']);
    expect(app.requests.search('').length).toBe(2);
  });

  it('stop being requests when answered or when the stranger becomes a contact', async () => {
    const { app, backend } = await loggedIn([request('eve@x', 2, 7), request('mallory@x', 1, 9)]);
    const chat = app.chats.open(1, 'eve@x')!;
    await flush();
    expect(await app.chats.send(chat, 'who are you?')).toBe(true);
    expect(app.requests.has(1, 'eve@x')).toBe(false);
    backend.emitCore({ type: 'contact_changed', account: 1, contact: contact('mallory@x') });
    expect(app.requests.total).toBe(0);
  });

  it('Accept offers the add-contact dialog filled in with the address', async () => {
    const { app } = await loggedIn([request('eve@x', 2, 7)]);
    app.requests.accept(1, 'eve@x');
    expect(app.links.offer).toEqual({ account: 1, jid: 'eve@x', name: '', group: '' });
  });

  it('Delete deletes the stored conversation and closes its chat', async () => {
    const { app, backend } = await loggedIn([request('eve@x', 2, 7)]);
    app.chats.open(1, 'eve@x');
    await flush();
    await app.requests.delete(1, 'eve@x');
    expect(backend.called('deleteConversation')).toEqual([[1, 'eve@x']]);
    expect(app.requests.total).toBe(0);
    expect(app.chats.find(1, 'eve@x')).toBeUndefined();
  });

  it('Block blocks (reporting only where the server takes reports) and deletes the request', async () => {
    const { app, backend } = await loggedIn([request('eve@x', 2, 7), request('spam@x', 20, 8)]);
    expect(app.requests.canReport.get(1)).toBe(false);
    // Not offered: a report asked for anyway is a plain block.
    await app.requests.block(1, 'eve@x', true);
    expect(backend.called('block')).toEqual([[1, 'eve@x', true]]);
    expect(backend.called('blockAndReport')).toEqual([]);
    backend.reporting = true;
    await app.requests.load(1);
    expect(app.requests.canReport.get(1)).toBe(true);
    await app.requests.block(1, 'spam@x', true);
    expect(backend.called('blockAndReport')).toEqual([[1, 'spam@x']]);
    expect(backend.called('deleteConversation')).toEqual([
      [1, 'eve@x'],
      [1, 'spam@x'],
    ]);
    expect(app.requests.total).toBe(0);
  });

  it('stay requests when blocking or deleting fails, with a notice', async () => {
    const { app, backend } = await loggedIn([request('eve@x', 2, 7)]);
    backend.block = () => Promise.reject({ code: 'not_connected', message: '' });
    await app.requests.block(1, 'eve@x', false);
    expect(backend.called('deleteConversation')).toEqual([]);
    backend.deleteConversation = () => Promise.reject({ code: 'store', message: 'io' });
    await app.requests.delete(1, 'eve@x');
    expect(app.requests.has(1, 'eve@x')).toBe(true);
    expect(app.notices.list.map((n) => n.key)).toEqual(['error.notConnected', 'error.store']);
  });

  it('are forgotten at logout', async () => {
    const { app } = await loggedIn([request('eve@x', 2, 7)]);
    await app.signIn.logout();
    expect(app.requests.total).toBe(0);
  });
});

describe('grouped subscription requests', () => {
  it('Accept all and Deny all answer every request', async () => {
    const { app, backend } = await loggedIn();
    for (let i = 0; i < 51; i++) backend.emitCore({ type: 'subscription_request', account: 1, jid: `p${i}@x` });
    expect(app.roster.requests.size).toBe(51);
    await app.contacts.answerAllRequests(false);
    expect(backend.called('answerSubscription').length).toBe(51);
    expect(backend.called('answerSubscription').every((args) => args[2] === false)).toBe(true);
    expect(app.roster.requests.size).toBe(0);
    backend.emitCore({ type: 'subscription_request', account: 1, jid: 'a@x' });
    await app.contacts.answerAllRequests(true);
    expect(backend.called('answerSubscription').at(-1)).toEqual([1, 'a@x', true]);
  });
});
