import { describe, expect, it } from 'vitest';
import { useFakeTime } from '$lib/testing/time';
import { FakeBackend } from '$lib/testing/backend';
import { AppStore } from './app.svelte';
import { RegisterStore, validateRegister, type RegisterFields } from './register.svelte';

useFakeTime();

const filled: RegisterFields = {
  jid: 'newbie@example.org',
  password: 'secret',
  confirm: 'secret',
  host: '',
  port: '',
};

describe('validateRegister', () => {
  it('accepts a complete form', () => expect(validateRegister(filled)).toEqual({}));

  it('reports each problem with a message key', () => {
    expect(validateRegister({ jid: 'nobody', password: '', confirm: '', host: '', port: '0' })).toEqual({
      jid: 'login.error.jidInvalid',
      password: 'login.error.passwordRequired',
      port: 'login.error.portInvalid',
    });
    expect(validateRegister({ ...filled, jid: '' }).jid).toBe('login.error.jidRequired');
    expect(validateRegister({ ...filled, jid: 'me@example.org/phone' }).jid).toBe('login.error.jidInvalid');
  });

  it('wants the password twice', () => {
    expect(validateRegister({ ...filled, confirm: 'secreT' })).toEqual({ confirm: 'register.error.mismatch' });
  });

  it("checks the server's required fields, not its optional ones", () => {
    const form = {
      instructions: null, url: null, in_band: true,
      fields: [
        { var: 'email', label: 'Email', desc: null, required: true, kind: { type: 'text' as const }, value: null },
        { var: 'name', label: null, desc: null, required: false, kind: { type: 'text' as const }, value: null },
      ],
    };
    expect(validateRegister(filled, {}, form)).toEqual({ 'field:email': 'register.error.fieldRequired' });
    expect(validateRegister(filled, { email: '  ' }, form)).toEqual({
      'field:email': 'register.error.fieldRequired',
    });
    expect(validateRegister(filled, { email: 'me@example.org' }, form)).toEqual({});
  });
});

describe('RegisterStore', () => {
  it('sends nothing to a server that signs up on its web page only, and offers the page', async () => {
    const backend = new FakeBackend();
    backend.serverForm = { instructions: null, fields: [], url: 'https://example.org/signup', in_band: false };
    const store = new RegisterStore(backend);
    store.fields = { ...filled };
    expect(await store.submit()).toBeNull();
    expect(store.serverForm?.url).toBe('https://example.org/signup');
    expect(backend.called('registerAccount')).toEqual([]);
  });

  it("fills in the server's proposed values, a flag as no, and checks an address", async () => {
    const backend = new FakeBackend();
    backend.serverForm = {
      instructions: null, url: null, in_band: true,
      fields: [
        { var: 'news', label: null, desc: null, required: false, kind: { type: 'flag' }, value: null },
        {
          var: 'lang',
          label: null,
          desc: null,
          required: true,
          kind: { type: 'choice', options: [{ label: 'English', value: 'en' }] },
          value: 'en',
        },
        { var: 'referrer', label: null, desc: null, required: false, kind: { type: 'address' }, value: null },
      ],
    };
    const store = new RegisterStore(backend);
    store.fields = { ...filled };
    expect(await store.submit()).toBeNull();
    expect(store.extra).toEqual({ news: 'false', lang: 'en' });
    store.extra['referrer'] = 'not an address';
    expect(await store.submit()).toBeNull();
    expect(store.errors['field:referrer']).toBe('register.error.fieldAddress');
    store.extra['referrer'] = 'friend@example.org';
    expect(await store.submit()).not.toBeNull();
    expect(backend.called('registerAccount')[0]).toMatchObject([
      { fields: { news: 'false', lang: 'en', referrer: 'friend@example.org' } },
    ]);
  });

  it('sends nothing while the form is invalid', async () => {
    const backend = new FakeBackend();
    const store = new RegisterStore(backend);
    store.fields = { ...filled, confirm: 'other' };
    expect(await store.submit()).toBeNull();
    expect(store.errors.confirm).toBe('register.error.mismatch');
    expect(backend.calls).toEqual([]);
  });

  it('reads the form, then creates the account when the server wants nothing more', async () => {
    const backend = new FakeBackend();
    const store = new RegisterStore(backend);
    store.fields = { ...filled, host: ' 127.0.0.1 ', port: '15222' };
    const request = await store.submit();
    const expected = {
      jid: 'newbie@example.org',
      password: 'secret',
      host: '127.0.0.1',
      port: 15222,
      fields: {},
    };
    expect(request).toEqual(expected);
    expect(backend.called('registrationForm')).toEqual([[expected]]);
    expect(backend.called('registerAccount')).toEqual([[expected]]);
    expect(store.busy).toBe(false);
  });

  it('shows the extra fields first, and sends them on the next submit', async () => {
    const backend = new FakeBackend();
    backend.serverForm = {
      instructions: 'Tell us how to reach you.', url: null, in_band: true,
      fields: [{ var: 'email', label: 'Email', desc: null, required: true, kind: { type: 'text' as const }, value: null }],
    };
    const store = new RegisterStore(backend);
    store.fields = { ...filled };
    expect(await store.submit()).toBeNull();
    expect(store.serverForm?.fields.map((f) => f.var)).toEqual(['email']);
    expect(backend.called('registerAccount')).toEqual([]);

    // Submitting with the required field empty asks for it, without a call.
    expect(await store.submit()).toBeNull();
    expect(store.errors['field:email']).toBe('register.error.fieldRequired');
    expect(backend.called('registerAccount')).toEqual([]);

    store.extra.email = ' me@example.org ';
    const request = await store.submit();
    expect(request?.fields).toEqual({ email: 'me@example.org' });
    // The form was read once.
    expect(backend.called('registrationForm')).toHaveLength(1);
    expect(backend.called('registerAccount')).toHaveLength(1);
  });

  it('reads the form again when the server changes', async () => {
    const backend = new FakeBackend();
    backend.serverForm = {
      instructions: null, url: null, in_band: true,
      fields: [{ var: 'email', label: null, desc: null, required: false, kind: { type: 'text' as const }, value: null }],
    };
    const store = new RegisterStore(backend);
    store.fields = { ...filled };
    await store.submit();
    store.extra.email = 'me@example.org';
    store.fields.jid = 'newbie@other.example';
    backend.serverForm = { instructions: null, url: null, in_band: true, fields: [] };
    const request = await store.submit();
    expect(backend.called('registrationForm')).toHaveLength(2);
    // The other server's field is not sent to this one.
    expect(request?.fields).toEqual({});
  });

  it("keeps the server's refusal for the form, by code", async () => {
    const backend = new FakeBackend();
    backend.failRegister = { code: 'username_taken', message: 'conflict' };
    const store = new RegisterStore(backend);
    store.fields = { ...filled };
    expect(await store.submit()).toBeNull();
    expect(store.failure).toEqual({ code: 'username_taken', message: 'conflict' });
    expect(store.busy).toBe(false);
  });
});

describe('account care', () => {
  async function signedIn(backend: FakeBackend): Promise<AppStore> {
    backend.info = {
      ...backend.info,
      settings: { ...backend.info.settings, accounts: [{ jid: 'me@example.org', host: null, port: null, enabled: true, color: null }] },
    };
    const app = new AppStore(backend);
    await app.start();
    await app.signIn.login({ jid: 'me@example.org', password: 'pw', remember: true, host: null, port: null });
    return app;
  }

  it('changes the password and reports a refusal', async () => {
    const backend = new FakeBackend();
    const app = await signedIn(backend);
    expect(await app.accounts.changePassword(1, 'new-pw')).toBeNull();
    expect(backend.called('changePassword')).toEqual([[1, 'new-pw']]);
    backend.failAccount = { code: 'not_acceptable', message: 'weak' };
    expect((await app.accounts.changePassword(1, 'x'))?.code).toBe('not_acceptable');
    expect(app.session.phase).toBe('main');
  });

  it('deleting the account signs out and forgets the remembered login', async () => {
    const backend = new FakeBackend();
    const app = await signedIn(backend);
    expect(app.settings.value.accounts[0]?.jid).toBe('me@example.org');
    expect(await app.accounts.end('me@example.org', 'delete')).toBeNull();
    expect(backend.called('deleteAccount')).toEqual([[1]]);
    expect(app.session.phase).toBe('login');
    expect(app.session.account).toBeNull();
    expect(app.settings.value.accounts).toEqual([]);
  });

  it('removing the account passes the history choice; a failure keeps the session', async () => {
    const backend = new FakeBackend();
    const app = await signedIn(backend);
    backend.failAccount = { code: 'store', message: 'disk' };
    expect((await app.accounts.end('me@example.org', { keepHistory: false }))?.code).toBe('store');
    expect(app.session.phase).toBe('main');
    expect(app.settings.value.accounts[0]?.jid).toBe('me@example.org');
    backend.failAccount = null;
    expect(await app.accounts.end('me@example.org', { keepHistory: true })).toBeNull();
    expect(backend.called('removeAccount')).toEqual([
      ['me@example.org', false],
      ['me@example.org', true],
    ]);
    expect(app.session.phase).toBe('login');
    expect(app.settings.value.accounts).toEqual([]);
  });
});
