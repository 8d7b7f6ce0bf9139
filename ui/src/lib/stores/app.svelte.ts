/**
 * The application's state: every store, and the actions that involve several of them (start,
 * login, logout, presence). Components get it from context (`getApp`); `main.ts` creates it with
 * the Tauri backend, tests with a fake one.
 */
import { getContext, setContext } from 'svelte';
import type { Backend, Unsubscribe } from '$lib/api';
import type { AccountId, LoginRequest } from '$lib/contract';
import { toUiError, type UiError } from '$lib/errors';
import { consistentColor } from '$lib/util/color';
import { isAllowedLink } from '$lib/util/linkify';
import { AvatarStore } from './avatars.svelte';
import { ChatsStore, type ChatState } from './chats.svelte';
import { ContextMenuStore } from './contextmenu.svelte';
import { dispatch, type AppEvent, type Stores } from './dispatch';
import { LinkStore } from './links.svelte';
import { NoticeStore } from './notices.svelte';
import { RequestsStore } from './requests.svelte';
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
  readonly contextMenu = new ContextMenuStore();
  readonly chats: ChatsStore;
  readonly settings: SettingsStore;
  readonly avatars: AvatarStore;
  readonly links: LinkStore;
  readonly requests: RequestsStore;
  readonly now: () => number;
  #unsubscribe: Unsubscribe[] = [];

  constructor(backend: Backend, options: AppOptions = {}) {
    this.backend = backend;
    this.now = options.now ?? Date.now;
    this.chats = new ChatsStore(backend, this.notices);
    this.settings = new SettingsStore(backend, this.notices);
    this.avatars = new AvatarStore(backend);
    this.links = new LinkStore(backend, this);
    this.requests = new RequestsStore(backend);
    this.chats.onSent = (account, peer) => this.requests.remove(account, peer);
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
        this.chats.single = true;
        this.session.phase = 'popout';
        this.chats.open(popped.account, popped.peer);
        await this.#refreshContacts(popped.account);
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
   * Logs every enabled account in with its password remembered in the OS keyring (the login form
   * never shows then), or shows the login form with the reason: no keyring, or the remembered
   * login failed. Accounts that could not log in are marked in the accounts list.
   */
  async #resume(): Promise<void> {
    this.#retry = () => this.#resume();
    const first = this.settings.value.accounts.find((a) => a.enabled) ?? null;
    this.session.loggingIn = true;
    try {
      const resume = await this.backend.resumeLogin();
      this.session.keyringError = resume.keyring ? toUiError(resume.keyring) : null;
      for (const { jid, error } of resume.failed) this.session.loginFailures.set(jid, toUiError(error));
      if (resume.online.length > 0) {
        for (const { account, jid } of resume.online) await this.#enter(account, jid);
        // An account whose server rejected the certificate asks now, as at login.
        const certificate = resume.failed.find((f) => f.error.certificate);
        if (certificate) this.#failed(toUiError(certificate.error), certificate.jid);
        return;
      }
      const failure = resume.failed.find((f) => f.jid === first?.jid) ?? resume.failed[0];
      this.#failed(failure ? toUiError(failure.error) : null, failure?.jid ?? first?.jid ?? '');
    } catch (error) {
      this.#failed(toUiError(error), first?.jid ?? '');
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
    this.roster.of(account);
    this.session.phase = 'main';
    await this.#refreshContacts(account);
    await this.requests.load(account).catch((error: unknown) => this.notices.error(toUiError(error)));
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
    const account = this.session.accountOf(asked.jid);
    if (account !== undefined) {
      // A reconnect hit it: going online again logs in with the kept login.
      const { show, status } = this.session.presenceOf(account);
      await this.setPresence(show === 'offline' ? 'available' : show, status, account);
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

  /**
   * Logs in (the first account, or one more); on success the main window shows, on failure the
   * error stays for the form.
   */
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
      const jid = bareJid(request.jid);
      const keep = request.remember || request.remember_password === true;
      const kept = this.settings.value.accounts;
      const old = kept.find((a) => a.jid === jid);
      const accounts = !keep
        ? kept.filter((a) => a.jid !== jid)
        : old
          ? kept.map((a) => (a === old ? { ...a, host, port, enabled: true } : a))
          : [...kept, { jid, host, port, enabled: true, color: null }];
      this.settings.load({ ...this.settings.value, accounts });
      await this.#enter(account, request.jid);
      return true;
    } catch (error) {
      this.#failed(toUiError(error), request.jid);
      return false;
    } finally {
      this.session.loggingIn = false;
    }
  }

  async #refreshContacts(account: AccountId): Promise<void> {
    // Avatars are extras: failing to read them leaves the initials, never the list empty.
    this.avatars.load(account).catch((error: unknown) => this.notices.error(toUiError(error)));
    try {
      const contacts = await this.backend.contacts(account);
      // A `roster_loaded` event that came meanwhile is at least as fresh as the cache.
      if (!this.roster.of(account).loaded) this.roster.load(account, contacts);
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
   * Adds a contact (optional name and group) on `account` (the first one if not given) and asks
   * to see their presence; returns the error for the form, or null.
   */
  async addContact(
    jid: string,
    name: string,
    group: string,
    account = this.session.account,
  ): Promise<UiError | null> {
    if (account === null) return null;
    try {
      await this.backend.addContact(account, jid.trim(), name.trim() || null, group.trim() || null);
      return null;
    } catch (error) {
      return toUiError(error);
    }
  }

  /** Renames a contact and sets its groups (blank ones dropped); returns the error, or null. */
  async editContact(
    account: AccountId,
    jid: string,
    name: string,
    groups: readonly string[],
  ): Promise<UiError | null> {
    try {
      const kept = groups.map((g) => g.trim()).filter((g) => g !== '');
      await this.backend.editContact(account, jid, name.trim() || null, kept);
      return null;
    } catch (error) {
      return toUiError(error);
    }
  }

  /** Removes a contact (both stop sharing presence); the chat history stays. */
  async removeContact(account: AccountId, jid: string): Promise<void> {
    await this.#act(() => this.backend.removeContact(account, jid));
  }

  /** Blocks a contact: the server drops everything from them. */
  async blockContact(account: AccountId, jid: string): Promise<void> {
    await this.#act(() => this.backend.block(account, jid, true));
  }

  /** The blocked addresses of every account, as last read from the servers (`loadBlocked`). */
  blockedList = $state<{ account: AccountId; jid: string }[]>([]);

  /** Reads the block lists from the servers (an offline one keeps its last list, without a notice). */
  async loadBlocked(): Promise<void> {
    const lists = await Promise.all(
      [...this.session.accounts.keys()].map(async (account) => {
        try {
          return (await this.backend.blocked(account)).map((jid) => ({ account, jid }));
        } catch {
          // Offline: the settings show the list as last read.
          return this.blockedList.filter((b) => b.account === account);
        }
      }),
    );
    this.blockedList = lists.flat();
  }

  /** Unblocks `jid` on `account` and reads the lists again. */
  async unblock(account: AccountId, jid: string): Promise<void> {
    await this.#act(() => this.backend.block(account, jid, false));
    await this.loadBlocked();
  }

  async #act(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.notices.error(toUiError(error));
    }
  }

  /**
   * Accepts or denies `jid`'s request to see our presence on `account`; `block` denies it and
   * blocks them, so that nothing more comes from them.
   */
  async answerRequest(account: AccountId, jid: string, answer: 'accept' | 'deny' | 'block'): Promise<void> {
    try {
      await this.backend.answerSubscription(account, jid, answer === 'accept');
      if (answer === 'block') await this.backend.block(account, jid, true);
      this.roster.answered(account, jid);
    } catch (error) {
      this.notices.error(toUiError(error));
    }
  }

  /**
   * Accepts `jid`'s request to see our presence on `account`, or denies every one of the
   * requests at once (the grouped requests' "Accept all" / "Deny all").
   */
  async answerAllRequests(accept: boolean): Promise<void> {
    const all = [...this.roster.requests.values()];
    await Promise.all(all.map(({ account, jid }) => this.answerRequest(account, jid, accept ? 'accept' : 'deny')));
  }

  /**
   * Message request from `peer`: Accept opens the add-contact dialog filled in with their address
   * (adding them makes it an ordinary chat).
   */
  acceptMessageRequest(account: AccountId, peer: string): void {
    this.links.offer = { account, jid: peer, name: '', group: '' };
  }

  /** Blocks `peer` (XEP-0191), with a spam report where the server takes one, and closes the request. */
  async blockMessageRequest(account: AccountId, peer: string, report: boolean): Promise<void> {
    try {
      if (report && this.requests.canReport.get(account)) await this.backend.blockAndReport(account, peer);
      else await this.backend.block(account, peer, true);
    } catch (error) {
      this.notices.error(toUiError(error));
      return;
    }
    await this.deleteMessageRequest(account, peer);
  }

  /** Deletes the request's stored messages and closes its chat. */
  async deleteMessageRequest(account: AccountId, peer: string): Promise<void> {
    try {
      await this.backend.deleteConversation(account, peer);
    } catch (error) {
      this.notices.error(toUiError(error));
      return;
    }
    this.requests.remove(account, peer);
    const chat = this.chats.find(account, peer);
    if (chat) this.chats.close(chat.key);
  }

  /** `account` waits to reconnect: try now (the banner's button). */
  async reconnectNow(account: AccountId): Promise<void> {
    await this.#act(() => this.backend.reconnectNow(account));
  }

  /** Logs every account out (their remembered passwords are forgotten) and shows the login form. */
  async logout(): Promise<void> {
    this.chats.closeAll();
    await Promise.all(
      [...this.session.accounts.keys()].map((account) =>
        this.backend.logout(account).catch(() => {
          // Logged out locally regardless; the backend drops the session with the window.
        }),
      ),
    );
    this.#signOut();
  }

  /**
   * Enables a kept account (it logs in with its remembered password; without one, the add-account
   * form opens for it) or disables it (it goes offline, also at the next start).
   */
  async enableAccount(jid: string, enabled: boolean): Promise<void> {
    const accounts = this.settings.value.accounts.map((a) => (a.jid === jid ? { ...a, enabled } : a));
    this.settings.load({ ...this.settings.value, accounts });
    if (!enabled) {
      const account = this.session.accountOf(jid);
      if (account !== undefined) this.#leave(account);
    }
    try {
      const account = await this.backend.enableAccount(jid, enabled);
      if (account !== null) await this.#enter(account, jid);
    } catch (error) {
      const failure = toUiError(error);
      if (!enabled) this.notices.error(failure);
      else if (failure.code === 'password_needed') this.session.addingAccount = { jid };
      else {
        this.session.loginFailures.set(jid, failure);
        if (failure.certificate) this.#failed(failure, jid);
      }
    }
  }

  /** Sets the color `jid` is shown with (`null`: its XEP-0392 color). */
  async setAccountColor(jid: string, color: string | null): Promise<void> {
    try {
      await this.backend.setAccountColor(jid, color);
      const accounts = this.settings.value.accounts.map((a) => (a.jid === jid ? { ...a, color } : a));
      this.settings.load({ ...this.settings.value, accounts });
    } catch (error) {
      this.notices.error(toUiError(error));
    }
  }

  /** The color an account is shown with: the chosen one, else its JID's XEP-0392 color. */
  colorOf(jid: string): string {
    return this.settings.value.accounts.find((a) => a.jid === jid)?.color ?? consistentColor(jid);
  }

  /** `colorOf` a signed-in account. */
  accountColor(account: AccountId): string {
    return this.colorOf(this.session.accounts.get(account) ?? '');
  }

  /** Forgets one account in the window: its chats, contacts and presence. */
  #leave(account: AccountId): void {
    this.chats.closeAll(account);
    this.roster.drop(account);
    this.requests.drop(account);
    this.blockedList = this.blockedList.filter((b) => b.account !== account);
    this.session.signedOutOf(account);
    if (this.session.accounts.size === 0) this.#signOut();
  }

  /** Changes the account's password on the server; returns the error for the form, or null. */
  async changePassword(account: AccountId, password: string): Promise<UiError | null> {
    try {
      await this.backend.changePassword(account, password);
      return null;
    } catch (error) {
      return toUiError(error);
    }
  }

  /**
   * Deletes the account `jid` on its server (the user has confirmed; it must be signed in), or
   * (`remove`) removes it from Charla, signed in or not, keeping or deleting its history. Either
   * way it is signed out and no longer remembered. Returns the error for the dialog, or null.
   */
  async endAccount(jid: string, how: 'delete' | { keepHistory: boolean }): Promise<UiError | null> {
    const account = this.session.accountOf(jid);
    try {
      if (how !== 'delete') await this.backend.removeAccount(jid, how.keepHistory);
      else if (account !== undefined) await this.backend.deleteAccount(account);
      else return toUiError({ code: 'not_connected', message: `${jid} is not signed in` });
    } catch (error) {
      return toUiError(error);
    }
    // The shell forgot the kept account; keep the local copy in step.
    const accounts = this.settings.value.accounts.filter((a) => a.jid !== jid);
    this.settings.load({ ...this.settings.value, accounts });
    this.session.loginFailures.delete(jid);
    if (account !== undefined) this.#leave(account);
    return null;
  }

  #signOut(): void {
    this.roster.reset();
    this.requests.reset();
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

  /**
   * Sets our availability and status text on `account`, or on every signed-in account (the
   * all-accounts choice, which replaces the per-account ones); `offline` disconnects, and any
   * other choice while disconnected makes the backend log in again with the login it kept.
   */
  async setPresence(show: OwnShow, status: string, account?: AccountId): Promise<void> {
    const session = this.session;
    const accounts = account === undefined ? [...session.accounts.keys()] : [account];
    if (accounts.length === 0) return;
    const previous = { show: session.show, status: session.status, own: new Map(session.ownPresence) };
    if (account === undefined) {
      session.show = show;
      session.status = status;
      session.ownPresence.clear();
    } else session.ownPresence.set(account, { show, status });
    const text = status.trim() === '' ? null : status.trim();
    const results = await Promise.allSettled(accounts.map((a) => this.backend.setPresence(a, show, text)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [[accounts[i]!, r.reason] as const] : []));
    for (const r of results) if (r.status === 'fulfilled') this.settings.recentStatuses(r.value);
    if (failed.length === 0) return;
    // What failed keeps what it had.
    if (account === undefined && failed.length === accounts.length) {
      session.show = previous.show;
      session.status = previous.status;
      for (const [a, p] of previous.own) session.ownPresence.set(a, p);
    } else {
      for (const [a] of failed) {
        const before = previous.own.get(a) ?? { show: previous.show, status: previous.status };
        session.ownPresence.set(a, before);
      }
    }
    this.notices.error(toUiError(failed[0]![1]));
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
