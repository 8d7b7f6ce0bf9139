/**
 * The types exchanged with the backend, in one place.
 *
 * The core's types come from the ts-rs bindings (`./bindings`, generated from Rust, never edited
 * by hand). The shell's own types (`src-tauri/src/types.rs`) are mirrored here, exactly as ts-rs
 * generates them, until their bindings are committed; then these become re-exports and nothing
 * else changes.
 */
import type { AccountId } from './bindings/AccountId';
import type { Message } from './bindings/Message';
import type { MessageId } from './bindings/MessageId';

export type { AccountId } from './bindings/AccountId';
export type { ConnectionState } from './bindings/ConnectionState';
export type { ContactPresence } from './bindings/ContactPresence';
export type { CoreError } from './bindings/CoreError';
export type { Direction } from './bindings/Direction';
export type { ErrorCode } from './bindings/ErrorCode';
export type { Event as CoreEvent } from './bindings/Event';
export type { Message } from './bindings/Message';
export type { MessageId } from './bindings/MessageId';
export type { MessageState } from './bindings/MessageState';
export type { RosterEntry } from './bindings/RosterEntry';
export type { Show } from './bindings/Show';
export type { Subscription } from './bindings/Subscription';

/** What the login screen submits. */
export type LoginRequest = {
  jid: string;
  password: string;
  /** Remember the address and server for the next start (never the password). */
  remember: boolean;
  host: string | null;
  port: number | null;
};

/** A demo account offered on the login screen in sandbox mode. */
export type DemoAccount = { jid: string; password: string };

/** The local sandbox server the app was started against. */
export type SandboxInfo = {
  domain: string;
  accounts: Array<DemoAccount>;
  /** The account to preselect, if it is a demo account. */
  preselect: string | null;
};

/** The login remembered from the last start ("remember me"). */
export type RememberedLogin = { jid: string; host: string | null; port: number | null };

/** User settings kept by the shell. */
export type Settings = {
  close_to_tray: boolean;
  notifications: boolean;
  remembered: RememberedLogin | null;
};

/** A conversation: an account and the peer's bare JID. */
export type ChatRef = { account: AccountId; peer: string };

/** Everything the UI needs at start. */
export type AppInfo = {
  version: string;
  sandbox: SandboxInfo | null;
  settings: Settings;
  /** Set when this window shows a single chat (a popped-out chat window). */
  popped_out: ChatRef | null;
};

/** A change to an open chat view, sent over the channel given to `open_chat`. */
export type ChatUpdate = { type: 'added'; message: Message } | { type: 'updated'; message: Message };

/** Events from the shell itself (the core's own come as `CoreEvent`). */
export type ShellEvent =
  | {
      type: 'unread_changed';
      chat: ChatRef;
      count: number;
      total: number;
      last: MessageId | null;
    }
  | { type: 'open_chat'; chat: ChatRef };
