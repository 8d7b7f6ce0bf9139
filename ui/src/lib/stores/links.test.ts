import { describe, expect, it } from 'vitest';
import type { XmppLink } from '$lib/contract';
import { FakeBackend, appInfo } from '$lib/testing/backend';
import { flush, useFakeTime } from '$lib/testing/time';
import { contact } from '$lib/testing/fixtures';
import { AppStore } from './app.svelte';

useFakeTime();

const request = { jid: 'me@example.org', password: 'p', remember: false, host: null, port: null };

function chatLink(jid: string, body: string | null = null): XmppLink {
  return { jid, action: { type: 'chat', body, subject: null, thread: null } };
}

function rosterLink(jid: string, name: string | null, group: string | null): XmppLink {
  return { jid, action: { type: 'add_contact', name, group } };
}

async function loggedIn(backend = new FakeBackend()) {
  const app = new AppStore(backend);
  await app.start();
  await app.signIn.login(request);
  return { app, backend };
}

describe('xmpp: links', () => {
  it('a link from a second launch opens the chat with the text as an unsent draft', async () => {
    const { app, backend } = await loggedIn();
    backend.kept = chatLink('bob@example.org', 'Hola Bob');
    backend.emitShell({ type: 'link_received' });
    await flush();
    expect(app.chats.active?.peer).toBe('bob@example.org');
    expect(app.chats.active?.account).toBe(1);
    expect(app.chats.active?.draft).toBe('Hola Bob');
    expect(backend.called('sendMessage')).toEqual([]);
    // Taken once: the same event again changes nothing.
    app.chats.active!.draft = '';
    backend.emitShell({ type: 'link_received' });
    await flush();
    expect(app.chats.active?.draft).toBe('');
  });

  it('with several accounts, opens on the account that has the contact', async () => {
    const { app, backend } = await loggedIn();
    backend.loginResult = () => Promise.resolve(2);
    await app.signIn.login({ ...request, jid: 'work@example.org' });
    app.dispatch({ type: 'roster_loaded', account: 2, contacts: [contact('boss@example.org', 'Boss')] });
    app.links.open(chatLink('boss@example.org', 'Hi'));
    expect(app.chats.active?.account).toBe(2);
    // A stranger: the open chat's account, else the first (the dialog lets the user choose).
    app.links.open(rosterLink('new@example.org', null, null));
    expect(app.links.offer?.account).toBe(2);
    app.chats.closeAll();
    app.links.open(rosterLink('new@example.org', null, null));
    expect(app.links.offer?.account).toBe(1);
  });

  it('never overwrites what the user typed', async () => {
    const { app } = await loggedIn();
    const chat = app.chats.open(1, 'bob@example.org')!;
    chat.draft = 'typed';
    app.links.open(chatLink('bob@example.org', 'proposed'));
    expect(chat.draft).toBe('typed\nproposed');
    app.links.open(chatLink('bob@example.org', 'proposed'));
    expect(chat.draft).toBe('typed\nproposed');
  });

  it('?roster opens the add-contact dialog filled in, and adds nobody by itself', async () => {
    const { app, backend } = await loggedIn();
    app.links.open(rosterLink('carol@example.org', 'Carol', 'Friends'));
    expect(app.links.offer).toEqual({ account: 1, jid: 'carol@example.org', name: 'Carol', group: 'Friends' });
    expect(app.chats.tabs).toEqual([]);
    expect(backend.called('addContact')).toEqual([]);
    app.links.closeOffer();
    expect(app.links.offer).toBeNull();
  });

  it('?roster for a contact whose presence we already see opens its chat instead', async () => {
    const backend = new FakeBackend();
    backend.roster = [contact('bob@example.org', 'Bob')];
    const { app } = await loggedIn(backend);
    app.links.open(rosterLink('bob@example.org', 'Robert', null));
    expect(app.links.offer).toBeNull();
    expect(app.chats.active?.peer).toBe('bob@example.org');
  });

  it('a link Charla was started with waits for the login, then opens', async () => {
    const backend = new FakeBackend();
    backend.kept = chatLink('bob@example.org', 'later');
    const app = new AppStore(backend);
    await app.start();
    expect(app.session.phase).toBe('login');
    expect(app.links.pending).toEqual(chatLink('bob@example.org', 'later'));
    expect(app.chats.tabs).toEqual([]);
    await app.signIn.login(request);
    await flush();
    expect(app.links.pending).toBeNull();
    expect(app.chats.active?.peer).toBe('bob@example.org');
    expect(app.chats.active?.draft).toBe('later');
  });

  it('a link arriving at the login screen also waits', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    backend.kept = rosterLink('carol@example.org', null, null);
    backend.emitShell({ type: 'link_received' });
    await flush();
    expect(app.links.offer).toBeNull();
    await app.signIn.login(request);
    expect(app.links.offer).toEqual({ account: 1, jid: 'carol@example.org', name: '', group: '' });
  });

  it('a malformed link is a bad_link notice', async () => {
    const { app, backend } = await loggedIn();
    backend.kept = { code: 'bad_link', message: 'no user part' };
    backend.emitShell({ type: 'link_received' });
    await flush();
    expect(app.notices.list.map((n) => [n.code, n.key])).toEqual([['bad_link', 'error.badLink']]);
    expect(app.chats.tabs).toEqual([]);
  });

  it('an xmpp: link clicked in a message opens in Charla, never in the system', async () => {
    const { app, backend } = await loggedIn();
    backend.links.set('xmpp:bob@example.org?message;body=Hi', chatLink('bob@example.org', 'Hi'));
    await app.links.openLink('xmpp:bob@example.org?message;body=Hi');
    expect(app.chats.active?.draft).toBe('Hi');
    await app.links.openLink('XMPP:nobody');
    expect(app.notices.list.map((n) => n.code)).toEqual(['bad_link']);
    await app.links.openLink('https://example.org');
    expect(backend.called('openLink')).toEqual([['https://example.org']]);
  });

  it('a link clicked in a message opens only if allowed; a failure is a notice', async () => {
    const { app, backend } = await loggedIn();
    await app.links.openLink('javascript:alert(1)');
    await app.links.openLink('file:///etc/passwd');
    expect(backend.called('openLink')).toEqual([]);
    expect(backend.called('parseLink')).toEqual([]);
    backend.openLink = () => Promise.reject({ code: 'refused', message: 'no handler' });
    await app.links.openLink('mailto:bob@example.org');
    expect(app.notices.list.map((n) => n.code)).toEqual(['refused']);
  });

  it('a pop-out window never takes the link', async () => {
    const backend = new FakeBackend();
    backend.info = appInfo({ popped_out: { account: 1, peer: 'bob@example.org' } });
    backend.kept = chatLink('carol@example.org');
    const app = new AppStore(backend);
    await app.start();
    backend.emitShell({ type: 'link_received' });
    await flush();
    expect(backend.called('takeLink')).toEqual([]);
    expect(app.chats.tabs.map((t) => t.peer)).toEqual(['bob@example.org']);
  });
});

describe('xmpp: join links', () => {
  it('a ?join link (clicked, or from the desktop) fills in "Join a group", or shows a listed group', async () => {
    const { app, backend } = await loggedIn();
    const url = 'xmpp:family@conference.example.org?join;password=cake';
    backend.links.set(url, { jid: 'family@conference.example.org', action: { type: 'join', password: 'cake' } });
    await app.links.openUrl(url);
    expect(app.rooms.joining).toMatchObject({
      account: 1,
      address: 'family@conference.example.org',
      nick: 'me',
      password: 'cake',
      needsPassword: true,
    });
    expect(backend.called('joinRoom')).toEqual([]);
    await app.rooms.submitJoin();
    backend.emitCore({ type: 'room_joined', account: 1, room: 'family@conference.example.org', nick: 'me', occupants: [], subject: null, added: 0 });
    app.chats.open(1, 'bob@example.org');
    await app.links.openUrl(url);
    expect(app.rooms.joining).toBeNull();
    expect(app.rooms.active?.jid).toBe('family@conference.example.org');
  });
});
