import { describe, expect, it } from 'vitest';
import { useFakeTime } from '$lib/testing/time';
import { UnreadStore, windowTitle } from './unread.svelte';

useFakeTime();

describe('UnreadStore', () => {
  it('counts per chat and in total from unread_changed', () => {
    const unread = new UnreadStore();
    unread.apply({ account: 1, peer: 'a@x' }, 3, 3);
    unread.apply({ account: 1, peer: 'b@x' }, 1, 4);
    expect(unread.count(1, 'a@x')).toBe(3);
    expect(unread.count(1, 'b@x')).toBe(1);
    expect(unread.count(2, 'a@x')).toBe(0);
    expect(unread.title).toBe('Charla (4)');
    unread.apply({ account: 1, peer: 'a@x' }, 0, 1);
    expect(unread.count(1, 'a@x')).toBe(0);
    expect(unread.counts.size).toBe(1);
    expect(unread.title).toBe('Charla (1)');
    unread.apply({ account: 1, peer: 'b@x' }, 0, 0);
    expect(unread.title).toBe('Charla');
    expect(unread.count(null, 'b@x')).toBe(0);
  });

  it('titles the window', () => {
    expect(windowTitle(0)).toBe('Charla');
    expect(windowTitle(12)).toBe('Charla (12)');
  });
});
