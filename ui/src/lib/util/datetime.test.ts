import { describe, expect, it } from 'vitest';
import { dayKey, dayName, formatAgo, formatDateTime, formatDuration, formatTime } from './datetime';

const at = (iso: string) => Date.parse(iso);

describe('formatTime', () => {
  it('uses the locale conventions', () => {
    const t = at('2025-03-14T15:05:00Z');
    expect(formatTime(t, 'en', 'UTC')).toMatch(/^3:05\sPM$/);
    expect(formatTime(t, 'es', 'UTC')).toBe('15:05');
  });

  it('follows the time zone', () => {
    const t = at('2025-03-14T15:05:00Z');
    expect(formatTime(t, 'es', 'Europe/Madrid')).toBe('16:05');
  });

  it('formats full dates in each language', () => {
    const t = at('2025-03-14T15:05:00Z');
    expect(formatDateTime(t, 'en', 'UTC')).toContain('Friday, March 14, 2025');
    expect(formatDateTime(t, 'es', 'UTC')).toContain('viernes, 14 de marzo de 2025');
  });
});

describe('dayKey', () => {
  it('is the calendar day in the time zone', () => {
    const t = at('2025-03-14T23:30:00Z');
    expect(dayKey(t, 'UTC')).toBe('2025-03-14');
    expect(dayKey(t, 'Europe/Madrid')).toBe('2025-03-15');
  });

  it('stays right on both sides of midnight when answered from its cache', () => {
    // Midnight in Kolkata (+05:30) is 18:30 UTC: the last and first minute of two days.
    const before = at('2025-03-14T18:29:59.999Z');
    const after = at('2025-03-14T18:30:00Z');
    for (let round = 0; round < 2; round++) {
      expect(dayKey(before, 'Asia/Kolkata')).toBe('2025-03-14');
      expect(dayKey(after, 'Asia/Kolkata')).toBe('2025-03-15');
      expect(dayKey(after + 59_999, 'Asia/Kolkata')).toBe('2025-03-15');
      expect(dayKey(before, 'UTC')).toBe('2025-03-14');
    }
  });
});

describe('dayName', () => {
  const now = at('2025-03-14T12:00:00Z');

  it('says today and yesterday', () => {
    expect(dayName(at('2025-03-14T00:01:00Z'), now, 'en', 'UTC')).toEqual({ kind: 'today' });
    expect(dayName(at('2025-03-13T23:59:00Z'), now, 'en', 'UTC')).toEqual({ kind: 'yesterday' });
  });

  it('works across month and year boundaries', () => {
    const newYear = at('2025-01-01T10:00:00Z');
    expect(dayName(at('2024-12-31T10:00:00Z'), newYear, 'en', 'UTC')).toEqual({ kind: 'yesterday' });
    const march = at('2024-03-01T10:00:00Z');
    expect(dayName(at('2024-02-29T10:00:00Z'), march, 'en', 'UTC')).toEqual({ kind: 'yesterday' });
  });

  it('names older days with the weekday, and the year only when it differs', () => {
    expect(dayName(at('2025-03-10T10:00:00Z'), now, 'en', 'UTC')).toEqual({
      kind: 'date',
      text: 'Monday, March 10',
    });
    expect(dayName(at('2025-03-10T10:00:00Z'), now, 'es', 'UTC')).toEqual({
      kind: 'date',
      text: 'lunes, 10 de marzo',
    });
    expect(dayName(at('2024-03-10T10:00:00Z'), now, 'es', 'UTC')).toEqual({
      kind: 'date',
      text: 'domingo, 10 de marzo de 2024',
    });
  });
});

describe('formatAgo and formatDuration', () => {
  const now = at('2026-11-24T12:00:00Z');
  it('say how long ago in the largest whole unit', () => {
    expect(formatAgo(now - 20_000, now, 'en')).toBe('now');
    expect(formatAgo(now - 3 * 60_000, now, 'en')).toBe('3 minutes ago');
    expect(formatAgo(now - 3 * 3_600_000 - 59 * 60_000, now, 'es')).toBe('hace 3 horas');
    expect(formatAgo(now - 26 * 3_600_000, now, 'en')).toBe('yesterday');
    expect(formatAgo(now + 5000, now, 'en')).toBe('now');
  });
  it('give a span in its largest whole unit', () => {
    expect(formatDuration(12 * 60_000 + 59_000, 'en')).toBe('12 min');
    expect(formatDuration(2 * 3_600_000, 'es')).toBe('2 h');
    expect(formatDuration(3 * 86_400_000, 'en')).toBe('3 days');
  });
});
