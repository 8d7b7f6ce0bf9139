/**
 * Time in tests: stores and components run on Vitest's fake timers, from a fixed instant, and a
 * test moves time on itself (`vi.advanceTimersByTime`). Nothing waits on the wall clock.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { T0 } from './fixtures';

/** Where the fake clock starts: an hour after `T0`, after the fixtures' messages. */
export const START = T0 + 3_600_000;

/** Runs each test of the calling file on fake timers, from `START`. */
export function useFakeTime(): void {
  beforeEach(() => {
    vi.useFakeTimers({ now: START });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

/** How many microtask turns `flush` yields: far more than any promise chain of the stores. */
const TURNS = 100;

/**
 * Lets the promise callbacks that are due run, by yielding microtask turns only: no timer fires
 * (advance the fake clock for those) and no real time passes.
 */
export async function flush(): Promise<void> {
  for (let i = 0; i < TURNS; i++) await Promise.resolve();
}
