import { describe, expect, it } from 'vitest';
import { failureOf } from '$lib/errors';
import { useFakeTime } from '$lib/testing/time';
import { NoticeStore, errorMessageKey } from './notices.svelte';

useFakeTime();

describe('NoticeStore', () => {
  it('maps every error code to a message, unknown ones to the generic one', () => {
    expect(errorMessageKey('tls_certificate')).toBe('error.tlsCertificate');
    expect(errorMessageKey('unreachable')).toBe('error.unreachable');
    expect(errorMessageKey('something_new')).toBe('error.unknown');
    expect(errorMessageKey('toString')).toBe('error.unknown');
  });

  it('keeps the last three problems, the same one again replacing the old notice', () => {
    const notices = new NoticeStore();
    for (const code of ['store', 'timeout', 'store', 'refused', 'tls'] as const) notices.error({ code, message: '' });
    expect(notices.list.map((n) => n.code)).toEqual(['store', 'refused', 'tls']);
    notices.dismiss(notices.list[0]!.id);
    expect(notices.list.map((n) => n.code)).toEqual(['refused', 'tls']);
    notices.clear();
    expect(notices.list).toEqual([]);
  });

  it('attempts an action: what it fails with becomes a notice', async () => {
    const notices = new NoticeStore();
    expect(await notices.attempt(() => Promise.resolve(1))).toBe(true);
    expect(notices.list).toEqual([]);
    expect(await notices.attempt(() => Promise.reject({ code: 'disk_full', message: 'ENOSPC' }))).toBe(false);
    expect(await notices.attempt(() => Promise.reject(new Error('boom')))).toBe(false);
    expect(notices.list.map((n) => [n.code, n.key])).toEqual([
      ['disk_full', 'error.diskFull'],
      ['unknown', 'error.unknown'],
    ]);
  });

  it('answers what an action failed with, for a form (null: it succeeded)', async () => {
    expect(await failureOf(() => Promise.resolve())).toBeNull();
    expect(await failureOf(() => Promise.reject({ code: 'invalid_jid', message: 'bad' }))).toEqual({
      code: 'invalid_jid',
      message: 'bad',
    });
  });
});
