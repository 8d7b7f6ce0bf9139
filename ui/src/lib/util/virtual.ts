/**
 * The arithmetic of a virtualized list with rows of different heights: row offsets from measured
 * heights (or an estimate), the range of rows to render for a scroll position, and the anchor
 * that keeps what the user looks at in place when rows are added above or re-measured.
 */

/** `offsets[i]` is the top of row `i`; `offsets[n]` is the total height. */
export function rowOffsets(keys: readonly string[], heights: ReadonlyMap<string, number>, estimate: (index: number) => number): number[] {
  const offsets = new Array<number>(keys.length + 1);
  let top = 0;
  for (let i = 0; i < keys.length; i++) {
    offsets[i] = top;
    top += heights.get(keys[i]!) ?? estimate(i);
  }
  offsets[keys.length] = top;
  return offsets;
}

/** The index of the row at vertical position `y` (clamped to the rows). */
export function rowAt(offsets: readonly number[], y: number): number {
  const n = offsets.length - 1;
  if (n <= 0) return 0;
  // Last i with offsets[i] <= y.
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface Range {
  /** First row to render. */
  start: number;
  /** One past the last row to render. */
  end: number;
}

/** The rows intersecting the viewport, widened by `overscan` pixels on each side. */
export function visibleRange(offsets: readonly number[], scrollTop: number, viewport: number, overscan: number): Range {
  const n = offsets.length - 1;
  if (n <= 0) return { start: 0, end: 0 };
  const start = rowAt(offsets, Math.max(0, scrollTop - overscan));
  const end = Math.min(n, rowAt(offsets, scrollTop + viewport + overscan) + 1);
  return { start, end };
}

export interface Anchor {
  key: string;
  /** How far below that row's top the viewport starts. */
  delta: number;
}

/** The row at the top of the viewport and the offset into it. */
export function anchorAt(keys: readonly string[], offsets: readonly number[], scrollTop: number): Anchor | null {
  if (keys.length === 0) return null;
  const index = rowAt(offsets, scrollTop);
  return { key: keys[index]!, delta: scrollTop - offsets[index]! };
}

/** Where to scroll so that the anchor row is where it was, or `null` if it is gone. */
export function scrollTopFor(anchor: Anchor, keys: readonly string[], offsets: readonly number[]): number | null {
  const index = keys.indexOf(anchor.key);
  return index < 0 ? null : offsets[index]! + anchor.delta;
}
