import { describe, expect, it } from 'vitest';
import { useFakeTime } from '$lib/testing/time';
import { DICTIONARIES, LOCALES } from '$lib/i18n';
import {
  ContextMenuStore,
  linkText,
  menuItems,
  placeMenu,
  type MenuEffects,
  type MenuTarget,
} from './contextmenu.svelte';

useFakeTime();

const plain: MenuTarget = { selection: '', link: null, editable: false };

const actions = (target: Partial<MenuTarget>) => menuItems({ ...plain, ...target }).map((i) => i.action);

/** Effects that record what the menu did. */
function recorder() {
  const done: string[] = [];
  const effects: MenuEffects = {
    copyText: (text) => void done.push(`copy:${text}`),
    cut: () => void done.push('cut'),
    openLink: (url) => void done.push(`open:${url}`),
    selectAll: () => void done.push('selectAll'),
  };
  return { done, effects };
}

describe('menuItems', () => {
  it('offers Select all on anything, and Copy only with a selection', () => {
    expect(actions({})).toEqual(['selectAll']);
    expect(actions({ selection: 'hello' })).toEqual(['copy', 'selectAll']);
  });

  it('offers Cut in a text field with a selection', () => {
    expect(actions({ editable: true })).toEqual(['selectAll']);
    expect(actions({ editable: true, selection: 'x' })).toEqual(['cut', 'copy', 'selectAll']);
  });

  it('offers opening and copying a link Charla opens', () => {
    expect(actions({ link: 'https://example.org/a' })).toEqual(['openLink', 'copyLink', 'selectAll']);
    expect(actions({ link: 'https://example.org', selection: 'see' })).toEqual([
      'openLink',
      'copyLink',
      'copy',
      'selectAll',
    ]);
    const labels = (link: string) => menuItems({ ...plain, link }).map((i) => i.label);
    expect(labels('https://example.org')).toEqual(['menu.openLink', 'menu.copyLink', 'menu.selectAll']);
    expect(labels('mailto:bob@example.org')).toEqual(['menu.openMail', 'menu.copyMail', 'menu.selectAll']);
    expect(labels('xmpp:bob@example.org?message')).toEqual(['menu.openXmpp', 'menu.copyLink', 'menu.selectAll']);
  });

  it('offers nothing for links of other kinds', () => {
    for (const link of ['javascript:alert(1)', 'file:///etc/passwd', 'data:text/html,x', '#top', '/index.html', '']) {
      expect(actions({ link }), link).toEqual(['selectAll']);
    }
  });

  it('separates the groups', () => {
    const items = menuItems({ selection: 'x', link: 'https://example.org', editable: false });
    expect(items.map((i) => i.separated)).toEqual([false, false, true, true]);
    expect(menuItems(plain).map((i) => i.separated)).toEqual([false]);
  });

  it('has every label in every language', () => {
    const targets: MenuTarget[] = [
      { selection: 'x', link: 'https://example.org', editable: true },
      { selection: '', link: 'mailto:a@b.c', editable: false },
      { selection: '', link: 'xmpp:a@b.c', editable: false },
    ];
    for (const locale of LOCALES) {
      for (const item of targets.flatMap(menuItems)) expect(DICTIONARIES[locale][item.label], item.label).toBeTruthy();
      expect(DICTIONARIES[locale]['menu.label']).toBeTruthy();
    }
  });
});

describe('linkText', () => {
  it('copies web and xmpp links as they are, and mail addresses without mailto:', () => {
    expect(linkText('https://example.org/a?b#c')).toBe('https://example.org/a?b#c');
    expect(linkText('xmpp:bob@example.org?message')).toBe('xmpp:bob@example.org?message');
    expect(linkText('mailto:bob@example.org')).toBe('bob@example.org');
    expect(linkText('MAILTO:b%C3%B6b@example.org,al@example.org')).toBe('böb@example.org,al@example.org');
    expect(linkText('mailto:bad%zz@example.org')).toBe('bad%zz@example.org');
  });
});

describe('placeMenu', () => {
  const viewport = { width: 800, height: 600 };
  const size = { width: 200, height: 150 };
  it('opens at the pointer when it fits', () => {
    expect(placeMenu({ x: 100, y: 120 }, size, viewport)).toEqual({ x: 100, y: 120 });
  });
  it('moves left and up to stay in the window', () => {
    expect(placeMenu({ x: 750, y: 590 }, size, viewport)).toEqual({ x: 596, y: 446 });
  });
  it('keeps the top left corner in the window when it is larger', () => {
    expect(placeMenu({ x: 10, y: 10 }, { width: 900, height: 700 }, viewport)).toEqual({ x: 4, y: 4 });
  });
});

describe('ContextMenuStore', () => {
  it('opens, runs an item once and closes', async () => {
    const store = new ContextMenuStore();
    const { done, effects } = recorder();
    store.open({ selection: 'hello', link: 'https://example.org/x', editable: false }, 10, 20, effects);
    expect(store.menu?.items.map((i) => i.action)).toEqual(['openLink', 'copyLink', 'copy', 'selectAll']);
    expect(store.menu).toMatchObject({ x: 10, y: 20 });
    expect(store.active).toBe(-1);
    await store.run('openLink');
    expect(store.menu).toBeNull();
    expect(done).toEqual(['open:https://example.org/x']);
    await store.run('copy');
    expect(done).toEqual(['open:https://example.org/x']);
  });

  it('does what each item says', async () => {
    const target: MenuTarget = { selection: 'some text', link: 'mailto:bob@example.org', editable: true };
    const results: string[] = [];
    for (const action of ['openLink', 'copyLink', 'cut', 'copy', 'selectAll'] as const) {
      const store = new ContextMenuStore();
      const { done, effects } = recorder();
      store.open(target, 0, 0, effects);
      await store.run(action);
      results.push(...done);
    }
    expect(results).toEqual(['open:mailto:bob@example.org', 'copy:bob@example.org', 'cut', 'copy:some text', 'selectAll']);
  });

  it('refuses actions the menu does not show', async () => {
    const store = new ContextMenuStore();
    const { done, effects } = recorder();
    store.open({ selection: '', link: 'javascript:alert(1)', editable: false }, 0, 0, effects);
    await store.run('openLink');
    await store.run('copy');
    await store.run('cut');
    expect(done).toEqual([]);
    expect(store.menu).not.toBeNull();
    await store.run('selectAll');
    expect(done).toEqual(['selectAll']);
  });

  it('is worked from the keyboard', async () => {
    const store = new ContextMenuStore();
    const { done, effects } = recorder();
    store.open({ selection: 'x', link: 'https://example.org', editable: false }, 0, 0, effects, true);
    expect(store.active).toBe(0);
    store.move(1);
    store.move(1);
    expect(store.active).toBe(2);
    store.move(1);
    store.move(1);
    expect(store.active).toBe(0);
    store.move(-1);
    expect(store.active).toBe(3);
    store.moveTo('first');
    store.move(1);
    await store.runActive();
    expect(done).toEqual(['copy:https://example.org']);
    expect(store.menu).toBeNull();
  });

  it('starts keyboard focus at either end after a click', () => {
    const store = new ContextMenuStore();
    const { effects } = recorder();
    store.open(plain, 0, 0, effects);
    store.move(-1);
    expect(store.active).toBe(0);
    store.open({ ...plain, selection: 'x' }, 0, 0, effects);
    expect(store.active).toBe(-1);
    store.move(-1);
    expect(store.active).toBe(1);
    store.close();
    store.move(1);
    expect(store.active).toBe(-1);
  });
});
