/**
 * The application's state: every store, wired together, and the start of the window (events
 * first, then what it shows). Each capability has its own store: `signIn` (start, login,
 * logout), `accounts`, `contacts`, `blocking`, `requests`, `links`, `presence`. Components get
 * it from context (`getApp`); `main.ts` creates it with the Tauri backend, tests with a fake one.
 */
import { getContext, setContext } from 'svelte';
import type { Backend, Unsubscribe } from '$lib/api';
import { toUiError } from '$lib/errors';
import { AccountsStore } from './accounts.svelte';
import { AvatarStore } from './avatars.svelte';
import { BlockingStore } from './blocking.svelte';
import { ChatsStore } from './chats.svelte';
import { ContactsStore } from './contacts.svelte';
import { ContextMenuStore } from './contextmenu.svelte';
import { dispatch, type AppEvent, type Stores } from './dispatch';
import { DraftStore } from './drafts.svelte';
import { EmojiStore } from './emoji.svelte';
import { LinkStore } from './links.svelte';
import { NoticeStore } from './notices.svelte';
import { PresenceStore } from './presence.svelte';
import { RequestsStore } from './requests.svelte';
import { RichStore } from './rich.svelte';
import { RoomAdminStore } from './roomAdmin.svelte';
import { RoomsStore } from './rooms.svelte';
import { RosterStore } from './roster.svelte';
import { SessionStore } from './session.svelte';
import { SettingsStore } from './settings.svelte';
import { SignInStore } from './signin.svelte';
import { UnreadStore } from './unread.svelte';

export interface AppOptions {
  /** The current time (unix ms); `Date.now` unless a test sets it. */
  now?: () => number;
}

export class AppStore implements Stores {
  readonly backend: Backend;
  readonly session = new SessionStore();
  readonly roster = new RosterStore();
  readonly unread = new UnreadStore();
  readonly notices = new NoticeStore();
  readonly contextMenu = new ContextMenuStore();
  readonly chats: ChatsStore;
  readonly settings: SettingsStore;
  readonly avatars: AvatarStore;
  readonly links: LinkStore;
  readonly requests: RequestsStore;
  readonly rooms: RoomsStore;
  readonly roomAdmin: RoomAdminStore;
  readonly blocking: BlockingStore;
  readonly contacts: ContactsStore;
  readonly presence: PresenceStore;
  readonly signIn: SignInStore;
  readonly accounts: AccountsStore;
  readonly drafts: DraftStore;
  readonly emoji = new EmojiStore();
  readonly rich: RichStore;
  /** The current time (unix ms). */
  readonly now: () => number;
  #unsubscribe: Unsubscribe[] = [];

  constructor(backend: Backend, options: AppOptions = {}) {
    this.backend = backend;
    this.now = options.now ?? Date.now;
    this.chats = new ChatsStore(backend, this.notices);
    this.settings = new SettingsStore(backend, this.notices);
    this.avatars = new AvatarStore(backend);
    this.rooms = new RoomsStore(backend, this.notices, this.chats);
    this.roomAdmin = new RoomAdminStore(backend);
    this.links = new LinkStore(backend, this);
    this.requests = new RequestsStore(backend, this);
    this.blocking = new BlockingStore(backend, this);
    this.contacts = new ContactsStore(backend, this);
    this.presence = new PresenceStore(backend, this);
    this.signIn = new SignInStore(backend, this);
    this.accounts = new AccountsStore(backend, this);
    this.chats.onSent = (account, peer) => this.requests.remove(account, peer);
    this.drafts = new DraftStore(backend);
    this.chats.drafts = this.drafts;
    this.rooms.drafts = this.drafts;
    this.rich = new RichStore(backend, {
      notices: this.notices,
      chats: this.chats,
      rooms: this.rooms,
      roomAdmin: this.roomAdmin,
      drafts: this.drafts,
      emoji: this.emoji,
    });
  }

  /** Reads the kept drafts; chats and rooms already open with an empty composer get theirs. */
  async loadDrafts(): Promise<void> {
    await this.drafts.load();
    for (const thread of [...this.chats.tabs, ...this.rooms.rooms.values()]) {
      if (thread.draft === '' && thread.editing === null) thread.draft = this.drafts.get(thread.account, thread.chat);
    }
  }

  /** Applies a backend event to the stores (see `dispatch`). */
  dispatch(event: AppEvent): void {
    dispatch(this, event);
  }

  /** Subscribes to events (before anything can happen), then loads what the window shows. */
  async start(): Promise<void> {
    const { session, settings, chats, contacts, links } = this;
    session.phase = 'starting';
    session.startError = null;
    try {
      if (this.#unsubscribe.length === 0) {
        this.#unsubscribe = await Promise.all([
          this.backend.onCoreEvent((event) => this.dispatch(event)),
          this.backend.onShellEvent((event) => this.dispatch(event)),
        ]);
      }
      const info = await this.backend.appInfo();
      session.info = info;
      void this.loadDrafts();
      settings.load(info.settings);
      const popped = info.popped_out;
      if (popped) {
        session.signedIn(popped.account, '');
        chats.single = true;
        session.phase = 'popout';
        chats.open(popped.account, popped.peer);
        await contacts.refresh(popped.account);
        await contacts.refreshPresences(popped.account);
      } else {
        // A link Charla was started with waits for the login (LinkStore.flush).
        await links.take();
        await this.signIn.resume();
      }
    } catch (error) {
      session.startError = toUiError(error);
      session.phase = 'failed';
    }
  }

  /** Stops listening to the backend's events. */
  stop(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
  }
}

const KEY = Symbol('charla.app');

/** Makes `app` the context's application state (the root component). */
export function setApp(app: AppStore): void {
  setContext(KEY, app);
}

/** The application state from context. */
export function getApp(): AppStore {
  const app = getContext<AppStore | undefined>(KEY);
  if (!app) throw new Error('AppStore missing from context');
  return app;
}
