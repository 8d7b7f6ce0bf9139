/**
 * Charla's own context menu, shown instead of WebKit's everywhere in the window. WebKit's has
 * "Open Link" (which navigated the window to the page), "Open Link in New Window", "Download
 * Linked File" and, in debug builds, "Inspect Element"; ours has only what cannot leave the app:
 * Copy (with a selection), Cut (with a selection in a text field), Open link (in the browser, the
 * mail program or, for `xmpp:`, in Charla, all through `LinkStore.openLink`), Copy link address,
 * and Select all. In a debug build, Shift+right-click still gives WebKit's menu (Inspect Element).
 *
 * This module is the menu's logic; the DOM is read and changed only through `MenuTarget` and
 * `MenuEffects` (`lib/contextmenu.ts` in the window, fakes in tests), and
 * `components/ContextMenu.svelte` only renders it.
 */
import type { MessageKey } from '$lib/i18n';
import { isAllowedLink } from '$lib/util/linkify';
import type { MessageAction } from '$lib/util/rich';

/**
 * What a message's menu offers (on a message, the menu starts with these): its actions (see
 * `util/rich` `messageActions`), the quick row of reactions, and its text for "Copy text".
 */
export interface MessageMenu {
  actions: MessageAction[];
  /** The quick reactions, in order (when `react` is among the actions). */
  quick: string[];
  /** Those of the quick reactions that are ours (shown pressed). */
  ours: string[];
  /** The message's text. */
  text: string;
}

/** "More…" after the quick reactions: the emoji picker. */
export type MessageMenuAction = Exclude<MessageAction, 'react'> | 'react' | 'reactMore';

export type MenuAction = 'openLink' | 'copyLink' | 'cut' | 'copy' | 'selectAll' | MessageMenuAction;

/** What was right-clicked, as the window reads it from the event. */
export interface MenuTarget {
  /** The selected text there ('' if none): the window's selection, or a text field's. */
  selection: string;
  /** The `href` of the link under the pointer, if any. */
  link: string | null;
  /** A text field (input, textarea): Cut, and Select all selects its text. */
  editable: boolean;
  /** A message (or a room line) was right-clicked: its actions come first. */
  message?: MessageMenu | null;
}

/** What the menu does to the world. */
export interface MenuEffects {
  copyText(text: string): Promise<void> | void;
  /** Cuts the field's selection to the clipboard. */
  cut(): void;
  openLink(url: string): Promise<void> | void;
  /** Selects all text of the field, or of the region, that was right-clicked. */
  selectAll(): void;
  /** Does a message's action (`emoji`: the reaction chosen in the quick row). */
  act?(action: MessageMenuAction, emoji?: string): void;
}

export interface MenuItem {
  action: MenuAction;
  label: MessageKey;
  /** A line above this item. */
  separated: boolean;
  /** A quick reaction: the emoji (shown as itself, its label names it). */
  emoji?: string;
  /** A quick reaction that is ours already (choosing it takes it back). */
  pressed?: boolean;
}

const MESSAGE_LABELS: Record<MessageMenuAction, MessageKey> = {
  reply: 'message.menu.reply',
  react: 'message.menu.react',
  reactMore: 'message.menu.reactMore',
  copyText: 'message.menu.copyText',
  edit: 'message.menu.edit',
  versions: 'message.menu.versions',
  retract: 'message.menu.retract',
  hide: 'message.menu.hide',
  moderate: 'message.menu.moderate',
};

/** A message's items: its actions, the reaction row standing for `react`. */
function messageItems(message: MessageMenu): Omit<MenuItem, 'separated'>[] {
  return message.actions.flatMap((action): Omit<MenuItem, 'separated'>[] =>
    action === 'react'
      ? [
          ...message.quick.map((emoji) => ({
            action,
            label: MESSAGE_LABELS.react,
            emoji,
            pressed: message.ours.includes(emoji),
          })),
          { action: 'reactMore', label: MESSAGE_LABELS.reactMore },
        ]
      : [{ action, label: MESSAGE_LABELS[action] }],
  );
}

type LinkKind = 'web' | 'mail' | 'xmpp';

function linkKind(link: string): LinkKind {
  const scheme = link.slice(0, link.indexOf(':')).toLowerCase();
  return scheme === 'mailto' ? 'mail' : scheme === 'xmpp' ? 'xmpp' : 'web';
}

const OPEN_LABEL: Record<LinkKind, MessageKey> = {
  web: 'menu.openLink',
  mail: 'menu.openMail',
  xmpp: 'menu.openXmpp',
};
const COPY_LINK_LABEL: Record<LinkKind, MessageKey> = {
  web: 'menu.copyLink',
  mail: 'menu.copyMail',
  xmpp: 'menu.copyLink',
};

/**
 * The items for a target, in order. A link counts only if Charla would open it (http, https,
 * mailto, xmpp); any other `href` gets no link items.
 */
export function menuItems(target: MenuTarget): MenuItem[] {
  type Item = Omit<MenuItem, 'separated'>;
  const groups: Item[][] = [];
  if (target.message && target.message.actions.length > 0) groups.push(messageItems(target.message));
  const link = target.link !== null && isAllowedLink(target.link) ? target.link : null;
  if (link !== null) {
    const kind = linkKind(link);
    groups.push([
      { action: 'openLink', label: OPEN_LABEL[kind] },
      { action: 'copyLink', label: COPY_LINK_LABEL[kind] },
    ]);
  }
  if (target.selection !== '') {
    const copy: Item = { action: 'copy', label: 'menu.copy' };
    groups.push(target.editable ? [{ action: 'cut', label: 'menu.cut' }, copy] : [copy]);
  }
  groups.push([{ action: 'selectAll', label: 'menu.selectAll' }]);
  return groups.flatMap((group, g) => group.map((item, i) => ({ ...item, separated: g > 0 && i === 0 })));
}

/** What "Copy link address" copies: the link, or for mailto the addresses alone (as browsers do). */
export function linkText(link: string): string {
  if (linkKind(link) !== 'mail') return link;
  const addresses = link.slice('mailto:'.length);
  try {
    return decodeURIComponent(addresses);
  } catch {
    return addresses;
  }
}

/** Where the menu goes: at the pointer, moved left/up as far as needed to stay in the viewport. */
export function placeMenu(
  at: { x: number; y: number },
  size: { width: number; height: number },
  viewport: { width: number; height: number },
  margin = 4,
): { x: number; y: number } {
  const clamp = (value: number, extent: number, room: number) =>
    Math.max(margin, Math.min(value, room - extent - margin));
  return { x: clamp(at.x, size.width, viewport.width), y: clamp(at.y, size.height, viewport.height) };
}

export interface OpenMenu {
  items: MenuItem[];
  x: number;
  y: number;
  target: MenuTarget;
}

export class ContextMenuStore {
  /** The menu on screen, if any. */
  menu = $state.raw<OpenMenu | null>(null);
  /** The item that keyboard focus is on (-1: none yet). */
  active = $state(-1);
  #effects: MenuEffects | null = null;

  /**
   * Opens the menu for `target` at `x`, `y`, acting through `effects`. `fromKeyboard` (the
   * Menu key, Shift+F10) puts the focus on the first item.
   */
  open(target: MenuTarget, x: number, y: number, effects: MenuEffects, fromKeyboard = false): void {
    this.#effects = effects;
    this.menu = { items: menuItems(target), x, y, target };
    this.active = fromKeyboard ? 0 : -1;
  }

  close(): void {
    this.menu = null;
    this.active = -1;
    this.#effects = null;
  }

  /** Moves the keyboard focus by `step` items, wrapping around. */
  move(step: number): void {
    const count = this.menu?.items.length ?? 0;
    if (count === 0) return;
    const from = this.active < 0 ? (step > 0 ? -1 : 0) : this.active;
    this.active = (((from + step) % count) + count) % count;
  }

  /** Moves the keyboard focus to the first or last item. */
  moveTo(edge: 'first' | 'last'): void {
    const count = this.menu?.items.length ?? 0;
    if (count > 0) this.active = edge === 'first' ? 0 : count - 1;
  }

  /** Runs the item with keyboard focus (Enter). */
  async runActive(): Promise<void> {
    const item = this.menu?.items[this.active];
    if (item) await this.run(item.action, item.emoji);
  }

  /** Closes the menu, then does what `action` (with `emoji`, a quick reaction) says for its target. */
  async run(action: MenuAction, emoji?: string): Promise<void> {
    const menu = this.menu;
    const effects = this.#effects;
    if (!menu || !effects || !menu.items.some((item) => item.action === action && item.emoji === emoji)) return;
    this.close();
    const { target } = menu;
    switch (action) {
      case 'openLink':
        if (target.link !== null) await effects.openLink(target.link);
        break;
      case 'copyLink':
        if (target.link !== null) await effects.copyText(linkText(target.link));
        break;
      case 'cut':
        effects.cut();
        break;
      case 'copy':
        await effects.copyText(target.selection);
        break;
      case 'selectAll':
        effects.selectAll();
        break;
      case 'copyText':
        await effects.copyText(target.message?.text ?? '');
        break;
      default:
        effects.act?.(action, emoji);
    }
  }
}
