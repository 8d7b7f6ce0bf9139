/**
 * Message styling (XEP-0393): a message's text read as blocks (plain lines, preformatted blocks
 * between ``` fences, > quotes, nested) and, in plain lines, spans (*strong*, _emphasis_,
 * ~strike~ and `pre`). The result is rendered as DOM nodes built from text, never as HTML. The
 * span directives stay in the text (shown dimmed), so what the reader copies is what was sent.
 *
 * The rules (§5): an opening directive is at the start of a line, after whitespace or after
 * another opening directive, and is not followed by whitespace; its closing directive is the
 * first same character on that line that is not preceded by whitespace and leaves at least one
 * character inside; an unclosed directive is plain text. A `pre` span holds no other styling; a
 * span never crosses a line, and (applied to each piece between links) never crosses a link.
 */

/** How a run of text is styled. */
export type Style = 'strong' | 'emphasis' | 'strike' | 'pre';

/** A run of text within a line, with the styles around it; `directive`: a styling character. */
export interface Span {
  text: string;
  styles: readonly Style[];
  directive: boolean;
}

/** A block of a message. */
export type Block =
  /** A line of text (spans are read from it when it is shown). */
  | { kind: 'line'; text: string }
  /** A preformatted block, fences included, shown as it is. */
  | { kind: 'pre'; lines: string[] }
  /** A quotation (its lines without their `>`), read as blocks again. */
  | { kind: 'quote'; blocks: Block[] };

const DIRECTIVES: Readonly<Record<string, Style>> = { '*': 'strong', _: 'emphasis', '~': 'strike', '`': 'pre' };

/** The blocks of `body` (XEP-0393 §5.1). */
export function parseBlocks(body: string): Block[] {
  return blocks(body.split('\n'));
}

function blocks(lines: readonly string[]): Block[] {
  const out: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.startsWith('```')) {
      // Until a line that is only the fence, or the end of the enclosing block.
      let end = i + 1;
      while (end < lines.length && lines[end] !== '```') end += 1;
      const last = Math.min(end, lines.length - 1);
      out.push({ kind: 'pre', lines: lines.slice(i, last + 1) });
      i = last + 1;
      continue;
    }
    if (line.startsWith('>')) {
      const inner: string[] = [];
      while (i < lines.length && lines[i]!.startsWith('>')) {
        inner.push(lines[i]!.slice(1).replace(/^ /u, ''));
        i += 1;
      }
      out.push({ kind: 'quote', blocks: blocks(inner) });
      continue;
    }
    out.push({ kind: 'line', text: line });
    i += 1;
  }
  return out;
}

const isSpace = (c: string | undefined) => c !== undefined && /\s/u.test(c);

/**
 * The spans of one line (or of a piece of one between links), XEP-0393 §5.2. Linear in the
 * length of the text, whatever its directives (10,000 unmatched asterisks included): each
 * directive's next valid closing position is known in advance.
 */
export function parseSpans(text: string): Span[] {
  return spans(text, 0, text.length, [], closings(text));
}

/** For each directive character, the first valid closing directive at or after each position. */
type Closings = Readonly<Record<string, Int32Array>>;

function closings(text: string): Closings {
  const next: Record<string, Int32Array> = {};
  for (const c of Object.keys(DIRECTIVES)) {
    const at = new Int32Array(text.length + 2).fill(-1);
    for (let j = text.length - 1; j >= 1; j -= 1) {
      at[j] = text[j] === c && !isSpace(text[j - 1]) ? j : at[j + 1]!;
    }
    next[c] = at;
  }
  return next;
}

function spans(text: string, start: number, end: number, styles: readonly Style[], next: Closings): Span[] {
  const out: Span[] = [];
  let plain = start;
  let i = start;
  while (i < end) {
    const c = text[i]!;
    const style = DIRECTIVES[c];
    const opens =
      style !== undefined &&
      !styles.includes(style) &&
      (i === start || isSpace(text[i - 1]) || DIRECTIVES[text[i - 1]!] !== undefined) &&
      i + 1 < end &&
      !isSpace(text[i + 1]);
    // The first valid closing directive that leaves at least one character inside.
    const found = opens ? (next[c]![i + 2] ?? -1) : -1;
    const close = found >= 0 && found < end ? found : -1;
    if (close < 0) {
      i += 1;
      continue;
    }
    if (plain < i) out.push({ text: text.slice(plain, i), styles, directive: false });
    const inner = [...styles, style!];
    out.push({ text: c, styles: inner, directive: true });
    if (style === 'pre') out.push({ text: text.slice(i + 1, close), styles: inner, directive: false });
    else out.push(...spans(text, i + 1, close, inner, next));
    out.push({ text: c, styles: inner, directive: true });
    i = close + 1;
    plain = i;
  }
  if (plain < end) out.push({ text: text.slice(plain, end), styles, directive: false });
  return out;
}


/** The blocks of `text`, or (its sender asked for no styling, `<unstyled/>`) one plain line. */
export function blocksOf(text: string, unstyled: boolean): Block[] {
  return unstyled ? [{ kind: 'line', text }] : parseBlocks(text);
}

/** The spans of a line, or (unstyled) the line as one plain span. */
export function spansOf(text: string, unstyled: boolean): Span[] {
  return unstyled ? [{ text, styles: [], directive: false }] : parseSpans(text);
}
