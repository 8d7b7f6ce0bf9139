/**
 * Splits message text into plain text and links. Only http, https, mailto and xmpp links are
 * recognised (a `www.` address becomes an https link); anything else, such as `javascript:` or
 * `file:`, stays text. The backend checks the scheme again before opening anything; xmpp links
 * open in Charla itself (`LinkStore`).
 */

export type Segment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

export const LINK_SCHEMES = ['http', 'https', 'mailto', 'xmpp'] as const;

/** Whether `url` may be opened: an allowed scheme, something after it, no spaces or controls. */
export function isAllowedLink(url: string): boolean {
  const colon = url.indexOf(':');
  if (colon <= 0) return false;
  const scheme = url.slice(0, colon).toLowerCase();
  if (!(LINK_SCHEMES as readonly string[]).includes(scheme)) return false;
  const rest = url.slice(colon + 1);
  if (rest === '' || /[\s\p{Cc}]/u.test(url)) return false;
  if (scheme === 'http' || scheme === 'https') return /^\/\/[^/?#\s]+/u.test(rest);
  return !rest.startsWith('/');
}

// A candidate: a scheme we accept, or "www.", at a word start, up to the next whitespace or
// character that cannot be part of a link written in prose (<>"` and the like).
const CANDIDATE =
  /(?<![\p{L}\p{N}_.+-])(?:(?:https?:\/\/|www\.)[^\s<>"`{}|\\^]+|(?:mailto|xmpp):[^\s<>"`{}|\\^/][^\s<>"`{}|\\^]*)/giu;

const TRAILING = /[.,;:!?'’”»*_~]+$/u;
const PAIRS: Readonly<Record<string, string>> = { ')': '(', ']': '[', '}': '{' };

/** Drops trailing punctuation and closing brackets that are not part of the link. */
function trimEnd(candidate: string): string {
  let text = candidate;
  for (;;) {
    const before = text;
    text = text.replace(TRAILING, '');
    const last = text.at(-1);
    const open = last === undefined ? undefined : PAIRS[last];
    if (open !== undefined) {
      const opens = text.split(open).length - 1;
      const closes = text.split(last!).length - 1;
      if (closes > opens) text = text.slice(0, -1);
    }
    if (text === before) return text;
  }
}

/** Splits `text` into segments; concatenating their `text` gives back the input. */
export function linkify(text: string): Segment[] {
  const segments: Segment[] = [];
  let plainStart = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const start = match.index;
    const linkText = trimEnd(match[0]);
    const href = /^www\./iu.test(linkText) ? `https://${linkText}` : linkText;
    if (!isAllowedLink(href)) continue;
    if (start > plainStart) segments.push({ kind: 'text', text: text.slice(plainStart, start) });
    segments.push({ kind: 'link', text: linkText, href });
    plainStart = start + linkText.length;
  }
  if (plainStart < text.length) segments.push({ kind: 'text', text: text.slice(plainStart) });
  return segments;
}
