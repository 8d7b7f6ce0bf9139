/**
 * Dates and times in the active locale, through `Intl`. Every function takes an optional IANA
 * time zone so that tests are deterministic; the app leaves it to the system's.
 */
import type { Locale } from '$lib/i18n';

const formats = new Map<string, Intl.DateTimeFormat>();

function format(locale: Locale, options: Intl.DateTimeFormatOptions, timeZone?: string): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone ?? ''}|${JSON.stringify(options)}`;
  let result = formats.get(key);
  if (!result) {
    result = new Intl.DateTimeFormat(locale, timeZone ? { ...options, timeZone } : options);
    formats.set(key, result);
  }
  return result;
}

/** A message time: hour and minute, 12- or 24-hour as the locale has it. */
export function formatTime(ms: number, locale: Locale, timeZone?: string): string {
  return format(locale, { hour: 'numeric', minute: '2-digit' }, timeZone).format(ms);
}

/** A full date and time, e.g. for a tooltip. */
export function formatDateTime(ms: number, locale: Locale, timeZone?: string): string {
  return format(locale, { dateStyle: 'full', timeStyle: 'short' }, timeZone).format(ms);
}

/**
 * Day keys already computed, per time zone and UTC minute: time zone offsets are whole minutes,
 * so every instant of one UTC minute falls on the same local day. A chat view asks for the day
 * of every message on every change; this keeps that from calling Intl thousands of times.
 */
const dayKeys = new Map<string, Map<number, string>>();
const MAX_CACHED_MINUTES = 50_000;

/** The calendar day of `ms` in the time zone, as `YYYY-MM-DD` (comparable as a string). */
export function dayKey(ms: number, timeZone?: string): string {
  let cache = dayKeys.get(timeZone ?? '');
  if (!cache) {
    cache = new Map();
    dayKeys.set(timeZone ?? '', cache);
  }
  const minute = Math.floor(ms / 60_000);
  let key = cache.get(minute);
  if (key === undefined) {
    if (cache.size >= MAX_CACHED_MINUTES) cache.clear();
    key = computeDayKey(ms, timeZone);
    cache.set(minute, key);
  }
  return key;
}

function computeDayKey(ms: number, timeZone?: string): string {
  const parts = format('en', { year: 'numeric', month: '2-digit', day: '2-digit' }, timeZone).formatToParts(ms);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** The day before a `YYYY-MM-DD` key. */
function previousDay(key: string): string {
  const [y, m, d] = key.split('-').map(Number);
  const date = new Date(Date.UTC(y!, m! - 1, d! - 1));
  return date.toISOString().slice(0, 10);
}

export type DayName = { kind: 'today' } | { kind: 'yesterday' } | { kind: 'date'; text: string };

/**
 * How a day separator names the day of `ms` seen at `now`: today, yesterday, or a date (with the
 * weekday; with the year only when it is not the current one).
 */
export function dayName(ms: number, now: number, locale: Locale, timeZone?: string): DayName {
  const day = dayKey(ms, timeZone);
  const today = dayKey(now, timeZone);
  if (day === today) return { kind: 'today' };
  if (day === previousDay(today)) return { kind: 'yesterday' };
  const sameYear = day.slice(0, 4) === today.slice(0, 4);
  const options: Intl.DateTimeFormatOptions = sameYear
    ? { weekday: 'long', day: 'numeric', month: 'long' }
    : { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' };
  return { kind: 'date', text: format(locale, options, timeZone).format(ms) };
}

/** How long ago `then` was, e.g. "3 hours ago" / "hace 3 horas" ("now" under a minute). */
export function formatAgo(then: number, now: number, locale: Locale): string {
  const [value, unit] = largestUnit(Math.max(0, now - then));
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  return rtf.format(-value, unit);
}

/** A span of time in its largest whole unit, e.g. "12 min" / "3 h" / "2 days". */
export function formatDuration(ms: number, locale: Locale): string {
  const [value, unit] = largestUnit(Math.max(0, ms));
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: unit === 'day' ? 'long' : 'short' }).format(
    value,
  );
}

function largestUnit(ms: number): [number, 'second' | 'minute' | 'hour' | 'day'] {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return [0, 'second'];
  if (minutes < 60) return [minutes, 'minute'];
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return [hours, 'hour'];
  return [Math.floor(hours / 24), 'day'];
}
