/**
 * State and validation of the login form. Errors are message keys, translated when rendered, so
 * this module does not depend on the current language.
 */
import type { LoginRequest } from '$lib/contract';
import type { MessageKey } from '$lib/i18n';

export type { LoginRequest } from '$lib/contract';

export interface LoginFields {
  jid: string;
  password: string;
  /** Optional server host overriding SRV lookup. */
  host: string;
  /** Optional port, as typed. */
  port: string;
  /** Remember the address and server for the next start. */
  remember: boolean;
  /** Keep the password in the OS keyring and log in with it at the next start. */
  rememberPassword: boolean;
}

export type LoginField = Exclude<keyof LoginFields, 'remember' | 'rememberPassword'>;
export type LoginErrors = Partial<Record<LoginField, MessageKey>>;

/**
 * A loose check that `value` is `local@domain` or `local@domain/resource`. The core does the
 * real RFC 7622 preparation; this only catches obvious typos before connecting.
 */
export function isPlausibleAccountJid(value: string): boolean {
  return /^[^@/\s]+@[^@/\s]+(\/\S+)?$/u.test(value.trim());
}

/** `null` for empty (use the default), the port number, or `undefined` if invalid. */
export function parsePort(value: string): number | null | undefined {
  const text = value.trim();
  if (text === '') return null;
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

export function validateLogin(fields: LoginFields): LoginErrors {
  const errors: LoginErrors = {};
  const jid = fields.jid.trim();
  if (jid === '') errors.jid = 'login.error.jidRequired';
  else if (!isPlausibleAccountJid(jid)) errors.jid = 'login.error.jidInvalid';
  if (fields.password === '') errors.password = 'login.error.passwordRequired';
  if (parsePort(fields.port) === undefined) errors.port = 'login.error.portInvalid';
  return errors;
}

export function toLoginRequest(fields: LoginFields): LoginRequest | null {
  if (Object.keys(validateLogin(fields)).length > 0) return null;
  const host = fields.host.trim();
  return {
    jid: fields.jid.trim(),
    password: fields.password,
    remember: fields.remember,
    remember_password: fields.rememberPassword,
    host: host === '' ? null : host,
    port: parsePort(fields.port) ?? null,
  };
}

export function emptyLoginFields(): LoginFields {
  return { jid: '', password: '', host: '', port: '', remember: false, rememberPassword: false };
}

export class LoginFormStore {
  fields = $state<LoginFields>(emptyLoginFields());
  /** Errors are shown only after the first submit attempt, then kept live. */
  attempted = $state(false);
  readonly errors: LoginErrors = $derived(this.attempted ? validateLogin(this.fields) : {});
  readonly errorCount: number = $derived(Object.keys(this.errors).length);

  /** Marks the form as attempted and returns the request if the fields are valid. */
  submit(): LoginRequest | null {
    this.attempted = true;
    return toLoginRequest(this.fields);
  }

  /** Prefills fields (a remembered login, a demo account) without showing errors. */
  fill(fields: Partial<LoginFields>): void {
    this.fields = { ...this.fields, ...fields };
  }

  reset(): void {
    this.fields = emptyLoginFields();
    this.attempted = false;
  }
}
