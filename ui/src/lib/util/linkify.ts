/**
 * Splits message text into plain text and links. Only http, https, mailto and xmpp links are
 * recognised (a `www.` address becomes an https link, a mailto link keeps only its addresses);
 * anything else, such as `javascript:`, `file:` or `aesgcm://`, stays text, including any `www.`
 * inside it. The backend checks the scheme again before opening anything; xmpp links
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
// character that cannot be part of a link written in prose (<>"` and the like). Any other
// `scheme://` address is matched too, as a whole, so that nothing inside it becomes a link: the
// `www.` of `aesgcm://www.host/f#key` must not become `https://www.host/f#key` (that would hand
// the key in the fragment to the host). `www.` right after `:`, `/` or `@` is not a word start.
const CHAR = '[^\\s<>"`{}|\\\\^]';
const CANDIDATE = new RegExp(
  '(?<![\\p{L}\\p{N}_.+-])(?:' +
    [
      `https?:\\/\\/${CHAR}+`,
      `(?<![:/@])www\\.${CHAR}+`,
      `(?:mailto|xmpp):[^\\s<>"\`{}|\\\\^/]${CHAR}*`,
      `\\p{L}[\\p{L}\\p{N}+.-]*:\\/\\/${CHAR}*`,
    ].join('|') +
    ')',
  'giu',
);

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

/**
 * What a link opens: `www.` becomes https; a mailto link keeps only its addresses. Its header
 * fields are dropped, all of them: `attach=` could make the mail program attach a local file,
 * `cc=`/`bcc=` copy someone in, and `subject=`/`body=` put the sender's words in the user's mail
 * (the shell's `open_link` drops them too).
 */
function hrefOf(linkText: string): string {
  if (/^www\./iu.test(linkText)) return `https://${linkText}`;
  if (/^mailto:/iu.test(linkText)) return linkText.replace(/[?#].*$/su, '');
  return linkText;
}

/** Splits `text` into segments; concatenating their `text` gives back the input. */
export function linkify(text: string): Segment[] {
  const segments: Segment[] = [];
  let plainStart = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const start = match.index;
    const linkText = trimEnd(match[0]);
    const href = hrefOf(linkText);
    if (!isAllowedLink(href)) continue;
    if (start > plainStart) segments.push({ kind: 'text', text: text.slice(plainStart, start) });
    segments.push({ kind: 'link', text: linkText, href });
    plainStart = start + linkText.length;
  }
  if (plainStart < text.length) segments.push({ kind: 'text', text: text.slice(plainStart) });
  return segments;
}
