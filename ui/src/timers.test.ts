/**
 * No test waits on real time: the test files that run stores or components do so on fake timers
 * (`useFakeTime`, `$lib/testing/time`), move time on with `vi.advanceTimersByTime` and let promise
 * chains settle with `flush`; none sleeps, polls or waits on a real timer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

function tests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tests(path);
    return entry.name.endsWith('.test.ts') && path !== import.meta.filename ? [path] : [];
  });
}

const files = tests(join(root, 'src')).map((path) => ({
  path: relative(root, path),
  text: readFileSync(path, 'utf8'),
}));

/** What waits on the wall clock, or leaves the fake one. */
const REAL_TIME = /\b(setTimeout|setInterval|setImmediate|sleep|waitFor|useRealTimers)\(|performance\.now/;

/** What runs stores or components, whose timers and promises a test must control. */
const RUNS_STORES = /new (AppStore|\w+Store)\(|from '(svelte\/server|\.\/App\.svelte)'/;

describe('tests and time', () => {
  it('finds the test files', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [f.path, f.text]))('%s never waits on real time', (_, text) => {
    expect(text).not.toMatch(REAL_TIME);
  });

  it.each(files.filter((f) => RUNS_STORES.test(f.text)).map((f) => [f.path, f.text]))(
    '%s runs on fake timers',
    (_, text) => {
      expect(text).toContain('useFakeTime();');
    },
  );
});
