/**
 * Rich messages in chats and rooms alike: the message menu's actions (reply, react, copy, edit,
 * earlier versions, delete for everyone or for me, moderate), the composer's edit and reply
 * modes, reactions (each change sends our whole new set, XEP-0444), the confirmations, the
 * earlier versions shown, the emoji picker's target, and jumping to a reply's original (loading
 * older pages until it is there, up to {@link JUMP_MAX_PAGES}).
 *
 * The backend answers each act with the message re-derived (`updated` on the view's channel),
 * so nothing here changes a message by itself.
 */
import type { Backend } from '$lib/api';
import type { Message, MessageRef, Reply, RoomMessage } from '$lib/contract';
import { toUiError, type UiError } from '$lib/errors';
import {
  editable,
  lastEditable,
  messageActions,
  ourReactions,
  replyTarget,
  toggleReaction,
  type MessageAction,
  type MessagePlace,
} from '$lib/util/rich';
import type { ChatsStore, ChatTab } from './chats.svelte';
import type { MessageMenu, MessageMenuAction } from './contextmenu.svelte';
import type { DraftStore } from './drafts.svelte';
import type { EmojiStore } from './emoji.svelte';
import type { NoticeStore } from './notices.svelte';
import type { RoomAdminStore } from './roomAdmin.svelte';
import type { RoomState, RoomsStore } from './rooms.svelte';

/** A chat or a room. */
export type Thread = ChatTab | RoomState;
/** One of its messages. */
export type ThreadItem = Message | RoomMessage;

/** At most this many older pages are loaded to find a reply's original. */
export const JUMP_MAX_PAGES = 20;
/** How long the original stays highlighted after a jump. */
export const HIGHLIGHT_MS = 2000;

/** A deletion waiting for the user's confirmation. */
export interface Confirm {
  kind: 'retract' | 'moderate';
  thread: Thread;
  item: ThreadItem;
  /** A moderator's reason (moderate only). */
  reason: string;
  busy: boolean;
  error: UiError | null;
}

/** The earlier versions of an edited message, as shown. */
export interface Versions {
  item: ThreadItem;
  /** Oldest first (null: still loading). */
  texts: string[] | null;
  error: UiError | null;
}

export function refOf(thread: Thread, item: ThreadItem): MessageRef {
  return thread.kind === 'chat' ? { kind: 'chat', id: item.id } : { kind: 'room', id: item.id };
}

/** How the author of a message is named: "You", the contact's name or the nick (as text). */
export type AuthorName = (thread: Thread, item: ThreadItem) => string;

export class RichStore {
  confirm = $state<Confirm | null>(null);
  versions = $state.raw<Versions | null>(null);
  /** The emoji picker, open to react to a message, or (`item` null) to write in the composer. */
  picker = $state.raw<{ thread: Thread; item: ThreadItem | null; caret?: number | undefined } | null>(null);

  readonly #backend: Backend;
  readonly #notices: NoticeStore;
  readonly #chats: ChatsStore;
  readonly #rooms: RoomsStore;
  readonly #admin: RoomAdminStore;
  readonly #drafts: DraftStore;
  readonly emoji: EmojiStore;

  constructor(
    backend: Backend,
    stores: {
      notices: NoticeStore;
      chats: ChatsStore;
      rooms: RoomsStore;
      roomAdmin: RoomAdminStore;
      drafts: DraftStore;
      emoji: EmojiStore;
    },
  ) {
    this.#backend = backend;
    this.#notices = stores.notices;
    this.#chats = stores.chats;
    this.#rooms = stores.rooms;
    this.#admin = stores.roomAdmin;
    this.#drafts = stores.drafts;
    this.emoji = stores.emoji;
  }

  /**
   * Where a message is: a chat, or a room where we may moderate (we are a moderator and the room
   * offers moderation, XEP-0425: `RoomInfo.moderation`) or not.
   */
  place(thread: Thread): MessagePlace {
    if (thread.kind === 'chat') return { room: false, moderator: false };
    const moderator =
      thread.phase === 'joined' && this.#admin.own(thread)?.role === 'moderator' && thread.info?.moderation === true;
    return { room: true, moderator };
  }

  actions(thread: Thread, item: ThreadItem): MessageAction[] {
    return messageActions(item, this.place(thread));
  }

  /** What the message's menu offers (`null`: no menu, a hidden message). */
  menu(thread: Thread, item: ThreadItem): MessageMenu | null {
    const actions = this.actions(thread, item);
    if (actions.length === 0) return null;
    return { actions, quick: this.emoji.quick, ours: ourReactions(item.rich.reactions), text: item.body };
  }

  /** Does what the message's menu item says. */
  act(thread: Thread, item: ThreadItem, action: MessageMenuAction, emoji?: string): void {
    switch (action) {
      case 'reply':
        this.reply(thread, item);
        break;
      case 'react':
        if (emoji !== undefined) void this.toggle(thread, item, emoji);
        break;
      case 'reactMore':
        this.picker = { thread, item };
        break;
      case 'edit':
        this.startEdit(thread, item);
        break;
      case 'versions':
        void this.showVersions(thread, item);
        break;
      case 'retract':
      case 'moderate':
        this.confirm = { kind: action, thread, item, reason: '', busy: false, error: null };
        break;
      case 'hide':
        void this.hide(thread, item);
        break;
      case 'copyText':
        // Copied by the menu itself (it has the clipboard).
        break;
    }
  }

  // --- Replies -------------------------------------------------------------------------------

  /** The composer answers `item` (the next message sent is a reply to it). */
  reply(thread: Thread, item: ThreadItem): void {
    this.cancelEdit(thread);
    if (thread.kind === 'chat') thread.replyTo = item as Message;
    else {
      thread.privateTo = null;
      thread.replyTo = item as RoomMessage;
    }
    this.focusRequest += 1;
  }

  cancelReply(thread: Thread): void {
    thread.replyTo = null;
  }

  /** Bumped when the composer should take the focus (after Reply or Edit from the menu). */
  focusRequest = $state(0);

  // --- Corrections ---------------------------------------------------------------------------

  /** The composer edits `item` (ours): its text goes in, the draft is put aside. */
  startEdit(thread: Thread, item: ThreadItem): boolean {
    if (!editable(item)) return false;
    if (thread.editing === null) thread.aside = thread.draft;
    thread.replyTo = null;
    if (thread.kind === 'chat') thread.editing = item as Message;
    else thread.editing = item as RoomMessage;
    thread.draft = item.body;
    this.focusRequest += 1;
    return true;
  }

  /** Up in an empty composer: edits our last message that can be; whether there was one. */
  editLast(thread: Thread): boolean {
    if (thread.editing !== null || thread.draft !== '') return false;
    const item = lastEditable<ThreadItem>(thread.items);
    return item !== null && this.startEdit(thread, item);
  }

  /** Leaves the edit; the draft put aside comes back. */
  cancelEdit(thread: Thread): void {
    if (thread.editing === null) return;
    thread.editing = null;
    thread.draft = thread.aside;
    thread.aside = '';
  }

  /**
   * Sends the edited text (XEP-0308); an unchanged or blank text just ends the edit. Whether the
   * edit is over.
   */
  async submitEdit(thread: Thread): Promise<boolean> {
    const item = thread.editing;
    if (item === null) return false;
    const body = thread.draft;
    if (body.trim() === '' || body === item.body) {
      this.cancelEdit(thread);
      return true;
    }
    try {
      await this.#backend.editMessage(thread.account, refOf(thread, item), body);
    } catch (error) {
      this.#notices.error(toUiError(error));
      return false;
    }
    if (thread.editing === item) this.cancelEdit(thread);
    return true;
  }

  async showVersions(thread: Thread, item: ThreadItem): Promise<void> {
    const shown: Versions = { item, texts: null, error: null };
    this.versions = shown;
    try {
      const texts = await this.#backend.messageVersions(thread.account, refOf(thread, item));
      if (this.versions?.item === item) this.versions = { item, texts, error: null };
    } catch (error) {
      if (this.versions?.item === item) this.versions = { item, texts: [], error: toUiError(error) };
    }
  }

  closeVersions(): void {
    this.versions = null;
  }

  // --- Deletions -----------------------------------------------------------------------------

  /** "Delete for me". */
  async hide(thread: Thread, item: ThreadItem): Promise<void> {
    if (thread.editing?.id === item.id) this.cancelEdit(thread);
    if (thread.replyTo?.id === item.id) thread.replyTo = null;
    await this.#notices.attempt(() => this.#backend.hideMessage(thread.account, refOf(thread, item)));
  }

  /** Does the confirmed deletion (for everyone, or as moderator). */
  async confirmDelete(): Promise<void> {
    const confirm = this.confirm;
    if (!confirm || confirm.busy) return;
    confirm.busy = true;
    confirm.error = null;
    const { thread, item } = confirm;
    try {
      if (confirm.kind === 'retract') await this.#backend.retractMessage(thread.account, refOf(thread, item));
      else await this.#backend.moderateLine(thread.account, item.id, confirm.reason.trim() === '' ? null : confirm.reason.trim());
    } catch (error) {
      confirm.busy = false;
      confirm.error = toUiError(error);
      return;
    }
    if (thread.editing?.id === item.id) this.cancelEdit(thread);
    if (thread.replyTo?.id === item.id) thread.replyTo = null;
    if (this.confirm === confirm) this.confirm = null;
  }

  cancelConfirm(): void {
    this.confirm = null;
  }

  // --- Reactions -----------------------------------------------------------------------------

  /** Adds our reaction `emoji` to the message, or takes it back if we had it. */
  async toggle(thread: Thread, item: ThreadItem, emoji: string): Promise<void> {
    const next = toggleReaction(item.rich.reactions, emoji);
    if (next.includes(emoji)) this.emoji.use(emoji);
    await this.#notices.attempt(() => this.#backend.react(thread.account, refOf(thread, item), next));
  }

  /** Opens the picker to write emoji in the composer, at `caret` (the cursor; default: the end). */
  openPicker(thread: Thread, caret?: number): void {
    this.picker = { thread, item: null, caret };
  }

  /** The picker chose `emoji`: a reaction to its message, or written at the composer's cursor. */
  pick(emoji: string): void {
    const target = this.picker;
    this.picker = null;
    if (!target) return;
    if (target.item === null) {
      this.emoji.use(emoji);
      const { thread } = target;
      thread.draft = insertEmoji(thread.draft, emoji, target.caret);
      this.typed(thread);
      this.focusRequest += 1;
      return;
    }
    const had = ourReactions(target.item.rich.reactions).includes(emoji);
    // Picking one we have already keeps it (the picker adds; a chip takes back).
    if (had) this.emoji.use(emoji);
    else void this.toggle(target.thread, target.item, emoji);
  }

  closePicker(): void {
    this.picker = null;
  }

  // --- Jumping to a reply's original ---------------------------------------------------------

  /**
   * Shows the message `reply` answers: loads older pages until it is there (at most
   * {@link JUMP_MAX_PAGES}), then highlights it for {@link HIGHLIGHT_MS}. Says so when it cannot
   * be found. Answers its id, or null.
   */
  async jumpTo(thread: Thread, reply: Reply): Promise<number | null> {
    let found = replyTarget<ThreadItem>(thread.items, reply);
    for (let page = 0; !found && reply.target !== null && page < JUMP_MAX_PAGES; page += 1) {
      if (thread.exhausted) break;
      const added = thread.kind === 'chat' ? await this.#chats.loadOlder(thread) : await this.#rooms.loadOlder(thread);
      if (!added && thread.exhausted) break;
      if (!added && !thread.loadingOlder) break;
      found = replyTarget<ThreadItem>(thread.items, reply);
    }
    if (!found) {
      this.#notices.say('message.reply.notFound');
      return null;
    }
    this.#highlight(thread, found.id);
    return found.id;
  }

  #highlight(thread: Thread, id: number): void {
    thread.highlight = id;
    setTimeout(() => {
      if (thread.highlight === id) thread.highlight = null;
    }, HIGHLIGHT_MS);
  }

  /**
   * A key pressed in the composer; whether it was handled: Escape leaves an edit or a reply, Up
   * in an empty composer edits our last message.
   */
  composerKey(thread: Thread, key: string): boolean {
    if (key === 'Escape') {
      if (thread.editing !== null) this.cancelEdit(thread);
      else if (thread.replyTo !== null) this.cancelReply(thread);
      else return false;
      return true;
    }
    if (key === 'ArrowUp') return this.editLast(thread);
    return false;
  }

  // --- Drafts --------------------------------------------------------------------------------

  /** The composer's text changed: kept as the draft, unless it is an edit's text. */
  typed(thread: Thread): void {
    if (thread.editing === null) this.#drafts.edit(thread.account, thread.chat, thread.draft);
  }
}

/**
 * `text` with `emoji` written at `caret` (default: the end), set apart by a space from a word
 * just before it.
 */
export function insertEmoji(text: string, emoji: string, caret?: number): string {
  const at = Math.max(0, Math.min(caret ?? text.length, text.length));
  const before = text.slice(0, at);
  const gap = before === '' || /\s$/.test(before) ? '' : ' ';
  return `${before}${gap}${emoji}${text.slice(at)}`;
}
