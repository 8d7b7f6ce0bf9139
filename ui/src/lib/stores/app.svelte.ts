/**
 * The application's state: every store, and the actions that involve several of them (start,
 * login, logout, presence). Components get it from context (`getApp`); `main.ts` creates it with
 * the Tauri backend, tests with a fake one.
 */
import { getContext, setContext } from 'svelte';
import type { Backend, Unsubscribe } from '$lib/api';
import type { AccountId, LoginRequest } from '$lib/contract';
import { toUiError, type UiError } from '$lib/errors';
import { isAllowedLink } from '$lib/util/linkify';
import { AvatarStore } from './avatars.svelte';
import { ChatsStore, type ChatState } from './chats.svelte';
import { dispatch, type AppEvent, type Stores } from './dispatch';
import { LinkStore } from './links.svelte';
import { NoticeStore } from './notices.svelte';
import { RosterStore } from './roster.svelte';
import { SessionStore, bareJid, type OwnShow } from './session.svelte';
import { SettingsStore } from './settings.svelte';
import { UnreadStore } from './unread.svelte';

export interface AppOptions {
  now?: () => number;
}

export class AppStore implements Stores {
  readonly backend: Backend;
  readonly session = new SessionStore();
  readonly roster = new RosterStore();
  readonly unread = new UnreadStore();
  readonly notices = new NoticeStore();
  readonly chats: ChatsStore;
  readonly settings: SettingsStore;
  readonly avatars: AvatarStore;
  readonly links: LinkStore;
  readonly now: () => number;
  #unsubscribe: Unsubscribe[] = [];

  constructor(backend: Backend, options: AppOptions = {}) {
    this.backend = backend;
    this.now = options.now ?? Date.now;
    this.chats = new ChatsStore(backend, this.notices);
    this.settings = new SettingsStore(backend, this.notices);
    this.avatars = new AvatarStore(backend);
    this.links = new LinkStore(backend, this);
  }

  dispatch(event: AppEvent): void {
    dispatch(this, event);
  }

  /** Subscribes to events (before anything can happen), then loads what the window shows. */
  async start(): Promise<void> {
    this.session.phase = 'starting';
    this.session.startError = null;
    try {
      if (this.#unsubscribe.length === 0) {
        this.#unsubscribe = await Promise.all([
          this.backend.onCoreEvent((event) => this.dispatch(event)),
          this.backend.onShellEvent((event) => this.dispatch(event)),
        ]);
      }
      const info = await this.backend.appInfo();
      this.session.info = info;
      this.settings.load(info.settings);
      const popped = info.popped_out;
      if (popped) {
        this.session.signedIn(popped.account, '');
        this.roster.bind(popped.account);
        this.chats.single = true;
        this.session.phase = 'popout';
        this.chats.open(popped.account, popped.peer);
        await this.#refreshContacts();
        await this.#refreshPresences(popped.account);
      } else {
        // A link Charla was started with waits for the login (LinkStore.flush).
        await this.links.take();
        await this.#resume();
      }
    } catch (error) {
      this.session.startError = toUiError(error);
      this.session.phase = 'failed';
    }
  }

  /** What the last login attempt was, so that trusting a certificate can repeat it. */
  #retry: () => Promise<unknown> = () => this.#resume();

  /**
   * Logs in with the password remembered in the OS keyring (the login form never shows then), or
   * shows the login form with the reason: no keyring, or the remembered login failed.
   */
  async #resume(): Promise<void> {
    this.#retry = () => this.#resume();
    const remembered = this.session.info?.settings.remembered ?? null;
    this.session.loggingIn = true;
    try {
      const resume = await this.backend.resumeLogin();
      if (resume.type === 'online') {
        await this.#enter(resume.account, resume.jid);
        return;
      }
      this.session.keyringError = resume.keyring ? toUiError(resume.keyring) : null;
      this.#failed(resume.error ? toUiError(resume.error) : null, remembered?.jid ?? '');
    } catch (error) {
      this.#failed(toUiError(error), remembered?.jid ?? '');
    } finally {
      this.session.loggingIn = false;
    }
    this.session.phase = 'login';
  }

  /** Keeps a login error for the form; an untrusted certificate also opens its dialog. */
  #failed(error: UiError | null, jid: string): void {
    this.session.loginError = error;
    this.session.certificate = error?.certificate ? { jid: bareJid(jid), problem: error.certificate } : null;
  }

  async #enter(account: AccountId, jid: string): Promise<void> {
    this.session.signedIn(account, jid);
    this.roster.bind(account);
    this.session.phase = 'main';
    await this.#refreshContacts();
    this.links.flush();
  }

  /** Trusts the certificate in the dialog for its account, then repeats the login. */
  async trustCertificate(): Promise<void> {
    const asked = this.session.certificate;
    if (asked === null) return;
    this.session.certificate = null;
    try {
      await this.backend.trustCertificate(asked.jid, asked.problem.fingerprint);
    } catch (error) {
      if (this.session.phase === 'main') this.notices.error(toUiError(error));
      else this.session.loginError = toUiError(error);
      return;
    }
    if (this.session.phase === 'main') {
      // A reconnect hit it: going online again logs in with the kept login.
      const show = this.session.show === 'offline' ? 'available' : this.session.show;
      await this.setPresence(show, this.session.status);
    } else {
      await this.#retry();
    }
  }

  /** Closes the certificate dialog without trusting it; the login stays failed. */
  cancelCertificate(): void {
    this.session.certificate = null;
  }

  stop(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
  }

  /** Logs in; on success the main window shows, on failure the error stays for the form. */
  async login(request: LoginRequest): Promise<boolean> {
    if (this.session.loggingIn) return false;
    this.#retry = () => this.login(request);
    this.session.loggingIn = true;
    this.session.loginError = null;
    this.session.certificate = null;
    try {
      const account = await this.backend.login(request);
      // The shell saved (or forgot) the login as asked; keep the local copy in step.
      const { host, port } = request;
      const keep = request.remember || request.remember_password === true;
      const remembered = keep ? { jid: bareJid(request.jid), host, port } : null;
      this.settings.load({ ...this.settings.value, remembered });
      await this.#enter(account, request.jid);
      return true;
    } catch (error) {
      this.#failed(toUiError(error), request.jid);
      return false;
    } finally {
      this.session.loggingIn = false;
    }
  }

  async #refreshContacts(): Promise<void> {
    const account = this.session.account;
    if (account === null) return;
    // Avatars are extras: failing to read them leaves the initials, never the list empty.
    this.avatars.load(account).catch((error: unknown) => this.notices.error(toUiError(error)));
    try {
      const contacts = await this.backend.contacts(account);
      // A `roster_loaded` event that came meanwhile is at least as fresh as the cache.
      if (!this.roster.loaded) this.roster.load(account, contacts);
    } catch (error) {
      this.notices.error(toUiError(error));
    }
  }

  /** Presence that arrived before this window existed (pop-outs). */
  async #refreshPresences(account: AccountId): Promise<void> {
    try {
      for (const { jid, presence } of await this.backend.presences(account)) {
        this.roster.setPresence(account, jid, presence);
      }
    } catch (error) {
      this.notices.error(toUiError(error));
    }
  }

  /**
   * Adds a contact (optional name and group) and asks to see their presence; returns the error
   * for the form, or null.
   */
  async addContact(jid: string, name: string, group: string): Promise<UiError | null> {
    const account = this.session.account;
    if (account === null) return null;
    try {
      await this.backend.addContact(account, jid.trim(), name.trim() || null, group.trim() || null);
      return null;
    } catch (error) {
      return toUiError(error);
    }
  }

  /** Renames a contact and sets its groups (blank ones dropped); returns the error, or null. */
  async editContact(jid: string, name: string, groups: readonly string[]): Promise<UiError | null> {
    const account = this.session.account;
    if (account === null) return null;
    try {
      const kept = groups.map((g) => g.trim()).filter((g) => g !== '');
      await this.backend.editContact(account, jid, name.trim() || null, kept);
      return null;
    } catch (error) {
      return toUiError(error);
    }
  }

  /** Removes a contact (both stop sharing presence); the chat history stays. */
  async removeContact(jid: string): Promise<void> {
    await this.#act((account) => this.backend.removeContact(account, jid));
  }

  /** Blocks a contact: the server drops everything from them. */
  async blockContact(jid: string): Promise<void> {
    await this.#act((account) => this.backend.block(account, jid, true));
  }

  /** The blocked addresses, as last read from the server (`loadBlocked`). */
  blockedList = $state<string[]>([]);

  /** Reads the block list from the server (offline it keeps the last one, without a notice). */
  async loadBlocked(): Promise<void> {
    const account = this.session.account;
    if (account === null) return;
    try {
      this.blockedList = await this.backend.blocked(account);
    } catch {
      // Offline: the settings show the list as last read.
    }
  }

  /** Unblocks `jid` and reads the list again. */
  async unblock(jid: string): Promise<void> {
    await this.#act((account) => this.backend.block(account, jid, false));
    await this.loadBlocked();
  }

  async #act(action: (account: AccountId) => Promise<void>): Promise<void> {
    const account = this.session.account;
    if (account === null) return;
    try {
      await action(account);
    } catch (error) {
      this.notices.error(toUiError(error));
    }
  }

  /**
   * Accepts or denies `jid`'s request to see our presence; `block` denies it and blocks them,
   * so that nothing more comes from them.
   */
  async answerRequest(jid: string, answer: 'accept' | 'deny' | 'block'): Promise<void> {
    const account = this.session.account;
    if (account === null) return;
    try {
      await this.backend.answerSubscription(account, jid, answer === 'accept');
      if (answer === 'block') await this.backend.block(account, jid, true);
      this.roster.requests.delete(jid);
    } catch (error) {
      this.notices.error(toUiError(error));
    }
  }

  async logout(): Promise<void> {
    const account = this.session.account;
    this.chats.closeAll();
    if (account !== null) {
      try {
        await this.backend.logout(account);
      } catch {
        // Logged out locally regardless; the backend drops the session with the window.
      }
    }
    this.#signOut();
  }

  /** Changes the account's password on the server; returns the error for the form, or null. */
  async changePassword(password: string): Promise<UiError | null> {
    const account = this.session.account;
    if (account === null) return null;
    try {
      await this.backend.changePassword(account, password);
      return null;
    } catch (error) {
      return toUiError(error);
    }
  }

  /**
   * Deletes the account on its server (the user has confirmed), or (`remove`) removes it from
   * Charla keeping or deleting its history. Either way it is signed out and no longer
   * remembered. Returns the error for the dialog, or null.
   */
  async endAccount(how: 'delete' | { keepHistory: boolean }): Promise<UiError | null> {
    const account = this.session.account;
    if (account === null) return null;
    try {
      if (how === 'delete') await this.backend.deleteAccount(account);
      else await this.backend.removeAccount(account, how.keepHistory);
    } catch (error) {
      return toUiError(error);
    }
    // The shell forgot the remembered login; keep the local copy in step.
    if (this.settings.value.remembered?.jid === this.session.jid) {
      this.settings.load({ ...this.settings.value, remembered: null });
    }
    this.chats.closeAll();
    this.#signOut();
    return null;
  }

  #signOut(): void {
    this.roster.reset();
    this.unread.reset();
    this.notices.clear();
    this.links.closeOffer();
    this.session.signedOut();
    this.session.phase = 'login';
  }

  /**
   * Opens an allowed link clicked in a message: an `xmpp:` link in Charla (its chat or the
   * add-contact dialog, see LinkStore), http, https and mailto in the system's handler.
   */
  async openLink(url: string): Promise<void> {
    if (!isAllowedLink(url)) return;
    if (/^xmpp:/iu.test(url)) {
      await this.links.openUrl(url);
      return;
    }
    try {
      await this.backend.openLink(url);
    } catch (error) {
      this.notices.error(toUiError(error));
    }
  }

  /**
   * Sets our availability and status text; `offline` disconnects, and any other choice while
   * disconnected makes the backend log in again with the login it kept (no password here).
   */
  /**
   * Asks when the contact of `chat` was last online (XEP-0012) and keeps it on the chat; a server
   * that does not tell, or an error, leaves it unknown. Nothing is shown for it, so errors are quiet.
   */
  async refreshLastSeen(chat: ChatState, now = Date.now()): Promise<void> {
    try {
      const seconds = await this.backend.lastActivity(chat.account, chat.peer);
      chat.lastSeen = seconds === null ? null : now - seconds * 1000;
    } catch {
      chat.lastSeen = null;
    }
  }

  async setPresence(show: OwnShow, status: string): Promise<void> {
    const account = this.session.account;
    if (account === null) return;
    const previous = { show: this.session.show, status: this.session.status };
    this.session.show = show;
    this.session.status = status;
    const text = status.trim() === '' ? null : status.trim();
    try {
      this.settings.recentStatuses(await this.backend.setPresence(account, show, text));
    } catch (error) {
      this.session.show = previous.show;
      this.session.status = previous.status;
      this.notices.error(toUiError(error));
    }
  }
}

const KEY = Symbol('charla.app');

export function setApp(app: AppStore): void {
  setContext(KEY, app);
}

export function getApp(): AppStore {
  const app = getContext<AppStore | undefined>(KEY);
  if (!app) throw new Error('AppStore missing from context');
  return app;
}
