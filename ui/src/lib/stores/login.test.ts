import { describe, expect, it } from 'vitest';
import { useFakeTime } from '$lib/testing/time';
import {
  LoginFormStore,
  isPlausibleAccountJid,
  parsePort,
  toLoginRequest,
  validateLogin,
} from './login.svelte';

useFakeTime();

describe('isPlausibleAccountJid', () => {
  const good = [
    'me@example.org',
    'me@localhost',
    ' me@example.org ',
    'me@example.org/phone',
    'ñandú@ejemplo.es',
  ];
  const bad = ['', 'example.org', '@example.org', 'me@', 'a@b@c', 'me @example.org', 'me@example.org/'];
  it.each(good)('accepts %j', (jid) => expect(isPlausibleAccountJid(jid)).toBe(true));
  it.each(bad)('rejects %j', (jid) => expect(isPlausibleAccountJid(jid)).toBe(false));
});

describe('parsePort', () => {
  it('treats empty as default', () => expect(parsePort('  ')).toBeNull());
  it('parses valid ports', () => {
    expect(parsePort('5222')).toBe(5222);
    expect(parsePort(' 1 ')).toBe(1);
    expect(parsePort('65535')).toBe(65535);
  });
  it.each(['0', '65536', '-1', '52a', '1e3', '5222.0', '999999'])('rejects %j', (port) =>
    expect(parsePort(port)).toBeUndefined(),
  );
});

describe('validateLogin', () => {
  it('reports each problem with a message key', () => {
    expect(validateLogin({ jid: '', password: '', host: '', port: 'x', remember: false, rememberPassword: false })).toEqual({
      jid: 'login.error.jidRequired',
      password: 'login.error.passwordRequired',
      port: 'login.error.portInvalid',
    });
    expect(validateLogin({ jid: 'nope', password: 'p', host: '', port: '', remember: false, rememberPassword: false })).toEqual({
      jid: 'login.error.jidInvalid',
    });
  });

  it('builds a request from valid fields', () => {
    const plain = { jid: ' me@example.org ', password: ' secret ', host: '', port: '', remember: false, rememberPassword: false };
    expect(toLoginRequest(plain)).toEqual({
      jid: 'me@example.org',
      password: ' secret ',
      remember: false,
      remember_password: false,
      host: null,
      port: null,
    });
    const advanced = { jid: 'me@example.org', password: 's', host: ' xmpp.example.org ', port: '5223', remember: true, rememberPassword: true };
    expect(toLoginRequest(advanced)).toEqual({
      jid: 'me@example.org',
      password: 's',
      remember: true,
      remember_password: true,
      host: 'xmpp.example.org',
      port: 5223,
    });
  });
});

describe('LoginFormStore', () => {
  it('shows errors only after the first attempt', () => {
    const form = new LoginFormStore();
    expect(form.errorCount).toBe(0);
    expect(form.submit()).toBeNull();
    expect(form.errorCount).toBe(2);
    form.fields.jid = 'me@example.org';
    expect(form.errors).toEqual({ password: 'login.error.passwordRequired' });
    form.fields.password = 'secret';
    expect(form.submit()).toEqual({
      jid: 'me@example.org',
      password: 'secret',
      remember: false,
      remember_password: false,
      host: null,
      port: null,
    });
    form.reset();
    expect(form.attempted).toBe(false);
    expect(form.fields.jid).toBe('');
  });
});
