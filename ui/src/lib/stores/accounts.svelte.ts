/**
 * The kept accounts (`AccountSettings`): enabling and disabling them, their colors, changing a
 * password, and deleting or removing an account. The shell keeps the list; the settings here
 * follow each change.
 */
import type { Backend } from '$lib/api';
import type { AccountId, AccountSettings } from '$lib/contract';
import { failureOf, toUiError, type UiError } from '$lib/errors';
import { consistentColor } from '$lib/util/color';
import type { NoticeStore } from './notices.svelte';
import type { SessionStore } from './session.svelte';
import type { SettingsStore } from './settings.svelte';
import type { SignInStore } from './signin.svelte';

/** The stores the accounts' changes reach. */
export interface AccountsStores {
  session: SessionStore;
  settings: SettingsStore;
  notices: NoticeStore;
  /** What enabling, disabling and ending an account needs of signing in and out. */
  signIn: Pick<SignInStore, 'enter' | 'leave' | 'failed'>;
}

export class AccountsStore {
  readonly #backend: Backend;
  readonly #stores: AccountsStores;

  constructor(backend: Backend, stores: AccountsStores) {
    this.#backend = backend;
    this.#stores = stores;
  }

  /** Shows the kept accounts as the shell answered them. */
  #keep(accounts: AccountSettings[]): void {
    const { settings } = this.#stores;
    settings.load({ ...settings.value, accounts });
  }

  /**
   * Enables a kept account (it logs in with its remembered password; without one, the add-account
   * form opens for it) or disables it (it goes offline, also at the next start).
   */
  async enable(jid: string, enabled: boolean): Promise<void> {
    const { session, settings, notices, signIn } = this.#stores;
    // The switch moves at once; the shell's answer then says how the list is.
    this.#keep(settings.value.accounts.map((a) => (a.jid === jid ? { ...a, enabled } : a)));
    if (!enabled) {
      const account = session.accountOf(jid);
      if (account !== undefined) signIn.leave(account);
    }
    try {
      const { signed_in, kept } = await this.#backend.enableAccount(jid, enabled);
      this.#keep(kept);
      if (signed_in !== null) await signIn.enter(signed_in, jid);
    } catch (error) {
      const failure = toUiError(error);
      if (!enabled) notices.error(failure);
      else if (failure.code === 'password_needed') session.addingAccount = { jid };
      else {
        session.loginFailures.set(jid, failure);
        if (failure.certificate) signIn.failed(failure, jid);
      }
    }
  }

  /** Sets the color `jid` is shown with (`null`: its XEP-0392 color). */
  async setColor(jid: string, color: string | null): Promise<void> {
    await this.#stores.notices.attempt(async () => this.#keep(await this.#backend.setAccountColor(jid, color)));
  }

  /** The color an account is shown with: the chosen one, else its JID's XEP-0392 color. */
  colorOf(jid: string): string {
    return this.#stores.settings.value.accounts.find((a) => a.jid === jid)?.color ?? consistentColor(jid);
  }

  /** `colorOf` a signed-in account. */
  color(account: AccountId): string {
    return this.colorOf(this.#stores.session.accounts.get(account) ?? '');
  }

  /** Changes the account's password on the server; returns the error for the form, or null. */
  changePassword(account: AccountId, password: string): Promise<UiError | null> {
    return failureOf(() => this.#backend.changePassword(account, password));
  }

  /**
   * Deletes the account `jid` on its server (the user has confirmed; it must be signed in), or
   * (`remove`) removes it from Charla, signed in or not, keeping or deleting its history. Either
   * way it is signed out and no longer remembered. Returns the error for the dialog, or null.
   */
  async end(jid: string, how: 'delete' | { keepHistory: boolean }): Promise<UiError | null> {
    const { session, signIn } = this.#stores;
    const account = session.accountOf(jid);
    const request =
      how !== 'delete'
        ? () => this.#backend.removeAccount(jid, how.keepHistory)
        : account !== undefined
          ? () => this.#backend.deleteAccount(account)
          : null;
    if (request === null) return toUiError({ code: 'not_connected', message: `${jid} is not signed in` });
    let kept: AccountSettings[];
    try {
      kept = await request();
    } catch (error) {
      return toUiError(error);
    }
    // The shell forgot the kept account.
    this.#keep(kept);
    session.loginFailures.delete(jid);
    if (account !== undefined) signIn.leave(account);
    return null;
  }
}
