/**
 * XEP-0392 (Consistent Color Generation) 0.8: a colour derived from a string such as a JID, the
 * same in every client.
 *
 * - §5.1 hue: SHA-1 of the UTF-8 input; its first two bytes as a little-endian 16-bit number,
 *   divided by 65536 and scaled to 360°.
 * - §5.2 colour: HSLuv with that hue, saturation 100 and lightness 50.
 */
import { sha1Utf8 } from './sha1';

/** The XEP-0392 hue angle of `input`, in degrees [0, 360). */
export function hueAngle(input: string): number {
  const digest = sha1Utf8(input);
  const value = digest[0]! | (digest[1]! << 8);
  return (value / 65536) * 360;
}

// HSLuv (https://www.hsluv.org/), the reference algorithm reduced to HSLuv → sRGB.
const M: readonly (readonly [number, number, number])[] = [
  [3.240969941904521, -1.537383177570093, -0.498610760293],
  [-0.96924363628087, 1.87596750150772, 0.041555057407175],
  [0.055630079696993, -0.20397695888897, 1.056971514242878],
];
const REF_U = 0.19783000664283;
const REF_V = 0.46831999493879;
const KAPPA = 903.2962962;
const EPSILON = 0.0088564516;

function maxChroma(l: number, hDegrees: number): number {
  const sub1 = (l + 16) ** 3 / 1560896;
  const sub2 = sub1 > EPSILON ? sub1 : l / KAPPA;
  const hrad = (hDegrees / 360) * 2 * Math.PI;
  let min = Number.POSITIVE_INFINITY;
  for (const [m1, m2, m3] of M) {
    for (const t of [0, 1]) {
      const top1 = (284517 * m1 - 94839 * m3) * sub2;
      const top2 = (838422 * m3 + 769860 * m2 + 731718 * m1) * l * sub2 - 769860 * t * l;
      const bottom = (632260 * m3 - 126452 * m2) * sub2 + 126452 * t;
      const length = top2 / bottom / (Math.sin(hrad) - (top1 / bottom) * Math.cos(hrad));
      if (length >= 0) min = Math.min(min, length);
    }
  }
  return min;
}

function fromLinear(c: number): number {
  return c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
}

/** HSLuv (h in degrees, s and l in 0–100) to sRGB components in 0–1. */
export function hsluvToRgb(h: number, s: number, l: number): [number, number, number] {
  if (l > 99.9999999) return [1, 1, 1];
  if (l < 1e-8) return [0, 0, 0];
  const c = (maxChroma(l, h) / 100) * s;
  const hrad = (h / 360) * 2 * Math.PI;
  const u = Math.cos(hrad) * c;
  const v = Math.sin(hrad) * c;
  // LUV → XYZ
  const varU = u / (13 * l) + REF_U;
  const varV = v / (13 * l) + REF_V;
  const y = l <= 8 ? l / KAPPA : ((l + 16) / 116) ** 3;
  const x = -(9 * y * varU) / ((varU - 4) * varV - varU * varV);
  const z = (9 * y - 15 * varV * y - varV * x) / (3 * varV);
  const rgb = M.map(([a, b, cc]) => fromLinear(a * x + b * y + cc * z));
  return rgb.map((component) => Math.min(1, Math.max(0, component))) as [number, number, number];
}

const cache = new Map<string, string>();

/** The XEP-0392 colour of `input` as a CSS `#rrggbb` string. */
export function consistentColor(input: string): string {
  let color = cache.get(input);
  if (color === undefined) {
    const rgb = hsluvToRgb(hueAngle(input), 100, 50);
    color = `#${rgb.map((c) => Math.round(c * 255).toString(16).padStart(2, '0')).join('')}`;
    if (cache.size > 2000) cache.clear();
    cache.set(input, color);
  }
  return color;
}
