/**
 * Where the app is (starting, login, main window, pop-out), the signed-in accounts, their
 * connections and our own presence (for all accounts, or per account).
 */
import { SvelteMap } from 'svelte/reactivity';
import type { AccountId, AppInfo, CertificateProblem, ConnectionState, Show } from '$lib/contract';
import type { UiError } from '$lib/errors';

export type Phase = 'starting' | 'failed' | 'login' | 'main' | 'popout';

/** The presence choices offered for ourselves, in menu order. */
export const OWN_SHOWS = ['available', 'away', 'xa', 'dnd', 'offline'] as const satisfies readonly Show[];
export type OwnShow = (typeof OWN_SHOWS)[number];

export function isOwnShow(value: string): value is OwnShow {
  return (OWN_SHOWS as readonly string[]).includes(value);
}

/** The bare form of a JID (`user@domain`). */
export function bareJid(jid: string): string {
  const slash = jid.indexOf('/');
  return (slash < 0 ? jid : jid.slice(0, slash)).trim();
}

export class SessionStore {
  phase = $state<Phase>('starting');
  info = $state.raw<AppInfo | null>(null);
  startError = $state.raw<UiError | null>(null);

  /** The first signed-in account: the one used where no account is chosen. */
  account = $state<AccountId | null>(null);
  /** The first account's bare JID. */
  jid = $state('');
  /** Every signed-in account and its bare JID, in the order they signed in. */
  readonly accounts = new SvelteMap<AccountId, string>();
  /** Presence chosen for one account, where it differs from the all-accounts choice. */
  readonly ownPresence = new SvelteMap<AccountId, { show: OwnShow; status: string }>();
  /** Why each account's connection last failed (shown while it is not online). */
  readonly connectionErrors = new SvelteMap<AccountId, UiError>();
  /** Why the login of a kept account failed at start, by JID (shown in the accounts list). */
  readonly loginFailures = new SvelteMap<string, UiError>();
  readonly connections = new SvelteMap<AccountId, ConnectionState>();
  /** When a reconnecting account tries next (unix ms), per account. */
  readonly retryAt = new SvelteMap<AccountId, number>();

  /** Our own presence as chosen for all accounts. */
  show = $state<OwnShow>('available');
  status = $state('');
  /** What the shell shows instead while the desktop is idle (auto-away), or null. */
  autoShow = $state<Show | null>(null);

  /** Whether several accounts are signed in (their colors then show). */
  readonly multi: boolean = $derived(this.accounts.size > 1);

  loggingIn = $state(false);
  loginError = $state.raw<UiError | null>(null);
  /** Why passwords cannot be kept in the OS keyring (no keyring, locked), if so. */
  keyringError = $state.raw<UiError | null>(null);
  /** The add-account form is open, prefilled with this address (empty for a new account). */
  addingAccount = $state.raw<{ jid: string } | null>(null);
  /** An untrusted server certificate the user is asked about, with the account it was for. */
  certificate = $state.raw<{ jid: string; problem: CertificateProblem } | null>(null);

  /** The signed-in account with bare JID `jid`, if any. */
  accountOf(jid: string): AccountId | undefined {
    for (const [account, signedIn] of this.accounts) if (signedIn === jid) return account;
    return undefined;
  }

  /** An account's connection (online until told otherwise once signed in). */
  connectionOf(account: AccountId): ConnectionState {
    return this.connections.get(account) ?? { state: 'online', jid: this.accounts.get(account) ?? '' };
  }

  /** The presence chosen for `account`: its own, else the all-accounts one. */
  presenceOf(account: AccountId): { show: OwnShow; status: string } {
    return this.ownPresence.get(account) ?? { show: this.show, status: this.status };
  }

  /**
   * The core says which presence `account` shows (the core is its one source): kept per account
   * where it differs from the all-accounts choice. A choice made in another window, or restored
   * by a login the backend made on its own, shows here too.
   */
  presenceShown(account: AccountId, show: Show, status: string | null): void {
    if (!this.accounts.has(account) || !isOwnShow(show)) return;
    const shown = { show, status: status ?? '' };
    if (shown.show === this.show && shown.status === this.status.trim()) this.ownPresence.delete(account);
    else this.ownPresence.set(account, shown);
  }

  setConnection(account: AccountId, state: ConnectionState, now: number): void {
    this.connections.set(account, state);
    if (state.state === 'online') this.connectionErrors.delete(account);
    if (state.state === 'reconnecting') this.retryAt.set(account, now + state.retry_in_ms);
    else this.retryAt.delete(account);
  }

  /** Whole seconds until `account` tries to reconnect, or null if no attempt is scheduled. */
  secondsUntilRetry(account: AccountId, now: number): number | null {
    if (this.connectionOf(account).state !== 'reconnecting') return null;
    const at = this.retryAt.get(account);
    return at === undefined ? null : Math.max(0, Math.ceil((at - now) / 1000));
  }

  /** `account` is signed in; the first one also starts a fresh own presence. */
  signedIn(account: AccountId, jid: string): void {
    if (this.account === null) {
      this.account = account;
      this.jid = bareJid(jid);
      this.show = 'available';
      this.status = '';
      this.autoShow = null;
    }
    this.accounts.set(account, bareJid(jid));
    this.loginFailures.delete(bareJid(jid));
    this.loginError = null;
    this.connectionErrors.delete(account);
  }

  /** `account` is no longer signed in (disabled, logged out, removed); the next one comes first. */
  signedOutOf(account: AccountId): void {
    this.accounts.delete(account);
    this.connections.delete(account);
    this.retryAt.delete(account);
    this.ownPresence.delete(account);
    this.connectionErrors.delete(account);
    if (this.account !== account) return;
    const next = this.accounts.entries().next();
    this.account = next.done ? null : next.value[0];
    this.jid = next.done ? '' : next.value[1];
  }

  signedOut(): void {
    this.account = null;
    this.jid = '';
    this.accounts.clear();
    this.connections.clear();
    this.retryAt.clear();
    this.ownPresence.clear();
    this.connectionErrors.clear();
    this.show = 'available';
    this.status = '';
    this.autoShow = null;
  }
}
