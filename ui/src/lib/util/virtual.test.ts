import { describe, expect, it } from 'vitest';
import { anchorAt, rowAt, rowOffsets, scrollTopFor, visibleRange } from './virtual';

const keys = (n: number, prefix = 'r') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('rowOffsets', () => {
  it('uses measured heights and the estimate for the rest', () => {
    const offsets = rowOffsets(['a', 'b', 'c'], new Map([['b', 100]]), () => 40);
    expect(offsets).toEqual([0, 40, 140, 180]);
  });
});

describe('visibleRange', () => {
  const offsets = rowOffsets(keys(1000), new Map(), () => 50);

  it('renders only the rows in view plus the overscan', () => {
    expect(visibleRange(offsets, 0, 500, 0)).toEqual({ start: 0, end: 11 });
    const range = visibleRange(offsets, 10_000, 500, 200);
    expect(range).toEqual({ start: 196, end: 215 });
    expect(range.end - range.start).toBeLessThan(30);
  });

  it('clamps to the list', () => {
    expect(visibleRange(offsets, 49_800, 500, 200)).toEqual({ start: 992, end: 1000 });
    expect(visibleRange([0], 0, 500, 100)).toEqual({ start: 0, end: 0 });
  });

  it('handles rows of different heights', () => {
    const mixed = rowOffsets(['a', 'b', 'c', 'd'], new Map([['a', 10], ['b', 300], ['c', 10], ['d', 10]]), () => 0);
    expect(rowAt(mixed, 5)).toBe(0);
    expect(rowAt(mixed, 200)).toBe(1);
    expect(rowAt(mixed, 315)).toBe(2);
    expect(visibleRange(mixed, 100, 50, 0)).toEqual({ start: 1, end: 2 });
  });
});

describe('scroll anchoring', () => {
  it('keeps the row in view in place when older rows are added above', () => {
    const before = keys(50, 'm');
    const offsetsBefore = rowOffsets(before, new Map(), () => 30);
    const anchor = anchorAt(before, offsetsBefore, 95)!;
    expect(anchor).toEqual({ key: 'm3', delta: 5 });
    const after = [...keys(20, 'old'), ...before];
    const offsetsAfter = rowOffsets(after, new Map(), () => 30);
    expect(scrollTopFor(anchor, after, offsetsAfter)).toBe(20 * 30 + 95);
  });

  it('compensates for rows above that were re-measured', () => {
    const list = keys(10);
    const anchor = anchorAt(list, rowOffsets(list, new Map(), () => 30), 150)!;
    const measured = rowOffsets(list, new Map([['r0', 80]]), () => 30);
    expect(scrollTopFor(anchor, list, measured)).toBe(200);
  });

  it('gives up when the anchor row is gone', () => {
    expect(scrollTopFor({ key: 'x', delta: 0 }, keys(3), [0, 1, 2, 3])).toBeNull();
    expect(anchorAt([], [0], 0)).toBeNull();
  });
});
