/** Errors shown to the user outside a form (a failed send, a core `error` event). */
import type { ErrorCode } from '$lib/contract';
import type { MessageKey } from '$lib/i18n';
import { toUiError, type UiError } from '$lib/errors';

/** The message for each error code; the type keeps it exhaustive. */
export const ERROR_MESSAGES: Readonly<Record<ErrorCode | 'unknown', MessageKey>> = {
  invalid_jid: 'error.invalidJid',
  invalid_input: 'error.invalidInput',
  auth_failed: 'error.authFailed',
  auth_mechanism: 'error.authMechanism',
  auth_downgrade: 'error.authDowngrade',
  tls_certificate: 'error.tlsCertificate',
  tls: 'error.tls',
  unreachable: 'error.unreachable',
  timeout: 'error.timeout',
  stream_error: 'error.streamError',
  protocol: 'error.protocol',
  not_connected: 'error.notConnected',
  unknown_account: 'error.unknownAccount',
  disk_full: 'error.diskFull',
  store: 'error.store',
  registration_closed: 'error.registrationClosed',
  username_taken: 'error.usernameTaken',
  not_acceptable: 'error.notAcceptable',
  form_unsupported: 'error.formUnsupported',
  refused: 'error.refused',
  keyring_unavailable: 'error.keyringUnavailable',
  keyring_locked: 'error.keyringLocked',
  password_needed: 'error.passwordNeeded',
  bad_link: 'error.badLink',
  forbidden: 'error.forbidden',
  conflict: 'error.conflict',
  not_found: 'error.notFound',
  unsupported: 'error.unsupported',
  unknown: 'error.unknown',
};

export function errorMessageKey(code: string): MessageKey {
  return Object.hasOwn(ERROR_MESSAGES, code) ? ERROR_MESSAGES[code as ErrorCode] : 'error.unknown';
}

export interface Notice {
  id: number;
  key: MessageKey;
  code: string;
}

const MAX_NOTICES = 3;

export class NoticeStore {
  list = $state<Notice[]>([]);
  #next = 1;

  error(error: UiError): void {
    const key = errorMessageKey(error.code);
    // The same problem again replaces the old notice instead of stacking up.
    const others = this.list.filter((n) => n.key !== key);
    this.list = [...others, { id: this.#next++, key, code: error.code }].slice(-MAX_NOTICES);
  }

  /** Tells the user something that is not an error code's message (`code` is `info`). */
  say(key: MessageKey): void {
    const others = this.list.filter((n) => n.key !== key);
    this.list = [...others, { id: this.#next++, key, code: 'info' }].slice(-MAX_NOTICES);
  }

  /** Runs `action`; what it fails with becomes a notice. Answers whether it succeeded. */
  async attempt(action: () => Promise<unknown>): Promise<boolean> {
    try {
      await action();
      return true;
    } catch (error) {
      this.error(toUiError(error));
      return false;
    }
  }

  dismiss(id: number): void {
    this.list = this.list.filter((n) => n.id !== id);
  }

  clear(): void {
    this.list = [];
  }
}
