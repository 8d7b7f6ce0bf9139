import { describe, expect, it } from 'vitest';
import { FakeBackend, appInfo, defaultSettings } from '$lib/testing/backend';
import { contact } from '$lib/testing/fixtures';
import { useFakeTime } from '$lib/testing/time';
import { AppStore } from './app.svelte';

useFakeTime();

describe('AppStore', () => {
  it('shows only the popped-out chat in a pop-out window', async () => {
    const backend = new FakeBackend();
    backend.info = appInfo({ popped_out: { account: 3, peer: 'a@x' } });
    const app = new AppStore(backend);
    await app.start();
    expect(app.session.phase).toBe('popout');
    expect(app.chats.active?.peer).toBe('a@x');
    app.dispatch({ type: 'open_chat', chat: { account: 3, peer: 'b@x' } });
    expect(app.chats.tabs.map((t) => t.peer)).toEqual(['a@x']);
    expect(backend.called('contacts')).toEqual([[3]]);
  });

  it('shows presence that arrived before the pop-out opened', async () => {
    const backend = new FakeBackend();
    backend.info = appInfo({ popped_out: { account: 3, peer: 'a@x' } });
    backend.roster = [contact('a@x')];
    backend.online = [{ jid: 'a@x', presence: { show: 'away', status: 'Lunch', resource: 'r', priority: 0, idle_since: null } }];
    const app = new AppStore(backend);
    await app.start();
    expect(backend.called('presences')).toEqual([[3]]);
    expect(app.roster.of(3).presence.get('a@x')?.show).toBe('away');
  });

  it('reports a failed start', async () => {
    const backend = new FakeBackend();
    backend.appInfo = () => Promise.reject(new Error('no shell'));
    const app = new AppStore(backend);
    await app.start();
    expect(app.session.phase).toBe('failed');
    expect(app.session.startError).toEqual({ code: 'unknown', message: 'no shell' });
  });

  it('saves settings and restores them when saving fails', async () => {
    const backend = new FakeBackend();
    const app = new AppStore(backend);
    await app.start();
    await app.settings.update({ close_to_tray: true });
    expect(backend.called('saveSettings')).toEqual([[{ ...defaultSettings(), close_to_tray: true }]]);
    backend.saveSettings = () => Promise.reject({ code: 'store', message: 'io' });
    await app.settings.update({ notifications: false });
    expect(app.settings.value.notifications).toBe(true);
    expect(app.notices.list.map((n) => n.key)).toEqual(['error.store']);
  });
});
