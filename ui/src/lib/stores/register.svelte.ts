/**
 * The "Create an account" form (XEP-0077 in-band registration): its fields, their validation,
 * the extra fields the server asks for, and the two steps of a sign-up: first the server's form
 * is read (it may want an e-mail address, or refuse sign-ups altogether), then the account is
 * created. Errors are message keys or `UiError`s, translated when rendered.
 */
import type { Backend } from '$lib/api';
import type { RegisterRequest, RegistrationForm } from '$lib/contract';
import { toUiError, type UiError } from '$lib/errors';
import type { MessageKey } from '$lib/i18n';
import { isPlausibleAccountJid, parsePort } from './login.svelte';

export interface RegisterFields {
  jid: string;
  password: string;
  /** The password again. */
  confirm: string;
  /** Optional server host overriding SRV lookup. */
  host: string;
  /** Optional port, as typed. */
  port: string;
}

/** Errors by field name; a server field's error is under `field:<var>`. */
export type RegisterErrors = Partial<Record<keyof RegisterFields | `field:${string}`, MessageKey>>;

export function emptyRegisterFields(): RegisterFields {
  return { jid: '', password: '', confirm: '', host: '', port: '' };
}

/** Checks the fields, and the server's required fields once its form is known. */
export function validateRegister(
  fields: RegisterFields,
  extra: Readonly<Record<string, string>> = {},
  form: RegistrationForm | null = null,
): RegisterErrors {
  const errors: RegisterErrors = {};
  const jid = fields.jid.trim();
  if (jid === '') errors.jid = 'login.error.jidRequired';
  else if (!isPlausibleAccountJid(jid) || jid.includes('/')) errors.jid = 'login.error.jidInvalid';
  if (fields.password === '') errors.password = 'login.error.passwordRequired';
  else if (fields.confirm !== fields.password) errors.confirm = 'register.error.mismatch';
  if (parsePort(fields.port) === undefined) errors.port = 'login.error.portInvalid';
  for (const field of form?.fields ?? []) {
    const value = (extra[field.var] ?? '').trim();
    if (field.required && value === '') errors[`field:${field.var}`] = 'register.error.fieldRequired';
    else if (field.kind.type === 'address' && value !== '' && !isPlausibleAccountJid(value)) {
      errors[`field:${field.var}`] = 'register.error.fieldAddress';
    }
  }
  return errors;
}

/** Which server a form was read from: another domain, host or port needs it read again. */
function serverKey(fields: RegisterFields): string {
  const domain = fields.jid.trim().split('@')[1] ?? '';
  return [domain.toLowerCase(), fields.host.trim(), fields.port.trim()].join('|');
}

export class RegisterStore {
  readonly #backend: Backend;
  fields = $state<RegisterFields>(emptyRegisterFields());
  /** Values of the server's extra fields, by name. */
  extra = $state<Record<string, string>>({});
  /** The server's form, once read; `null` before, or after the server changed. */
  serverForm = $state.raw<RegistrationForm | null>(null);
  #formKey = '';
  /** Errors are shown only after the first submit attempt, then kept live. */
  attempted = $state(false);
  readonly errors: RegisterErrors = $derived(
    this.attempted ? validateRegister(this.fields, this.extra, this.serverForm) : {},
  );
  readonly errorCount: number = $derived(Object.keys(this.errors).length);
  /** A request to the server is under way (the form is locked meanwhile). */
  busy = $state(false);
  /** Why the server refused (or could not be asked). */
  failure = $state.raw<UiError | null>(null);

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** The form as a request, or null while a field is invalid. */
  request(): RegisterRequest | null {
    if (Object.keys(validateRegister(this.fields, this.extra, this.serverForm)).length > 0) return null;
    const host = this.fields.host.trim();
    const fields: Record<string, string> = {};
    for (const field of this.serverForm?.fields ?? []) {
      const value = (this.extra[field.var] ?? '').trim();
      if (value !== '') fields[field.var] = value;
    }
    return {
      jid: this.fields.jid.trim(),
      password: this.fields.password,
      host: host === '' ? null : host,
      port: parsePort(this.fields.port) ?? null,
      fields,
    };
  }

  /**
   * Creates the account. The server's form is read first (again if the server changed); when
   * it asks for more fields, they are shown and nothing is sent until the user submits again.
   * Resolves with the request once the account exists, or null.
   */
  async submit(): Promise<RegisterRequest | null> {
    if (this.busy) return null;
    this.attempted = true;
    this.failure = null;
    const key = serverKey(this.fields);
    if (this.serverForm !== null && key !== this.#formKey) {
      this.serverForm = null;
      this.extra = {};
    }
    let request = this.request();
    if (request === null) return null;
    this.busy = true;
    try {
      if (this.serverForm === null) {
        const form = await this.#backend.registrationForm(request);
        this.serverForm = form;
        this.#formKey = key;
        // What the server proposes; a flag is always yes or no.
        this.extra = Object.fromEntries(
          form.fields.flatMap((f) =>
            f.value !== null ? [[f.var, f.value]] : f.kind.type === 'flag' ? [[f.var, 'false']] : [],
          ),
        );
        // New fields to fill, or only a web page to sign up on: show them first.
        if (form.fields.length > 0 || !form.in_band) return null;
        request = this.request();
        if (request === null) return null;
      }
      await this.#backend.registerAccount(request);
      return request;
    } catch (error) {
      this.failure = toUiError(error);
      return null;
    } finally {
      this.busy = false;
    }
  }

  reset(): void {
    this.fields = emptyRegisterFields();
    this.extra = {};
    this.serverForm = null;
    this.#formKey = '';
    this.attempted = false;
    this.failure = null;
  }
}
