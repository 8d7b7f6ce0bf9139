/** Errors from the backend, normalized so that the UI can translate them by code. */
import type { CoreError, ErrorCode } from './contract';

/** An error as the UI handles it: a backend `CoreError`, or `unknown` for anything else. */
export type UiError = { code: ErrorCode | 'unknown'; message: string };

/** Every code, so that an unexpected value can be told apart (the type makes it exhaustive). */
const ERROR_CODES: Readonly<Record<ErrorCode, true>> = {
  invalid_jid: true,
  invalid_input: true,
  auth_failed: true,
  auth_mechanism: true,
  tls_certificate: true,
  tls: true,
  unreachable: true,
  timeout: true,
  stream_error: true,
  protocol: true,
  not_connected: true,
  unknown_account: true,
  disk_full: true,
  store: true,
  keyring_unavailable: true,
  keyring_locked: true,
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** Normalizes whatever a command rejected with (a `CoreError`, a string, an `Error`). */
export function toUiError(error: unknown): UiError {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code, message } = error as Partial<CoreError>;
    return {
      code: isErrorCode(code) ? code : 'unknown',
      message: typeof message === 'string' ? message : String(code),
    };
  }
  if (error instanceof Error) return { code: 'unknown', message: error.message };
  return { code: 'unknown', message: String(error) };
}

