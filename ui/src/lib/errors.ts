/** Errors from the backend, normalized so that the UI can translate them by code. */
import type { CertificateProblem, CertificateReason, CoreError, ErrorCode } from './contract';

/**
 * An error as the UI handles it: a backend `CoreError`, or `unknown` for anything else. An
 * untrusted server certificate comes with its details (`certificate`).
 */
export type UiError = { code: ErrorCode | 'unknown'; message: string; certificate?: CertificateProblem };

const CERTIFICATE_REASONS: Readonly<Record<CertificateReason, true>> = {
  self_signed: true,
  unknown_issuer: true,
  expired: true,
  not_yet_valid: true,
  wrong_name: true,
  revoked: true,
  pin_changed: true,
  invalid: true,
};

/** The certificate details of an error, if they are well-formed. */
function certificateOf(value: unknown): CertificateProblem | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { server, fingerprint, reason } = value as Partial<CertificateProblem>;
  if (typeof server !== 'string' || typeof fingerprint !== 'string') return undefined;
  if (typeof reason !== 'string' || !Object.hasOwn(CERTIFICATE_REASONS, reason)) return undefined;
  return { server, fingerprint, reason };
}

/** Every code, so that an unexpected value can be told apart (the type makes it exhaustive). */
const ERROR_CODES: Readonly<Record<ErrorCode, true>> = {
  invalid_jid: true,
  invalid_input: true,
  auth_failed: true,
  auth_mechanism: true,
  auth_downgrade: true,
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
  registration_closed: true,
  username_taken: true,
  not_acceptable: true,
  form_unsupported: true,
  refused: true,
  keyring_unavailable: true,
  keyring_locked: true,
  password_needed: true,
  bad_link: true,
  forbidden: true,
  conflict: true,
  not_found: true,
  unsupported: true,
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** Normalizes whatever a command rejected with (a `CoreError`, a string, an `Error`). */
export function toUiError(error: unknown): UiError {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code, message, certificate } = error as Partial<CoreError>;
    const details = certificateOf(certificate);
    return {
      code: isErrorCode(code) ? code : 'unknown',
      message: typeof message === 'string' ? message : String(code),
      ...(details ? { certificate: details } : {}),
    };
  }
  if (error instanceof Error) return { code: 'unknown', message: error.message };
  return { code: 'unknown', message: String(error) };
}

/** Runs `action` and answers what it failed with, for a form to show (null: it succeeded). */
export async function failureOf(action: () => Promise<unknown>): Promise<UiError | null> {
  try {
    await action();
    return null;
  } catch (error) {
    return toUiError(error);
  }
}
