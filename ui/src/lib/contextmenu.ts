/**
 * The window's side of Charla's context menu (`stores/contextmenu.svelte.ts`): every
 * `contextmenu` event (right-click, the Menu key, Shift+F10) is stopped before WebKit shows its
 * own menu, read into a `MenuTarget` and handed to the store with the effects that touch the DOM
 * and the clipboard. In a debug build (`AppInfo.devtools`) Shift+right-click is let through, for
 * WebKit's "Inspect Element".
 */
import type { ContextMenuStore, MenuEffects, MenuTarget, MessageMenu, MessageMenuAction } from '$lib/stores/contextmenu.svelte';

/** A message's menu, as its row gives it (see {@link messageMenu}). */
export interface MessageMenuSource {
  menu(): MessageMenu | null;
  act(action: MessageMenuAction, emoji?: string): void;
}

const messageSources = new WeakMap<Element, MessageMenuSource>();

/**
 * Makes an element a message's: a context menu opened in it starts with the message's actions.
 * (A Svelte attachment: `{@attach messageMenu(source)}`.)
 */
export function messageMenu(source: MessageMenuSource): (node: Element) => () => void {
  return (node) => {
    messageSources.set(node, source);
    node.setAttribute('data-message-menu', '');
    return () => messageSources.delete(node);
  };
}

/**
 * Opens the context menu from `element` as the Menu key does (`fromKeyboard`: at the element,
 * focus on the first item) or as a click does (below the element): the ⋯ button and Enter on a
 * message.
 */
export function openMenuFrom(element: Element, fromKeyboard: boolean): void {
  const rect = element.getBoundingClientRect();
  element.dispatchEvent(
    new MouseEvent('contextmenu', {
      bubbles: true,
      cancelable: true,
      button: fromKeyboard ? 0 : 2,
      clientX: fromKeyboard ? 0 : rect.left,
      clientY: fromKeyboard ? 0 : rect.bottom,
    }),
  );
}

export interface ContextMenuHost {
  menu: ContextMenuStore;
  openLink(url: string): Promise<void>;
  /** Whether WebKit's developer tools are on (a debug build). */
  devtools(): boolean;
}

type Field = HTMLInputElement | HTMLTextAreaElement;

/** Input types whose text can be selected (no password: its text is never copied). */
const TEXT_INPUTS = new Set(['text', 'search', 'url', 'email', 'tel', 'number']);

function fieldOf(element: Element): Field | null {
  const field = element.closest('input, textarea');
  if (field instanceof HTMLTextAreaElement) return field;
  if (field instanceof HTMLInputElement && TEXT_INPUTS.has(field.type)) return field;
  return null;
}

function fieldSelection(field: Field): string {
  try {
    const { selectionStart, selectionEnd, value } = field;
    return selectionStart === null || selectionEnd === null ? '' : value.slice(selectionStart, selectionEnd);
  } catch {
    return ''; // a type without a selection API (number)
  }
}

/** Copies `text`: the async clipboard API, else a hidden field and `execCommand('copy')`. */
async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // Not allowed here: fall back to the editing command, which a user's click may run.
  }
  const focused = document.activeElement;
  const scratch = document.createElement('textarea');
  scratch.value = text;
  scratch.setAttribute('readonly', '');
  scratch.style.cssText = 'position:fixed;left:-9999px;top:0;opacity:0';
  document.body.append(scratch);
  scratch.select();
  try {
    document.execCommand('copy');
  } finally {
    scratch.remove();
    if (focused instanceof HTMLElement) focused.focus();
  }
}

function effectsFor(host: ContextMenuHost, element: Element, field: Field | null, message: MessageMenuSource | null): MenuEffects {
  return {
    act: (action, emoji) => message?.act(action, emoji),
    copyText,
    cut() {
      if (!field) return;
      field.focus();
      document.execCommand('cut');
    },
    openLink: (url) => host.openLink(url),
    selectAll() {
      if (field) {
        field.focus();
        field.select();
        return;
      }
      // The region that was clicked (the message list, a dialog), else the whole window.
      const region = element.closest('[data-select-all]') ?? document.body;
      window.getSelection()?.selectAllChildren(region);
    },
  };
}

/** Listens for context menus on `document`; returns a function that stops listening. */
export function installContextMenu(host: ContextMenuHost): () => void {
  const oncontextmenu = (event: MouseEvent) => {
    // Shift+right-click only: Shift+F10 (the keyboard's context menu) also has shiftKey.
    if (host.devtools() && event.shiftKey && event.button === 2) return;
    event.preventDefault();
    const element = event.target instanceof Element ? event.target : document.activeElement;
    if (!element || element.closest('[data-testid="context-menu"]')) return;
    const field = fieldOf(element);
    const holder = element.closest('[data-message-menu]');
    const source = holder ? (messageSources.get(holder) ?? null) : null;
    const selection = field ? fieldSelection(field) : (window.getSelection()?.toString() ?? '');
    const link = element.closest('a[href]')?.getAttribute('href') ?? null;
    const target: MenuTarget = {
      selection,
      link,
      editable: field !== null,
      // A right-click on a link or on selected text is about them: their menu alone. The
      // message's actions stay a click away (its ⋯ button, or the Menu key on the message).
      message:
        field || ((link !== null || selection !== '') && !element.closest('[data-testid="message-menu-button"]'))
          ? null
          : (source?.menu() ?? null),
    };
    // The Menu key and Shift+F10 give no pointer position: open at the focused element.
    const fromKeyboard = event.button !== 2 && event.clientX === 0 && event.clientY === 0;
    let { clientX: x, clientY: y } = event;
    if (fromKeyboard) {
      const rect = element.getBoundingClientRect();
      x = rect.left;
      y = rect.bottom;
    }
    host.menu.open(target, x, y, effectsFor(host, element, field, source), fromKeyboard);
  };
  // WebKitGTK follows a right-button release with a `click` (button 0) on whatever is under the
  // pointer: on a link, that opened it. A click whose press was not the primary button is
  // dropped before any handler sees it; keyboard clicks (detail 0) are left alone.
  // (mousedown, not pointerdown: WebKitWebDriver's element click sends no pointer events.)
  let pressed = 0;
  const onmousedown = (event: MouseEvent) => {
    pressed = event.button;
  };
  const onclick = (event: MouseEvent) => {
    if (event.detail > 0 && pressed !== 0) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  };
  document.addEventListener('contextmenu', oncontextmenu);
  window.addEventListener('mousedown', onmousedown, true);
  window.addEventListener('click', onclick, true);
  return () => {
    document.removeEventListener('contextmenu', oncontextmenu);
    window.removeEventListener('mousedown', onmousedown, true);
    window.removeEventListener('click', onclick, true);
  };
}
