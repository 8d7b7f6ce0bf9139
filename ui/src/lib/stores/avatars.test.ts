import { describe, expect, it } from 'vitest';
import { FakeBackend } from '$lib/testing/backend';
import { flush, useFakeTime } from '$lib/testing/time';
import { AppStore } from './app.svelte';
import { toBase64 } from './avatars.svelte';

useFakeTime();

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

async function loggedIn(backend = new FakeBackend()) {
  const app = new AppStore(backend);
  await app.start();
  await app.signIn.login({ jid: 'me@example.org', password: 'p', remember: false, host: null, port: null });
  await flush();
  return { app, backend };
}

describe('avatars', () => {
  it('shows the recorded avatars at login, each image asked for once per hash', async () => {
    const backend = new FakeBackend();
    backend.avatarHashes = { 'al@x': A, 'bo@x': A };
    backend.avatarImages.set(A, 'data:image/png;base64,AAAA');
    const { app } = await loggedIn(backend);
    expect(app.avatars.url('al@x')).toBe('data:image/png;base64,AAAA');
    expect(app.avatars.url('bo@x')).toBe('data:image/png;base64,AAAA');
    expect(app.avatars.url('cy@x')).toBeUndefined();
    expect(backend.called('avatarImage')).toEqual([[A]]);
  });

  it('follows avatar_changed events of every account, and forgets a removed avatar', async () => {
    const { app, backend } = await loggedIn();
    backend.avatarImages.set(B, 'data:image/png;base64,BBBB');
    app.dispatch({ type: 'avatar_changed', account: 1, jid: 'al@x', hash: B });
    app.dispatch({ type: 'avatar_changed', account: 2, jid: 'zz@x', hash: B });
    await flush();
    expect(app.avatars.url('al@x')).toBe('data:image/png;base64,BBBB');
    expect(app.avatars.url('zz@x')).toBe('data:image/png;base64,BBBB');
    app.dispatch({ type: 'avatar_changed', account: 1, jid: 'al@x', hash: null });
    expect(app.avatars.url('al@x')).toBeUndefined();
  });

  it('asks again for an image that was not cached yet', async () => {
    const { app, backend } = await loggedIn();
    app.avatars.set('al@x', A);
    await flush();
    expect(app.avatars.url('al@x')).toBeUndefined();
    backend.avatarImages.set(A, 'data:image/png;base64,AAAA');
    app.avatars.set('al@x', A);
    await flush();
    expect(app.avatars.url('al@x')).toBe('data:image/png;base64,AAAA');
  });

  it('sets our avatar and profile through the backend, returning errors for the form', async () => {
    const { app, backend } = await loggedIn();
    expect(await app.avatars.setOwn(1, new Uint8Array([104, 105]))).toBeNull();
    expect(await app.avatars.setOwn(1, null)).toBeNull();
    expect(backend.called('setAvatar')).toEqual([
      [1, 'aGk='],
      [1, null],
    ]);
    expect(await app.avatars.setProfile(1, ' Me Myself ', '  ')).toBeNull();
    expect(backend.called('setProfile')).toEqual([[1, 'Me Myself', null]]);
    expect(await app.avatars.profile(1, 'nobody@x')).toMatchObject({ code: 'not_connected' });
  });

  it('encodes large images in chunks', () => {
    const big = new Uint8Array(200_000).fill(65);
    expect(atob(toBase64(big))).toHaveLength(200_000);
  });
});
