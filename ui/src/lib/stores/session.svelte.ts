/**
 * Where the app is (starting, login, main window, pop-out), the logged-in account, its
 * connection and our own presence.
 */
import { SvelteMap } from 'svelte/reactivity';
import type { AccountId, AppInfo, ConnectionState, Show } from '$lib/contract';
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

  account = $state<AccountId | null>(null);
  /** The account's bare JID. */
  jid = $state('');
  readonly connections = new SvelteMap<AccountId, ConnectionState>();
  /** When a reconnecting account tries next (unix ms), per account. */
  readonly retryAt = new SvelteMap<AccountId, number>();

  /** Our own presence as chosen. */
  show = $state<OwnShow>('available');
  status = $state('');
  /** What the shell shows instead while the desktop is idle (auto-away), or null. */
  autoShow = $state<Show | null>(null);

  /** Why the current account's connection last failed (shown while it is not online). */
  connectionError = $state.raw<UiError | null>(null);

  loggingIn = $state(false);
  loginError = $state.raw<UiError | null>(null);

  /** The current account's connection (online until told otherwise once logged in). */
  readonly connection: ConnectionState = $derived.by(() => {
    if (this.account === null) return { state: 'disconnected' };
    return this.connections.get(this.account) ?? { state: 'online', jid: this.jid };
  });

  setConnection(account: AccountId, state: ConnectionState, now: number): void {
    this.connections.set(account, state);
    if (state.state === 'online' && account === this.account) this.connectionError = null;
    if (state.state === 'reconnecting') this.retryAt.set(account, now + state.retry_in_ms);
    else this.retryAt.delete(account);
  }

  /** Whole seconds until the next reconnection attempt, or null if none is scheduled. */
  secondsUntilRetry(now: number): number | null {
    if (this.account === null || this.connection.state !== 'reconnecting') return null;
    const at = this.retryAt.get(this.account);
    return at === undefined ? null : Math.max(0, Math.ceil((at - now) / 1000));
  }

  signedIn(account: AccountId, jid: string): void {
    this.account = account;
    this.jid = bareJid(jid);
    this.show = 'available';
    this.status = '';
    this.autoShow = null;
    this.loginError = null;
    this.connectionError = null;
  }

  signedOut(): void {
    this.account = null;
    this.jid = '';
    this.connections.clear();
    this.retryAt.clear();
    this.show = 'available';
    this.status = '';
    this.autoShow = null;
    this.connectionError = null;
  }
}
