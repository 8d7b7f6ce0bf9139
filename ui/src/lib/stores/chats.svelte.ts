/**
 * Open chats: the tabs, the active one, and each chat's messages (the first page from
 * `open_chat`, then updates from its channel and older pages, merged by id). Also tells the shell
 * which chat the user is looking at (`focus_chat`).
 */
import type { Backend } from '$lib/api';
import type { AccountId, ChatRef, ChatState, Message, MessageId } from '$lib/contract';
import { toUiError, type UiError } from '$lib/errors';
import { mergeMessages } from '$lib/util/messages';
import type { DraftStore } from './drafts.svelte';
import type { NoticeStore } from './notices.svelte';
import { chatKey } from './unread.svelte';

/** How long without typing before the contact learns that we paused (XEP-0085 suggests 5 s). */
export const PAUSE_AFTER_MS = 5000;

/** At most one read marker per chat in this time; the last one covers the messages before it. */
export const MARK_DISPLAYED_EVERY_MS = 1000;

/** The longest a queued update waits when no frame comes (a hidden window gets none). */
const FRAME_FALLBACK_MS = 100;

/**
 * During a burst a chat's list is rebuilt at most this often; a lone message still shows at the
 * next frame. Each rebuild lays out and paints the view again, and a flood otherwise paints
 * every frame for as long as it lasts.
 */
export const BURST_MERGE_EVERY_MS = 100;

/** Runs `run` once, at the next animation frame (or after a timer where there are no frames). */
function nextFrame(run: () => void): void {
  if (typeof requestAnimationFrame !== 'function') {
    setTimeout(run, 0);
    return;
  }
  let timer: ReturnType<typeof setTimeout> | null = null;
  const frame = requestAnimationFrame(() => {
    if (timer !== null) clearTimeout(timer);
    run();
  });
  timer = setTimeout(() => {
    cancelAnimationFrame(frame);
    run();
  }, FRAME_FALLBACK_MS);
}

export class ChatTab {
  readonly kind = 'chat';
  readonly account: AccountId;
  readonly peer: string;
  readonly key: string;
  /** Sorted by id, each id once. */
  messages = $state.raw<readonly Message[]>([]);
  /** The message the composer answers (XEP-0461), if any. */
  replyTo = $state.raw<Message | null>(null);
  /** The message the composer edits (XEP-0308), if any. */
  editing = $state.raw<Message | null>(null);
  /** The draft put aside while editing, given back after. */
  aside = '';
  /** The message jumped to (a reply's original), highlighted for a moment. */
  highlight = $state<number | null>(null);
  /** The newest incoming message reported as seen (0: none). */
  seenUpTo = 0;
  /**
   * The newest incoming message the backend has taken as seen (it sent the read marker if the
   * user allows them): a settled fact the window shows (`data-reported-up-to`).
   */
  reportedUpTo = $state(0);
  /** When `seenUpTo` last went to the backend (ms since the epoch). */
  markedAt = Number.NEGATIVE_INFINITY;
  /** Sends `seenUpTo` once {@link MARK_DISPLAYED_EVERY_MS} have passed since `markedAt`. */
  markTimer: ReturnType<typeof setTimeout> | null = null;
  /** The first page has arrived. */
  loaded = $state(false);
  loadingOlder = $state(false);
  /** There is nothing older to load. */
  exhausted = $state(false);
  error = $state.raw<UiError | null>(null);
  /** What the composer holds, kept across tab switches. */
  draft = $state('');
  /** The contact's chat state (XEP-0085): `composing` while they type. */
  peerState = $state<ChatState | null>(null);
  /** When the contact was last online (unix ms), if their server told (XEP-0012). */
  lastSeen = $state<number | null>(null);
  /** What we last told the contact (we are typing or not). */
  ownState: ChatState = 'active';
  /** Turns our `composing` into `paused` when typing stops. */
  pauseTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(account: AccountId, peer: string) {
    this.account = account;
    this.peer = peer;
    this.key = chatKey(account, peer);
  }

  get ref(): ChatRef {
    return { account: this.account, peer: this.peer };
  }

  /** The messages (as for a room's lines). */
  get items(): readonly Message[] {
    return this.messages;
  }

  /** The chat's address (the peer's bare JID), as drafts name it. */
  get chat(): string {
    return this.peer;
  }

  /** Updates from the channel waiting for the next frame (see {@link queue}). */
  #queued: Message[] = [];

  /**
   * Merges `message` together with every other update that arrives before the next animation
   * frame, or during a burst before {@link BURST_MERGE_EVERY_MS} since the last rebuild: a flood
   * costs about ten list rebuilds a second instead of one per message.
   */
  queue(message: Message): void {
    this.#queued.push(message);
    if (this.#queued.length > 1) return;
    const flush = () => {
      this.#flushedAt = Date.now();
      this.merge([]);
    };
    const wait = this.#flushedAt + BURST_MERGE_EVERY_MS - Date.now();
    if (wait <= 0) nextFrame(flush);
    else setTimeout(flush, wait);
  }

  /** When queued updates were last merged (Unix ms). */
  #flushedAt = Number.NEGATIVE_INFINITY;

  /** Merges `messages` (after any queued updates, in arrival order). */
  merge(messages: readonly Message[]): void {
    if (this.#queued.length > 0) {
      messages = [...this.#queued, ...messages];
      this.#queued = [];
    }
    const before = this.messages;
    this.messages = mergeMessages(before, messages, this.#retried);
    // A new message from the contact means they stopped typing.
    if (this.messages !== before && messages.some((m) => m.direction === 'in')) this.peerState = null;
  }

  /** Our failed messages the user sent again: they may leave `failed` (see mergeMessages). */
  #retried = new Set<number>();

  /** Marks `message` as sent again, so that its next state replaces `failed`. */
  retried(message: MessageId): void {
    this.#retried.add(message);
  }
}

export class ChatsStore {
  tabs = $state<ChatTab[]>([]);
  activeKey = $state<string | null>(null);
  readonly active: ChatTab | null = $derived(this.tabs.find((t) => t.key === this.activeKey) ?? null);
  /** Whether the window is focused and visible (the user can see the active chat). */
  visible = $state(true);
  /** A pop-out window shows one chat and opens no other. */
  single = $state(false);

  readonly #backend: Backend;
  readonly #notices: NoticeStore;
  #focusSent: string | null | undefined = undefined;
  /** Where chats' drafts are kept (a new tab starts with its draft). */
  drafts: DraftStore | null = null;

  constructor(backend: Backend, notices: NoticeStore) {
    this.#backend = backend;
    this.#notices = notices;
  }

  find(account: AccountId, peer: string): ChatTab | undefined {
    return this.tabs.find((t) => t.key === chatKey(account, peer));
  }

  /** Shows the chat, opening a tab (and loading its first page) if it has none. */
  open(account: AccountId, peer: string): ChatTab | null {
    const existing = this.find(account, peer);
    if (existing) {
      this.activate(existing.key);
      return existing;
    }
    if (this.single && this.tabs.length > 0) return null;
    const chat = new ChatTab(account, peer);
    chat.draft = this.drafts?.get(account, peer) ?? '';
    this.tabs = [...this.tabs, chat];
    this.activate(chat.key);
    this.#backend
      .openChat(account, peer, (update) => {
        if (update.type === 'messages') for (const message of update.messages) chat.queue(message);
        else chat.queue(update.message);
      })
      .then((page) => {
        chat.merge(page);
        chat.exhausted = page.length === 0;
      })
      .catch((error: unknown) => {
        chat.error = toUiError(error);
      })
      .finally(() => {
        chat.loaded = true;
      });
    return chat;
  }

  close(key: string): void {
    const index = this.tabs.findIndex((t) => t.key === key);
    const chat = this.tabs[index];
    if (!chat) return;
    this.tabs = this.tabs.filter((t) => t.key !== key);
    if (this.activeKey === key) {
      const next = this.tabs[Math.min(index, this.tabs.length - 1)];
      this.activate(next?.key ?? null);
    }
    this.#backend.closeChat(chat.account, chat.peer).catch(() => {
      // The chat view is gone either way; nothing to tell the user.
    });
  }

  /** Closes every chat, or those of one account. */
  closeAll(account?: AccountId): void {
    for (const tab of [...this.tabs]) if (account === undefined || tab.account === account) this.close(tab.key);
  }

  activate(key: string | null): void {
    this.activeKey = key;
    if (key !== null) this.roomInView = null;
    this.onActivate?.(key);
    this.#syncFocus();
  }

  /** The group chat in view instead of a chat (`null`: none); see `RoomsStore.show`. */
  roomInView = $state.raw<ChatRef | null>(null);

  /** Called when a chat is activated (`null`: none), so that a room in view gives way. */
  onActivate: ((key: string | null) => void) | null = null;

  /** Shows a group chat (`null`: none) in place of the active chat. */
  showRoom(room: ChatRef | null): void {
    this.roomInView = room;
    if (room !== null) this.activeKey = null;
    this.#syncFocus();
  }

  /** Ctrl+Tab: the next tab (or the previous one with `step` -1), wrapping around. */
  cycle(step: 1 | -1 = 1): void {
    if (this.tabs.length === 0) return;
    const index = this.tabs.findIndex((t) => t.key === this.activeKey);
    const next = (index + step + this.tabs.length) % this.tabs.length;
    this.activate(this.tabs[next]!.key);
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.#syncFocus();
  }

  #syncFocus(): void {
    const ref = this.visible ? (this.roomInView ?? this.active?.ref ?? null) : null;
    const key = ref === null ? null : chatKey(ref.account, ref.peer);
    if (key === this.#focusSent) return;
    this.#focusSent = key;
    this.#backend.focusChat(ref).catch(() => {
      // Only unread counting depends on it; the next switch sends it again.
      this.#focusSent = undefined;
    });
  }

  /**
   * The user can see the bottom of `chat` (active, window visible and focused): tells the
   * backend the newest incoming message was seen. While messages keep coming, at most once per
   * {@link MARK_DISPLAYED_EVERY_MS}: the last report then covers all of them. The backend sends
   * the read marker only if the user allows it.
   */
  seen(chat: ChatTab): void {
    if (!this.visible || this.active !== chat) return;
    const newest = chat.messages.findLast((m) => m.direction === 'in');
    if (!newest || newest.id <= chat.seenUpTo) return;
    chat.seenUpTo = newest.id;
    // A report already waiting sends the newest `seenUpTo` when it goes.
    if (chat.markTimer !== null) return;
    const wait = chat.markedAt + MARK_DISPLAYED_EVERY_MS - Date.now();
    if (wait <= 0) {
      this.#markDisplayed(chat);
      return;
    }
    chat.markTimer = setTimeout(() => {
      chat.markTimer = null;
      this.#markDisplayed(chat);
    }, wait);
  }

  #markDisplayed(chat: ChatTab): void {
    chat.markedAt = Date.now();
    const upTo = chat.seenUpTo;
    this.#backend.markDisplayed(chat.account, chat.peer, upTo).then(
      () => {
        chat.reportedUpTo = Math.max(chat.reportedUpTo, upTo);
      },
      () => {
        // A read marker is a courtesy: offline or refused, nothing to tell the user.
      },
    );
  }

  /** Loads the page before the oldest message shown; returns whether it added anything. */
  async loadOlder(chat: ChatTab): Promise<boolean> {
    if (chat.loadingOlder || chat.exhausted || !chat.loaded) return false;
    const oldest = chat.messages[0];
    if (!oldest) {
      chat.exhausted = true;
      return false;
    }
    chat.loadingOlder = true;
    try {
      const page = await this.#backend.loadOlder(chat.account, chat.peer, oldest.id);
      if (page.length === 0) chat.exhausted = true;
      const before = chat.messages;
      chat.merge(page);
      return chat.messages !== before;
    } catch (error) {
      this.#notices.error(toUiError(error));
      return false;
    } finally {
      chat.loadingOlder = false;
    }
  }

  /** The contact's chat state changed (`chat_state`). */
  setPeerState(account: AccountId, peer: string, state: ChatState): void {
    const chat = this.tabs.find((c) => c.key === chatKey(account, peer));
    if (chat) chat.peerState = state;
  }

  /**
   * The user typed in the composer: the contact learns we are composing (once), and that we
   * paused after {@link PAUSE_AFTER_MS} without typing.
   */
  typing(chat: ChatTab): void {
    if (chat.pauseTimer !== null) clearTimeout(chat.pauseTimer);
    if (chat.draft.trim() === '') {
      chat.pauseTimer = null;
      this.#tell(chat, 'active');
      return;
    }
    this.#tell(chat, 'composing');
    chat.pauseTimer = setTimeout(() => {
      chat.pauseTimer = null;
      this.#tell(chat, 'paused');
    }, PAUSE_AFTER_MS);
  }

  #tell(chat: ChatTab, state: ChatState): void {
    if (chat.ownState === state) return;
    chat.ownState = state;
    this.#backend.sendChatState(chat.account, chat.peer, state).catch(() => {
      // Only a courtesy: nothing to tell the user.
    });
  }

  /** Called after a message to `peer` was sent (answering a message request makes it a chat). */
  onSent: ((account: AccountId, peer: string) => void) | null = null;

  /**
   * Sends the text (unless it is blank), as a reply to `chat.replyTo` if set; the message appears
   * as pending at once, and the chat's draft goes.
   */
  async send(chat: ChatTab, body: string): Promise<boolean> {
    if (body.trim() === '') return false;
    // The message itself says we are active again (XEP-0085).
    if (chat.pauseTimer !== null) clearTimeout(chat.pauseTimer);
    chat.pauseTimer = null;
    chat.ownState = 'active';
    const replyTo = chat.replyTo;
    try {
      const message = replyTo
        ? await this.#backend.sendReply(chat.account, chat.peer, body, replyTo.id)
        : await this.#backend.sendMessage(chat.account, chat.peer, body);
      if (chat.replyTo === replyTo) chat.replyTo = null;
      this.drafts?.clear(chat.account, chat.peer);
      chat.merge([message]);
      this.onSent?.(chat.account, chat.peer);
      return true;
    } catch (error) {
      this.#notices.error(toUiError(error));
      return false;
    }
  }

  /** Sends one of our failed messages again; it shows as pending at once. */
  async retry(chat: ChatTab, message: Message): Promise<boolean> {
    if (message.direction !== 'out' || message.state !== 'failed') return false;
    chat.retried(message.id);
    try {
      chat.merge([await this.#backend.retryMessage(chat.account, message.id)]);
      return true;
    } catch (error) {
      this.#notices.error(toUiError(error));
      return false;
    }
  }

  /** Moves the chat to a window of its own. */
  async popOut(chat: ChatTab): Promise<void> {
    try {
      await this.#backend.popOutChat(chat.ref);
      this.close(chat.key);
    } catch (error) {
      this.#notices.error(toUiError(error));
    }
  }
}
