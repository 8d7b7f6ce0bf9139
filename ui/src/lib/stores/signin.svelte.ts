/**
 * Signing in and out: the remembered logins at start, the login form, the certificate dialog,
 * logout, and what entering or leaving an account changes in the window.
 */
import type { Backend } from '$lib/api';
import type { AccountId, LoginRequest } from '$lib/contract';
import { toUiError, type UiError } from '$lib/errors';
import type { BlockingStore } from './blocking.svelte';
import type { ChatsStore } from './chats.svelte';
import type { ContactsStore } from './contacts.svelte';
import type { LinkStore } from './links.svelte';
import type { NoticeStore } from './notices.svelte';
import type { PresenceStore } from './presence.svelte';
import type { RequestsStore } from './requests.svelte';
import type { RoomsStore } from './rooms.svelte';
import type { RosterStore } from './roster.svelte';
import { bareJid, type SessionStore } from './session.svelte';
import type { SettingsStore } from './settings.svelte';
import type { UnreadStore } from './unread.svelte';

/** The stores signing in and out changes. */
export interface SignInStores {
  session: SessionStore;
  settings: SettingsStore;
  roster: RosterStore;
  chats: ChatsStore;
  unread: UnreadStore;
  notices: NoticeStore;
  links: LinkStore;
  requests: RequestsStore;
  rooms: RoomsStore;
  contacts: ContactsStore;
  blocking: BlockingStore;
  presence: PresenceStore;
}

export class SignInStore {
  readonly #backend: Backend;
  readonly #stores: SignInStores;

  constructor(backend: Backend, stores: SignInStores) {
    this.#backend = backend;
    this.#stores = stores;
  }

  /** What the last login attempt was, so that trusting a certificate can repeat it. */
  #retry: () => Promise<unknown> = () => this.resume();

  /**
   * Logs every enabled account in with its password remembered in the OS keyring (the login form
   * never shows then), or shows the login form with the reason: no keyring, or the remembered
   * login failed. Accounts that could not log in are marked in the accounts list.
   */
  async resume(): Promise<void> {
    const { session, settings } = this.#stores;
    this.#retry = () => this.resume();
    const first = settings.value.accounts.find((a) => a.enabled) ?? null;
    session.loggingIn = true;
    try {
      const resume = await this.#backend.resumeLogin();
      session.keyringError = resume.keyring ? toUiError(resume.keyring) : null;
      for (const { jid, error } of resume.failed) session.loginFailures.set(jid, toUiError(error));
      if (resume.online.length > 0) {
        for (const { account, jid } of resume.online) await this.enter(account, jid);
        // An account whose server rejected the certificate asks now, as at login.
        const certificate = resume.failed.find((f) => f.error.certificate);
        if (certificate) this.failed(toUiError(certificate.error), certificate.jid);
        return;
      }
      const failure = resume.failed.find((f) => f.jid === first?.jid) ?? resume.failed[0];
      this.failed(failure ? toUiError(failure.error) : null, failure?.jid ?? first?.jid ?? '');
    } catch (error) {
      this.failed(toUiError(error), first?.jid ?? '');
    } finally {
      session.loggingIn = false;
    }
    session.phase = 'login';
  }

  /** Keeps a login error for the form; an untrusted certificate also opens its dialog. */
  failed(error: UiError | null, jid: string): void {
    const { session } = this.#stores;
    session.loginError = error;
    session.certificate = error?.certificate ? { jid: bareJid(jid), problem: error.certificate } : null;
  }

  /** `account` is signed in as `jid`: the main window shows with its contacts and requests. */
  async enter(account: AccountId, jid: string): Promise<void> {
    const { session, roster, contacts, requests, rooms, notices, links } = this.#stores;
    session.signedIn(account, jid);
    roster.of(account);
    session.phase = 'main';
    await contacts.refresh(account);
    await requests.load(account).catch((error: unknown) => notices.error(toUiError(error)));
    await rooms.load(account).catch((error: unknown) => notices.error(toUiError(error)));
    links.flush();
  }

  /** Trusts the certificate in the dialog for its account, then repeats the login. */
  async trustCertificate(): Promise<void> {
    const { session, notices, presence } = this.#stores;
    const asked = session.certificate;
    if (asked === null) return;
    session.certificate = null;
    try {
      await this.#backend.trustCertificate(asked.jid, asked.problem.fingerprint);
    } catch (error) {
      if (session.phase === 'main') notices.error(toUiError(error));
      else session.loginError = toUiError(error);
      return;
    }
    const account = session.accountOf(asked.jid);
    if (account !== undefined) {
      // A reconnect hit it: going online again logs in with the kept login.
      const { show, status } = session.presenceOf(account);
      await presence.set(show === 'offline' ? 'available' : show, status, account);
    } else {
      await this.#retry();
    }
  }

  /** Closes the certificate dialog without trusting it; the login stays failed. */
  cancelCertificate(): void {
    this.#stores.session.certificate = null;
  }

  /**
   * Logs in (the first account, or one more); on success the main window shows, on failure the
   * error stays for the form.
   */
  async login(request: LoginRequest): Promise<boolean> {
    const { session, settings } = this.#stores;
    if (session.loggingIn) return false;
    this.#retry = () => this.login(request);
    session.loggingIn = true;
    session.loginError = null;
    session.certificate = null;
    try {
      const { signed_in, kept } = await this.#backend.login(request);
      // The shell kept (or forgot) the login as asked: its list is the one to show.
      settings.load({ ...settings.value, accounts: kept });
      if (signed_in !== null) await this.enter(signed_in, request.jid);
      return true;
    } catch (error) {
      this.failed(toUiError(error), request.jid);
      return false;
    } finally {
      session.loggingIn = false;
    }
  }

  /** Logs every account out (their remembered passwords are forgotten) and shows the login form. */
  async logout(): Promise<void> {
    const { session, chats } = this.#stores;
    chats.closeAll();
    await Promise.all(
      [...session.accounts.keys()].map((account) =>
        this.#backend.logout(account).catch(() => {
          // Logged out locally regardless; the backend drops the session with the window.
        }),
      ),
    );
    this.#signOut();
  }

  /** Forgets one account in the window: its chats, contacts and presence. */
  leave(account: AccountId): void {
    const { session, chats, roster, requests, rooms, blocking } = this.#stores;
    chats.closeAll(account);
    rooms.forgetAccount(account);
    roster.drop(account);
    requests.drop(account);
    blocking.drop(account);
    session.signedOutOf(account);
    if (session.accounts.size === 0) this.#signOut();
  }

  #signOut(): void {
    const { session, roster, requests, rooms, unread, notices, links } = this.#stores;
    for (const account of session.accounts.keys()) rooms.forgetAccount(account);
    roster.reset();
    requests.reset();
    unread.reset();
    notices.clear();
    links.closeOffer();
    session.signedOut();
    session.phase = 'login';
  }
}
