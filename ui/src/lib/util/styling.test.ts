import { describe, expect, it } from 'vitest';
import { blocksOf, parseBlocks, parseSpans, spansOf, type Span } from './styling';

/** A compact view: styled runs as `[styles]text`, directives as `{c}`, plain text as is. */
function show(spans: Span[]): string {
  return spans.map((s) => (s.directive ? `{${s.text}}` : s.styles.length > 0 ? `[${s.styles.join('+')}]${s.text}` : s.text)).join('');
}

describe('XEP-0393 spans', () => {
  it('reads the four styles', () => {
    expect(show(parseSpans('*strong* _emph_ ~strike~ `pre`'))).toBe(
      '{*}[strong]strong{*} {_}[emphasis]emph{_} {~}[strike]strike{~} {`}[pre]pre{`}',
    );
  });

  it('nests different styles, and nothing inside pre', () => {
    expect(show(parseSpans('*_both_*'))).toBe('{*}{_}[strong+emphasis]both{_}{*}');
    expect(show(parseSpans('`*not bold*`'))).toBe('{`}[pre]*not bold*{`}');
    expect(show(parseSpans('*`code`*'))).toBe('{*}{`}[strong+pre]code{`}{*}');
  });

  it('needs an opening after whitespace or the line start, not followed by whitespace', () => {
    expect(show(parseSpans('a*b*'))).toBe('a*b*');
    expect(show(parseSpans('* not*'))).toBe('* not*');
    expect(show(parseSpans('x *yes*'))).toBe('x {*}[strong]yes{*}');
  });

  it('closes at the first directive not preceded by whitespace, with something inside', () => {
    expect(show(parseSpans('**'))).toBe('**');
    expect(show(parseSpans('***'))).toBe('{*}[strong]*{*}');
    expect(show(parseSpans('*a *b*'))).toBe('{*}[strong]a *b{*}');
    expect(show(parseSpans('*open only'))).toBe('*open only');
    expect(show(parseSpans('_snake_case_'))).toBe('{_}[emphasis]snake{_}case_');
  });
});

describe('hostile styling', () => {
  it('reads 10,000 asterisks, and 10,000 directives that never close, in one pass', () => {
    const stars = '*'.repeat(10_000);
    expect(parseSpans(stars).map((s) => s.text).join('')).toBe(stars);
    const open = '*a _b ~c `d '.repeat(2_500);
    expect(parseSpans(open)).toEqual([{ text: open, styles: [], directive: false }]);
  });
});

describe('XEP-0393 blocks', () => {
  it('reads quotes, nested, and preformatted blocks that end at their fence or the end', () => {
    expect(parseBlocks('> one\n>> two\nplain\n```js\n*x*\n```\nafter\n```\nunclosed')).toEqual([
      { kind: 'quote', blocks: [{ kind: 'line', text: 'one' }, { kind: 'quote', blocks: [{ kind: 'line', text: 'two' }] }] },
      { kind: 'line', text: 'plain' },
      { kind: 'pre', lines: ['```js', '*x*', '```'] },
      { kind: 'line', text: 'after' },
      { kind: 'pre', lines: ['```', 'unclosed'] },
    ]);
  });

  it('ends a preformatted block inside a quote with the quote', () => {
    expect(parseBlocks('> ```\n> code\nout')).toEqual([
      { kind: 'quote', blocks: [{ kind: 'pre', lines: ['```', 'code'] }] },
      { kind: 'line', text: 'out' },
    ]);
  });

  it('leaves plain text as one line per line', () => {
    expect(parseBlocks('hi\n\nthere')).toEqual([
      { kind: 'line', text: 'hi' },
      { kind: 'line', text: '' },
      { kind: 'line', text: 'there' },
    ]);
  });
});

describe('<unstyled/>', () => {
  it('shows the text exactly as written when its sender asks', () => {
    const text = '> not a quote\n*not strong* and `not code`';
    expect(blocksOf(text, true)).toEqual([{ kind: 'line', text }]);
    expect(show(spansOf('*not strong*', true))).toBe('*not strong*');
    // Without the hint, the same text is styled.
    expect(blocksOf(text, false)[0]?.kind).toBe('quote');
    expect(show(spansOf('*strong*', false))).toBe('{*}[strong]strong{*}');
  });
});
