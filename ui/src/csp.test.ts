/**
 * The production CSP (src-tauri/tauri.conf.json) allows scripts and styles from the app only:
 * no inline scripts, no style attributes, no eval. These checks keep the sources within it.
 * (Svelte's `style:` directive sets CSSOM properties, which the CSP allows.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'bindings' ? [] : sources(path);
    return /\.(svelte|ts)$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = sources(join(root, 'src')).map((path) => ({
  path: relative(root, path),
  text: readFileSync(path, 'utf8'),
}));

describe('CSP-safe sources', () => {
  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it.each([
    ['no {@html}', /\{@html/],
    ['no innerHTML/outerHTML/insertAdjacentHTML', /\.(innerHTML|outerHTML|insertAdjacentHTML)\b/],
    ['no style attribute strings', /\sstyle="/],
    ['no setAttribute("style")', /setAttribute\(\s*['"]style/],
    ['no eval or Function constructor', /\beval\(|new Function\(/],
    ['no inline event handler strings', /\son[a-z]+="/],
    ['no remote URLs in src attributes', /\ssrc=["']?https?:/],
  ])('%s', (_name, pattern) => {
    for (const { path, text } of files) expect(text, path).not.toMatch(pattern);
  });

  it('index.html loads only the module entry point', () => {
    const html = readFileSync(join(root, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]?.[0]).toContain('type="module" src="/src/main.ts"');
    expect(scripts[0]?.[1]?.trim()).toBe('');
    expect(html).not.toMatch(/<style|\sstyle=/);
  });

  it('the production CSP stays strict', () => {
    const conf = JSON.parse(readFileSync(join(root, '../src-tauri/tauri.conf.json'), 'utf8')) as {
      app: { security: { csp: Record<string, string> } };
    };
    const csp = conf.app.security.csp;
    expect(csp['script-src']).toBe("'self'");
    expect(csp['style-src']).not.toContain('unsafe-inline');
    expect(csp['default-src']).toBe("'self'");
  });
});
