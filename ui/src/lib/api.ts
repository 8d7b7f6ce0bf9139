/**
 * The backend, seen from the UI: typed wrappers over the shell's Tauri commands and events.
 *
 * This is the only module that touches `invoke`, `listen` or `Channel`. Stores receive a
 * `Backend` (this one in the app, a fake in tests), so they never depend on Tauri.
 */
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  AccountId,
  AppInfo,
  ChatRef,
  ChatState as PeerState,
  ChatUpdate,
  CoreEvent,
  LoginRequest,
  Message,
  MessageId,
  MessageRequest,
  PresenceEntry,
  RegisterRequest,
  RegistrationForm,
  Resume,
  Profile,
  RosterEntry,
  Settings,
  ShellEvent,
  Show,
  XmppLink,
} from './contract';
import { toUiError } from './errors';

export { toUiError, type UiError } from './errors';

/** Stops a subscription. */
export type Unsubscribe = () => void;

/** Everything the UI asks of the backend. Every method rejects with a `UiError`. */
export interface Backend {
  appInfo(): Promise<AppInfo>;
  login(request: LoginRequest): Promise<AccountId>;
  /** At start: logs in with the password remembered in the OS keyring, or says why not. */
  resumeLogin(): Promise<Resume>;
  /** Trusts the certificate the last login of `jid` rejected (shown to the user), for that account. */
  trustCertificate(jid: string, fingerprint: string): Promise<void>;
  logout(account: AccountId): Promise<void>;
  /** While the account waits to reconnect, tries at once. */
  reconnectNow(account: AccountId): Promise<void>;
  /**
   * Enables a kept account (connects it with its remembered password: answers its id; rejects with
   * `password_needed` when there is none) or disables it (answers null).
   */
  enableAccount(jid: string, enabled: boolean): Promise<AccountId | null>;
  /** Sets the color a kept account is shown with (`#rrggbb`; null: its default). */
  setAccountColor(jid: string, color: string | null): Promise<void>;
  /** Changes our presence; answers the recent status messages, this one first. */
  setPresence(account: AccountId, show: Show, status: string | null): Promise<string[]>;
  /** Seconds since `jid` was last online, if their server tells (XEP-0012). */
  lastActivity(account: AccountId, jid: string): Promise<number | null>;
  contacts(account: AccountId): Promise<RosterEntry[]>;
  /** Presence of the account's online contacts, for windows opened after it arrived. */
  presences(account: AccountId): Promise<PresenceEntry[]>;
  /** Opens a chat view: the first page (newest first); later changes go to `onUpdate`. */
  openChat(account: AccountId, peer: string, onUpdate: (update: ChatUpdate) => void): Promise<Message[]>;
  closeChat(account: AccountId, peer: string): Promise<void>;
  /** The page before `before`, newest first; empty when there is no more. */
  loadOlder(account: AccountId, peer: string, before: MessageId): Promise<Message[]>;
  sendMessage(account: AccountId, to: string, body: string): Promise<Message>;
  /** Tells `peer` our chat state (typing, paused, ...). */
  sendChatState(account: AccountId, peer: string, state: PeerState): Promise<void>;
  /** The blocked addresses, from the server. */
  blocked(account: AccountId): Promise<string[]>;
  /** Blocks (or unblocks) `jid`: the server drops everything from them. */
  block(account: AccountId, jid: string, block: boolean): Promise<void>;
  /** Blocks `jid` and reports them as spam (XEP-0377) where the server takes reports. */
  blockAndReport(account: AccountId, jid: string): Promise<void>;
  /** Whether the account's server takes spam reports (XEP-0377). */
  canReport(account: AccountId): Promise<boolean>;
  /** The account's message requests (conversations with strangers), newest first. */
  messageRequests(account: AccountId): Promise<MessageRequest[]>;
  /** Deletes the stored conversation with `peer`; resolves with how many messages went. */
  deleteConversation(account: AccountId, peer: string): Promise<number>;
  /** Renames a contact and sets its groups. */
  editContact(account: AccountId, jid: string, name: string | null, groups: string[]): Promise<void>;
  /** Removes a contact, which ends the presence sharing both ways. */
  removeContact(account: AccountId, jid: string): Promise<void>;
  /** Adds a contact and asks to see their presence. */
  addContact(account: AccountId, jid: string, name: string | null, group: string | null): Promise<void>;
  /** Answers `jid`'s request to see our presence. */
  answerSubscription(account: AccountId, jid: string, accept: boolean): Promise<void>;
  /** Sends one of our failed messages again; it comes back as pending. */
  retryMessage(account: AccountId, message: MessageId): Promise<Message>;
  focusChat(chat: ChatRef | null): Promise<void>;
  /** The user has seen the chat up to this incoming message (sends a read marker if enabled). */
  markDisplayed(account: AccountId, peer: string, message: MessageId): Promise<void>;
  /** Opens an http, https or mailto link in the system's handler. */
  openLink(url: string): Promise<void>;
  /** Parses an `xmpp:` link (rejects with `bad_link`). */
  parseLink(url: string): Promise<XmppLink>;
  /** The `xmpp:` link Charla was started or launched again with, once; rejects with `bad_link`. */
  takeLink(): Promise<XmppLink | null>;
  saveSettings(settings: Settings): Promise<void>;
  popOutChat(chat: ChatRef): Promise<void>;
  /** The extra fields a server asks of a new account (XEP-0077), or why it allows none. */
  registrationForm(request: RegisterRequest): Promise<RegistrationForm>;
  /** Creates the account on its server; then it can log in. */
  registerAccount(request: RegisterRequest): Promise<void>;
  /** Changes the logged-in account's password on the server. */
  changePassword(account: AccountId, password: string): Promise<void>;
  /** Deletes the account on its server (after the user confirmed); it is then signed out. */
  deleteAccount(account: AccountId): Promise<void>;
  /** Removes the account from Charla, keeping or deleting its local history. */
  removeAccount(jid: string, keepHistory: boolean): Promise<void>;
  /** The recorded avatar hash of each contact (and of the account), by bare JID. */
  avatars(account: AccountId): Promise<Record<string, string>>;
  /** The cached image of avatar `hash` as a `data:` URL, or null if it is not cached. */
  avatarImage(hash: string): Promise<string | null>;
  /** Sets our avatar from an image file (base64 of its bytes; null removes it); the new hash. */
  setAvatar(account: AccountId, image: string | null): Promise<string | null>;
  /** `jid`'s profile (vCard); ours for our own JID. */
  profile(account: AccountId, jid: string): Promise<Profile>;
  /** Sets our full name and nickname. */
  setProfile(account: AccountId, fullName: string | null, nickname: string | null): Promise<void>;
  /** Subscribes to the core's events (`core-event`). */
  onCoreEvent(handler: (event: CoreEvent) => void): Promise<Unsubscribe>;
  /** Subscribes to the shell's events (`shell-event`). */
  onShellEvent(handler: (event: ShellEvent) => void): Promise<Unsubscribe>;
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw toUiError(error);
  }
}

/** The real backend: the Tauri shell. */
export const tauriBackend: Backend = {
  appInfo: () => call('app_info'),
  login: (request) => call('login', { request }),
  resumeLogin: () => call('resume_login'),
  trustCertificate: (jid, fingerprint) => call('trust_certificate', { jid, fingerprint }),
  logout: (account) => call('logout', { account }),
  reconnectNow: (account) => call('reconnect_now', { account }),
  enableAccount: (jid, enabled) => call('enable_account', { jid, enabled }),
  setAccountColor: (jid, color) => call('set_account_color', { jid, color }),
  setPresence: (account, show, status) => call('set_presence', { account, show, status }),
  lastActivity: (account, jid) => call('last_activity', { account, jid }),
  contacts: (account) => call('contacts', { account }),
  presences: (account) => call('presences', { account }),
  openChat(account, peer, onUpdate) {
    const updates = new Channel<ChatUpdate>();
    updates.onmessage = onUpdate;
    return call('open_chat', { account, peer, updates });
  },
  closeChat: (account, peer) => call('close_chat', { account, peer }),
  loadOlder: (account, peer, before) => call('load_older', { account, peer, before }),
  sendMessage: (account, to, body) => call('send_message', { account, to, body }),
  retryMessage: (account, message) => call('retry_message', { account, message }),
  answerSubscription: (account, jid, accept) => call('answer_subscription', { account, jid, accept }),
  addContact: (account, jid, name, group) => call('add_contact', { account, jid, name, group }),
  block: (account, jid, block) => call('block', { account, jid, block }),
  blocked: (account) => call('blocked', { account }),
  blockAndReport: (account, jid) => call('block_and_report', { account, jid }),
  canReport: (account) => call('can_report', { account }),
  messageRequests: (account) => call('message_requests', { account }),
  deleteConversation: (account, peer) => call('delete_conversation', { account, peer }),
  removeContact: (account, jid) => call('remove_contact', { account, jid }),
  editContact: (account, jid, name, groups) => call('edit_contact', { account, jid, name, groups }),
  sendChatState: (account, peer, state) => call('chat_state', { account, peer, state }),
  focusChat: (chat) => call('focus_chat', { chat }),
  markDisplayed: (account, peer, message) => call('mark_displayed', { account, peer, message }),
  openLink: (url) => call('open_link', { url }),
  parseLink: (url) => call('parse_link', { url }),
  takeLink: () => call('take_link'),
  saveSettings: (settings) => call('save_settings', { settings }),
  popOutChat: (chat) => call('pop_out_chat', { chat }),
  registrationForm: (request) => call('registration_form', { request }),
  registerAccount: (request) => call('register_account', { request }),
  changePassword: (account, password) => call('change_password', { account, password }),
  deleteAccount: (account) => call('delete_account', { account }),
  removeAccount: (jid, keepHistory) => call('remove_account', { jid, keepHistory }),
  avatars: (account) => call('avatars', { account }),
  avatarImage: (hash) => call('avatar_image', { hash }),
  setAvatar: (account, image) => call('set_avatar', { account, image }),
  profile: (account, jid) => call('profile', { account, jid }),
  setProfile: (account, fullName, nickname) => call('set_profile', { account, fullName, nickname }),
  onCoreEvent: (handler) => listen<CoreEvent>('core-event', (event) => handler(event.payload)),
  onShellEvent: (handler) => listen<ShellEvent>('shell-event', (event) => handler(event.payload)),
};
