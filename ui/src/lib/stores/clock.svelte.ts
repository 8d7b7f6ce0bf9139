/** The current time for "today"/"yesterday" labels, refreshed every half minute once started. */
export const now = $state({ value: Date.now() });

/** Starts refreshing `now`; returns a function that stops it. */
export function startClock(intervalMs = 30_000): () => void {
  const timer = setInterval(() => (now.value = Date.now()), intervalMs);
  return () => clearInterval(timer);
}
