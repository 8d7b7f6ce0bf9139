import { describe, expect, it } from 'vitest';
import { isAllowedLink, linkify, type Segment } from './linkify';

const links = (text: string) =>
  linkify(text)
    .filter((s): s is Extract<Segment, { kind: 'link' }> => s.kind === 'link')
    .map((s) => s.href);

describe('isAllowedLink', () => {
  it.each([
    'https://example.org/a?b=c',
    'http://example.org',
    'HTTPS://EXAMPLE.ORG',
    'mailto:bob@example.org',
    'xmpp:bob@example.org?message',
  ])('allows %j', (url) => expect(isAllowedLink(url)).toBe(true));

  it.each([
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'file:///etc/passwd',
    'data:text/html,<b>x</b>',
    'ftp://example.org',
    'vbscript:msgbox',
    'https://exa mple.org',
    'https://example.org/\n',
    'https:',
    'https://',
    'http:example.org',
    'example.org',
    'mailto:',
    '',
  ])('refuses %j', (url) => expect(isAllowedLink(url)).toBe(false));
});

describe('linkify', () => {
  it('leaves text without links as one segment', () => {
    expect(linkify('hello there')).toEqual([{ kind: 'text', text: 'hello there' }]);
    expect(linkify('')).toEqual([]);
  });

  it('finds links among text and keeps every character', () => {
    const text = 'see https://example.org/path?q=1#x and mailto:a@b.c, or xmpp:room@muc.example?join.';
    const segments = linkify(text);
    expect(segments.map((s) => s.text).join('')).toBe(text);
    expect(links(text)).toEqual([
      'https://example.org/path?q=1#x',
      'mailto:a@b.c',
      'xmpp:room@muc.example?join',
    ]);
  });

  it('turns www. addresses into https links', () => {
    expect(linkify('go to www.example.org.')).toEqual([
      { kind: 'text', text: 'go to ' },
      { kind: 'link', text: 'www.example.org', href: 'https://www.example.org' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('drops trailing punctuation and unbalanced brackets', () => {
    expect(links('(see https://example.org/a)')).toEqual(['https://example.org/a']);
    expect(links('https://en.wikipedia.org/wiki/Foo_(bar)')).toEqual([
      'https://en.wikipedia.org/wiki/Foo_(bar)',
    ]);
    expect(links('really? https://example.org!!!')).toEqual(['https://example.org']);
    expect(links('«https://example.org/x»')).toEqual(['https://example.org/x']);
  });

  it('never makes other schemes clickable', () => {
    for (const text of [
      'javascript:alert(1)',
      'click javascript://%0aalert(1)',
      'file:///etc/passwd',
      'data:text/html;base64,PHNjcmlwdD4=',
      'ftp://example.org',
      'xhttps://example.org',
      'nothttp://example.org',
    ]) {
      expect(links(text), text).toEqual([]);
      expect(linkify(text).map((s) => s.text).join('')).toBe(text);
    }
  });

  it('does not start a link in the middle of a word', () => {
    expect(links('foohttps://example.org')).toEqual([]);
    expect(links('a.www.example.org')).toEqual([]);
  });

  it('never turns a www. inside another scheme\'s address into a web link', () => {
    // An aesgcm:// link (XEP-0454) carries its key in the fragment: an https link made of it
    // would hand the key to that host.
    for (const text of [
      'aesgcm://www.example.org/file.jpg#0123456789abcdef',
      'see aesgcm://www.example.org/f#key!',
      'ftp://www.example.org/pub',
      'file:///www.example.org/x',
      'x-custom+scheme.v1://www.example.org',
      'aesgcm://host.example/www.example.org/f#key',
      'aesgcm://host.example/f?u=www.example.org#key',
      'aesgcm:www.example.org',
      'bob@www.example.org',
    ]) {
      expect(links(text), text).toEqual([]);
      expect(linkify(text).map((s) => s.text).join(''), text).toBe(text);
    }
  });

  it('still finds links next to another scheme\'s address', () => {
    expect(links('aesgcm://h.example/f#k and www.example.org')).toEqual(['https://www.example.org']);
    expect(links('(www.example.org)')).toEqual(['https://www.example.org']);
    expect(links('"www.example.org"')).toEqual(['https://www.example.org']);
    expect(links('https://www.example.org/a')).toEqual(['https://www.example.org/a']);
  });

  it('keeps only the addresses of a mailto link', () => {
    const text = 'mailto:bob@example.org?attach=/etc/passwd&cc=eve@example.org';
    expect(linkify(text)).toEqual([{ kind: 'link', text, href: 'mailto:bob@example.org' }]);
    expect(links('mailto:a@b.c,d@e.f?bcc=eve@example.org')).toEqual(['mailto:a@b.c,d@e.f']);
    expect(links('mailto:bob@example.org?subject=Hi&body=there')).toEqual(['mailto:bob@example.org']);
    expect(links('mailto:bob@example.org#frag')).toEqual(['mailto:bob@example.org']);
    expect(links('mailto:?to=bob@example.org&attach=/etc/passwd')).toEqual([]);
  });

  it('treats markup as text', () => {
    const text = '<a href="javascript:alert(1)">https://example.org</a>';
    expect(links(text)).toEqual(['https://example.org']);
    expect(linkify(text).map((s) => s.text).join('')).toBe(text);
  });

  it('needs a host for web links', () => {
    expect(links('https:// nothing')).toEqual([]);
    expect(links('http://')).toEqual([]);
  });
});
