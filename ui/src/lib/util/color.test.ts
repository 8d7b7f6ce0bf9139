import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { consistentColor, hsluvToRgb, hueAngle } from './color';
import { sha1, sha1Utf8, toHex } from './sha1';

describe('sha1', () => {
  it('matches the FIPS 180 examples', () => {
    expect(toHex(sha1Utf8(''))).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(toHex(sha1Utf8('abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(toHex(sha1Utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '84983e441c3bd26ebaae4aa1f95129e5e54670f1',
    );
  });

  it('agrees with node:crypto on every length around the block boundaries', () => {
    for (let length = 0; length < 200; length++) {
      const data = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff);
      expect(toHex(sha1(data)), `length ${length}`).toBe(
        createHash('sha1').update(data).digest('hex'),
      );
    }
  });
});

// Test vectors of XEP-0392 0.8, Appendix: hue angle, then the HSLuv (S=100, L=50) RGB.
const VECTORS: [string, number, [number, number, number]][] = [
  ['Romeo', 327.255249, [0.865, 0.0, 0.686]],
  ['juliet@capulet.lit', 209.4104, [0.0, 0.515, 0.573]],
  ['😺', 331.199341, [0.872, 0.0, 0.659]],
  ['council', 359.994507, [0.918, 0.0, 0.394]],
];

describe('XEP-0392', () => {
  it.each(VECTORS)('gives %j the hue and colour of the test vectors', (input, hue, rgb) => {
    expect(hueAngle(input)).toBeCloseTo(hue, 5);
    const actual = hsluvToRgb(hueAngle(input), 100, 50);
    actual.forEach((c, i) => expect(c).toBeCloseTo(rgb[i]!, 3));
  });

  it('is consistent and a CSS hex colour', () => {
    const a = consistentColor('alice@example.org');
    expect(a).toMatch(/^#[0-9a-f]{6}$/);
    expect(consistentColor('alice@example.org')).toBe(a);
    expect(consistentColor('bob@example.org')).not.toBe(a);
  });

  it('keeps hues in range for many inputs', () => {
    for (let i = 0; i < 500; i++) {
      const hue = hueAngle(`user${i}@example.org`);
      expect(hue).toBeGreaterThanOrEqual(0);
      expect(hue).toBeLessThan(360);
    }
  });
});
