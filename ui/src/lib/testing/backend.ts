/** A scriptable in-memory `Backend` for store and component tests. */
import type { Backend } from '$lib/api';
import type {
  AccountId,
  AccountSettings,
  AccountsNow,
  AppInfo,
  ChatUpdate,
  CoreEvent,
  Draft,
  Message,
  MessageRef,
  MessageId,
  MessageRequest,
  PresenceEntry,
  RegistrationForm,
  Resume,
  Profile,
  Affiliated,
  Occupant,
  PublicRoom,
  RoomInfo,
  RoomSettings,
  RoomEntry,
  RoomMessage,
  RoomNotify,
  RoomMessageId,
  RoomUpdate,
  RosterEntry,
  Settings,
  ShellEvent,
  XmppLink,
} from '$lib/contract';
import { plain } from './fixtures';

export interface Call {
  name: keyof Backend;
  args: unknown[];
}

/** The shell's default settings. */
export function defaultSettings(): Settings {
  return {
    close_to_tray: false,
    notifications: true,
    notify_strangers: false,
    read_markers: true,
    accounts: [],
    auto_away: { away_after_secs: 300, xa_after_secs: 1200 },
    recent_statuses: [],
    room_notify: [],
    forgotten_rooms: [],
  };
}

/** An occupant as the core tells it: a participant with no affiliation (`over` changes any field). */
export function occupant(nick: string, over: Partial<Occupant> = {}): Occupant {
  return {
    nick,
    display: nick,
    disguised: false,
    role: 'participant',
    affiliation: 'none',
    real_jid: null,
    occupant_id: null,
    show: 'available',
    status: null,
    ...over,
  };
}

/** A room line as the core stores it (`over` changes any field). */
export function roomLine(id: number, over: Partial<RoomMessage> = {}): RoomMessage {
  return {
    id,
    room_id: 1,
    account_id: 1,
    room: 'family@conference.example.org',
    direction: 'in',
    nick: 'bob',
    occupant_id: null,
    real_jid: null,
    body: `line ${id}`,
    server_time: null,
    local_time: id * 1000,
    origin_id: null,
    stanza_id: null,
    state: 'received',
    error: null,
    private_with: null,
    mentions_us: false,
    rich: plain(),
    ...over,
  };
}

export function appInfo(overrides: Partial<AppInfo> = {}): AppInfo {
  return {
    version: '0.1.0',
    sandbox: null,
    settings: defaultSettings(),
    popped_out: null,
    devtools: false,
    ...overrides,
  };
}

export class FakeBackend implements Backend {
  calls: Call[] = [];
  info: AppInfo = appInfo();
  /** What `login` does: resolve with an account, or reject with an error. */
  loginResult: () => Promise<AccountId> = () => Promise.resolve(1);
  roster: RosterEntry[] = [];
  /** What `presences` answers. */
  online: PresenceEntry[] = [];
  /** Full history per peer, any order; pages are served newest first. */
  history = new Map<string, Message[]>();
  pageSize = 3;
  channels = new Map<string, (update: ChatUpdate) => void>();
  coreHandlers: ((event: CoreEvent) => void)[] = [];
  shellHandlers: ((event: ShellEvent) => void)[] = [];
  nextId = 1000;
  failSend: unknown = null;

  #record(name: keyof Backend, ...args: unknown[]): void {
    this.calls.push({ name, args });
  }

  called(name: keyof Backend): unknown[][] {
    return this.calls.filter((c) => c.name === name).map((c) => c.args);
  }

  #page(peer: string, before: MessageId | null): Message[] {
    const all = [...(this.history.get(peer) ?? [])].sort((a, b) => b.id - a.id);
    return all.filter((m) => before === null || m.id < before).slice(0, this.pageSize);
  }

  appInfo() {
    this.#record('appInfo');
    return Promise.resolve(this.info);
  }
  /** The signed-in accounts' bare JIDs, as the fake's logins (and `resumeLogin`) answered them. */
  jids = new Map<AccountId, string>();
  /** The kept accounts (the shell's truth, which `appInfo` starts the UI with). */
  get keptAccounts(): AccountSettings[] {
    return this.info.settings.accounts;
  }
  set keptAccounts(accounts: AccountSettings[]) {
    this.info = { ...this.info, settings: { ...this.info.settings, accounts } };
  }
  #keptNow(signed_in: AccountId | null): AccountsNow {
    return { signed_in, kept: this.keptAccounts };
  }
  async login(request: Parameters<Backend['login']>[0]) {
    this.#record('login', request);
    const account = await this.loginResult();
    // The shell's rule: a login is kept when asked to remember it (or its password).
    const jid = request.jid.split('/')[0]!;
    const { host, port } = request;
    const old = this.keptAccounts.find((a) => a.jid === jid);
    this.keptAccounts = !(request.remember || request.remember_password === true)
      ? this.keptAccounts.filter((a) => a.jid !== jid)
      : old
        ? this.keptAccounts.map((a) => (a === old ? { ...a, host, port, enabled: true } : a))
        : [...this.keptAccounts, { jid, host, port, enabled: true, color: null }];
    this.jids.set(account, jid);
    return this.#keptNow(account);
  }
  /** What `resumeLogin` answers at start. */
  resumeResult: () => Promise<Resume> = () => Promise.resolve({ online: [], failed: [], keyring: null });
  async resumeLogin() {
    this.#record('resumeLogin');
    const resume = await this.resumeResult();
    for (const { account, jid } of resume.online) this.jids.set(account, jid);
    return resume;
  }
  trustCertificate(...args: Parameters<Backend['trustCertificate']>) {
    this.#record('trustCertificate', ...args);
    return Promise.resolve();
  }
  logout(account: AccountId) {
    this.#record('logout', account);
    return Promise.resolve();
  }
  reconnectNow(account: AccountId) {
    this.#record('reconnectNow', account);
    return Promise.resolve();
  }
  /** What `enableAccount` does when enabling: resolve with an account, or reject with an error. */
  enableResult: () => Promise<AccountId> = () => Promise.resolve(2);
  async enableAccount(jid: string, enabled: boolean) {
    this.#record('enableAccount', jid, enabled);
    this.keptAccounts = this.keptAccounts.map((a) => (a.jid === jid ? { ...a, enabled } : a));
    if (!enabled) return this.#keptNow(null);
    const account = await this.enableResult();
    this.jids.set(account, jid);
    return this.#keptNow(account);
  }
  setAccountColor(jid: string, color: string | null) {
    this.#record('setAccountColor', jid, color);
    this.keptAccounts = this.keptAccounts.map((a) => (a.jid === jid ? { ...a, color } : a));
    return Promise.resolve(this.keptAccounts);
  }
  /** What `setPresence` answers: the recent status messages. */
  recentStatuses: string[] = [];
  setPresence(...args: Parameters<Backend['setPresence']>) {
    this.#record('setPresence', ...args);
    return Promise.resolve(this.recentStatuses);
  }
  /** What `lastActivity` answers (seconds), or an error to reject with. */
  lastActivitySeconds: number | null | Error = null;
  lastActivity(...args: Parameters<Backend['lastActivity']>) {
    this.#record('lastActivity', ...args);
    const answer = this.lastActivitySeconds;
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }
  contacts(account: AccountId) {
    this.#record('contacts', account);
    return Promise.resolve(this.roster);
  }
  presences(account: AccountId) {
    this.#record('presences', account);
    return Promise.resolve(this.online);
  }
  openChat(account: AccountId, peer: string, onUpdate: (update: ChatUpdate) => void) {
    this.#record('openChat', account, peer);
    this.channels.set(peer, onUpdate);
    return Promise.resolve(this.#page(peer, null));
  }
  closeChat(account: AccountId, peer: string) {
    this.#record('closeChat', account, peer);
    this.channels.delete(peer);
    return Promise.resolve();
  }
  loadOlder(account: AccountId, peer: string, before: MessageId) {
    this.#record('loadOlder', account, peer, before);
    return Promise.resolve(this.#page(peer, before));
  }
  sendMessage(account: AccountId, to: string, body: string) {
    this.#record('sendMessage', account, to, body);
    if (this.failSend) return Promise.reject(this.failSend);
    const now = Date.now();
    return Promise.resolve<Message>({
      id: this.nextId++,
      conversation_id: 1,
      account_id: account,
      peer: to,
      direction: 'out',
      sender: 'me@example.org',
      body,
      server_time: null,
      local_time: now,
      origin_id: null,
      stanza_id: null,
      state: 'pending',
      error: null,
      rich: plain(),
    });
  }
  sendChatState(...args: Parameters<Backend['sendChatState']>) {
    this.#record('sendChatState', ...args);
    return Promise.resolve();
  }
  editContact(...args: Parameters<Backend['editContact']>) {
    this.#record('editContact', ...args);
    return Promise.resolve();
  }
  removeContact(...args: Parameters<Backend['removeContact']>) {
    this.#record('removeContact', ...args);
    return Promise.resolve();
  }
  /** The server's block list, as `block` changes it. */
  blockList = new Set<string>();
  block(...args: Parameters<Backend['block']>) {
    this.#record('block', ...args);
    const [, jid, block] = args;
    if (block) this.blockList.add(jid);
    else this.blockList.delete(jid);
    return Promise.resolve();
  }
  /** What `messageRequests` answers, per account. */
  requests = new Map<AccountId, MessageRequest[]>();
  /** What `canReport` answers. */
  reporting = false;
  blockAndReport(...args: Parameters<Backend['blockAndReport']>) {
    this.#record('blockAndReport', ...args);
    this.blockList.add(args[1]);
    return Promise.resolve();
  }
  canReport(...args: Parameters<Backend['canReport']>) {
    this.#record('canReport', ...args);
    return Promise.resolve(this.reporting);
  }
  messageRequests(...args: Parameters<Backend['messageRequests']>) {
    this.#record('messageRequests', ...args);
    return Promise.resolve(this.requests.get(args[0]) ?? []);
  }
  deleteConversation(...args: Parameters<Backend['deleteConversation']>) {
    this.#record('deleteConversation', ...args);
    const [account, peer] = args;
    const before = this.requests.get(account) ?? [];
    const gone = before.find((r) => r.peer === peer);
    this.requests.set(account, before.filter((r) => r.peer !== peer));
    this.history.delete(peer);
    return Promise.resolve(gone?.count ?? 0);
  }
  blocked(...args: Parameters<Backend['blocked']>) {
    this.#record('blocked', ...args);
    return Promise.resolve([...this.blockList].sort());
  }
  /** When set, `addContact` fails with it. */
  failAdd: unknown = null;
  addContact(...args: Parameters<Backend['addContact']>) {
    this.#record('addContact', ...args);
    return this.failAdd ? Promise.reject(this.failAdd) : Promise.resolve();
  }
  answerSubscription(...args: Parameters<Backend['answerSubscription']>) {
    this.#record('answerSubscription', ...args);
    return Promise.resolve();
  }
  retryMessage(account: AccountId, message: MessageId) {
    this.#record('retryMessage', account, message);
    if (this.failSend) return Promise.reject(this.failSend);
    return Promise.resolve<Message>({
      id: message,
      conversation_id: 1,
      account_id: account,
      peer: 'bob@example.org',
      direction: 'out',
      sender: 'me@example.org',
      body: 'retried',
      server_time: null,
      local_time: Date.now(),
      origin_id: null,
      stanza_id: null,
      state: 'pending',
      error: null,
      rich: plain(),
    });
  }
  markDisplayed(...args: Parameters<Backend['markDisplayed']>) {
    this.#record('markDisplayed', ...args);
    return Promise.resolve();
  }
  focusChat(...args: Parameters<Backend['focusChat']>) {
    this.#record('focusChat', ...args);
    return Promise.resolve();
  }
  openLink(url: string) {
    this.#record('openLink', url);
    return Promise.resolve();
  }
  /** What `parseLink` answers per URL; any other URL is refused as `bad_link`. */
  links = new Map<string, XmppLink>();
  parseLink(url: string) {
    this.#record('parseLink', url);
    const link = this.links.get(url);
    return link ? Promise.resolve(link) : Promise.reject({ code: 'bad_link', message: `bad link ${url}` });
  }
  /** The link the shell keeps for `takeLink` (a link, or an error to reject with), taken once. */
  kept: XmppLink | { code: string; message: string } | null = null;
  takeLink() {
    this.#record('takeLink');
    const kept = this.kept;
    this.kept = null;
    if (kept && 'code' in kept) return Promise.reject(kept);
    return Promise.resolve(kept);
  }
  saveSettings(...args: Parameters<Backend['saveSettings']>) {
    this.#record('saveSettings', ...args);
    return Promise.resolve();
  }
  popOutChat(...args: Parameters<Backend['popOutChat']>) {
    this.#record('popOutChat', ...args);
    return Promise.resolve();
  }
  /** What `registrationForm` answers (or rejects with, when `failRegister` is set). */
  serverForm: RegistrationForm = { instructions: null, fields: [], url: null, in_band: true };
  /** When set, `registrationForm` and `registerAccount` fail with it. */
  failRegister: unknown = null;
  registrationForm(...args: Parameters<Backend['registrationForm']>) {
    this.#record('registrationForm', ...args);
    return this.failRegister ? Promise.reject(this.failRegister) : Promise.resolve(this.serverForm);
  }
  registerAccount(...args: Parameters<Backend['registerAccount']>) {
    this.#record('registerAccount', ...args);
    return this.failRegister ? Promise.reject(this.failRegister) : Promise.resolve();
  }
  /** When set, the account care calls fail with it. */
  failAccount: unknown = null;
  changePassword(...args: Parameters<Backend['changePassword']>) {
    this.#record('changePassword', ...args);
    return this.failAccount ? Promise.reject(this.failAccount) : Promise.resolve();
  }
  deleteAccount(...args: Parameters<Backend['deleteAccount']>) {
    this.#record('deleteAccount', ...args);
    if (this.failAccount) return Promise.reject(this.failAccount);
    this.keptAccounts = this.keptAccounts.filter((a) => a.jid !== this.jids.get(args[0]));
    return Promise.resolve(this.keptAccounts);
  }
  removeAccount(...args: Parameters<Backend['removeAccount']>) {
    this.#record('removeAccount', ...args);
    if (this.failAccount) return Promise.reject(this.failAccount);
    this.keptAccounts = this.keptAccounts.filter((a) => a.jid !== args[0]);
    return Promise.resolve(this.keptAccounts);
  }
  /** Recorded avatar hashes by JID, and the cached images by hash. */
  avatarHashes: Record<string, string> = {};
  avatarImages = new Map<string, string>();
  /** Profiles by JID. */
  profiles = new Map<string, Profile>();
  avatars(...args: Parameters<Backend['avatars']>) {
    this.#record('avatars', ...args);
    return Promise.resolve({ ...this.avatarHashes });
  }
  avatarImage(...args: Parameters<Backend['avatarImage']>) {
    this.#record('avatarImage', ...args);
    return Promise.resolve(this.avatarImages.get(args[0]) ?? null);
  }
  setAvatar(...args: Parameters<Backend['setAvatar']>) {
    this.#record('setAvatar', ...args);
    return args[1] === 'bad'
      ? Promise.reject({ code: 'invalid_input', message: 'not an image' })
      : Promise.resolve(args[1] === null ? null : 'f'.repeat(40));
  }
  profile(...args: Parameters<Backend['profile']>) {
    this.#record('profile', ...args);
    const found = this.profiles.get(args[1]);
    return found ? Promise.resolve(found) : Promise.reject({ code: 'not_connected', message: 'offline' });
  }
  setProfile(...args: Parameters<Backend['setProfile']>) {
    this.#record('setProfile', ...args);
    return Promise.resolve();
  }
  /** What `rooms` answers, per account. */
  roomEntries = new Map<AccountId, RoomEntry[]>();
  /** Every room's lines, any order; pages are served newest first. */
  roomHistory = new Map<string, RoomMessage[]>();
  /** The open room views' channels, by room. */
  roomChannels = new Map<string, (update: RoomUpdate) => void>();
  /** When set, `joinRoom` fails with it. */
  failJoin: unknown = null;
  #roomPage(room: string, before: RoomMessageId | null): RoomMessage[] {
    const all = [...(this.roomHistory.get(room) ?? [])].sort((a, b) => b.id - a.id);
    return all.filter((m) => before === null || m.id < before).slice(0, this.pageSize);
  }
  joinRoom(...args: Parameters<Backend['joinRoom']>) {
    this.#record('joinRoom', ...args);
    return this.failJoin ? Promise.reject(this.failJoin) : Promise.resolve();
  }
  createRoom(...args: Parameters<Backend['createRoom']>) {
    this.#record('createRoom', ...args);
    if (this.failJoin) return Promise.reject(this.failJoin);
    return Promise.resolve<RoomNotify>(args[3].kind === 'private_group' ? 'all' : 'mentions');
  }
  inviteToRoom(...args: Parameters<Backend['inviteToRoom']>) {
    this.#record('inviteToRoom', ...args);
    return Promise.resolve();
  }
  leaveRoom(...args: Parameters<Backend['leaveRoom']>) {
    this.#record('leaveRoom', ...args);
    return Promise.resolve();
  }
  /** The group chat services `roomServices` answers. */
  roomServiceList: string[] = ['conference.example.org'];
  /** What `publicRooms` answers, per service. */
  publicRoomList = new Map<string, PublicRoom[]>();
  /** What `roomInfo` answers, per room (others fail with `not_found`). */
  roomInfos = new Map<string, RoomInfo>();
  /** What `roomSettings` answers, per room. */
  roomSettingsOf = new Map<string, RoomSettings>();
  /** Affiliation lists, per room and affiliation (`room affiliation`). */
  affiliationLists = new Map<string, Affiliated[]>();
  /** When set, the owner's and moderator's commands fail with it. */
  failAdmin: unknown = null;
  #admin<T>(value: T): Promise<T> {
    return this.failAdmin ? Promise.reject(this.failAdmin) : Promise.resolve(value);
  }
  roomServices(...args: Parameters<Backend['roomServices']>) {
    this.#record('roomServices', ...args);
    return Promise.resolve([...this.roomServiceList]);
  }
  publicRooms(...args: Parameters<Backend['publicRooms']>) {
    this.#record('publicRooms', ...args);
    return Promise.resolve(this.publicRoomList.get(args[1]) ?? []);
  }
  roomInfo(...args: Parameters<Backend['roomInfo']>) {
    this.#record('roomInfo', ...args);
    const info = this.roomInfos.get(args[1]);
    return info ? Promise.resolve(info) : Promise.reject({ code: 'not_found', message: 'no room' });
  }
  setRoomSubject(...args: Parameters<Backend['setRoomSubject']>) {
    this.#record('setRoomSubject', ...args);
    return this.#admin(undefined);
  }
  setOccupantRole(...args: Parameters<Backend['setOccupantRole']>) {
    this.#record('setOccupantRole', ...args);
    return this.#admin(undefined);
  }
  setAffiliation(...args: Parameters<Backend['setAffiliation']>) {
    this.#record('setAffiliation', ...args);
    if (this.failAdmin) return Promise.reject(this.failAdmin);
    const [, room, jid, affiliation] = args;
    for (const [key, list] of this.affiliationLists) {
      if (key.startsWith(`${room} `)) this.affiliationLists.set(key, list.filter((a) => a.jid !== jid));
    }
    if (affiliation !== 'none') {
      const key = `${room} ${affiliation}`;
      this.affiliationLists.set(key, [...(this.affiliationLists.get(key) ?? []), { jid, affiliation, nick: null, reason: args[4] }]);
    }
    return Promise.resolve();
  }
  affiliations(...args: Parameters<Backend['affiliations']>) {
    this.#record('affiliations', ...args);
    return this.#admin([...(this.affiliationLists.get(`${args[1]} ${args[2]}`) ?? [])]);
  }
  roomSettings(...args: Parameters<Backend['roomSettings']>) {
    this.#record('roomSettings', ...args);
    return this.#admin(this.roomSettingsOf.get(args[1]) ?? { name: '', description: '', members_only: false });
  }
  setRoomSettings(...args: Parameters<Backend['setRoomSettings']>) {
    this.#record('setRoomSettings', ...args);
    if (this.failAdmin) return Promise.reject(this.failAdmin);
    this.roomSettingsOf.set(args[1], args[2]);
    return Promise.resolve();
  }
  rooms(account: AccountId) {
    this.#record('rooms', account);
    return Promise.resolve(this.roomEntries.get(account) ?? []);
  }
  openRoom(account: AccountId, room: string, onUpdate: (update: RoomUpdate) => void) {
    this.#record('openRoom', account, room);
    this.roomChannels.set(room, onUpdate);
    return Promise.resolve(this.#roomPage(room, null));
  }
  closeRoom(account: AccountId, room: string) {
    this.#record('closeRoom', account, room);
    this.roomChannels.delete(room);
    return Promise.resolve();
  }
  loadOlderLines(account: AccountId, room: string, before: RoomMessageId) {
    this.#record('loadOlderLines', account, room, before);
    return Promise.resolve(this.#roomPage(room, before));
  }
  sendRoomMessage(account: AccountId, room: string, body: string) {
    this.#record('sendRoomMessage', account, room, body);
    if (this.failSend) return Promise.reject(this.failSend);
    return Promise.resolve(roomLine(this.nextId++, { account_id: account, room, body, direction: 'out', nick: 'me', state: 'pending' }));
  }
  sendRoomPrivate(account: AccountId, room: string, nick: string, body: string) {
    this.#record('sendRoomPrivate', account, room, nick, body);
    return Promise.resolve(
      roomLine(this.nextId++, { account_id: account, room, body, direction: 'out', nick: 'me', state: 'pending', private_with: nick }),
    );
  }
  setRoomNotify(...args: Parameters<Backend['setRoomNotify']>) {
    this.#record('setRoomNotify', ...args);
    const [account, room, notify] = args;
    return Promise.resolve([{ account, room, notify }]);
  }
  /** The message or line `target` names, from `history` or `roomHistory`. */
  #find(target: MessageRef): { chat: Message | null; line: RoomMessage | null } {
    if (target.kind === 'chat') {
      for (const list of this.history.values()) {
        const found = list.find((m) => m.id === target.id);
        if (found) return { chat: found, line: null };
      }
    } else {
      for (const list of this.roomHistory.values()) {
        const found = list.find((m) => m.id === target.id);
        if (found) return { chat: null, line: found };
      }
    }
    return { chat: null, line: null };
  }
  /** Changes the stored message or line `target` names and tells its open view, as the shell does. */
  #change(target: MessageRef, change: (old: Message | RoomMessage) => Partial<Message & RoomMessage>): void {
    const { chat, line } = this.#find(target);
    if (chat) {
      const next = { ...chat, ...change(chat) } as Message;
      const list = this.history.get(chat.peer) ?? [];
      this.history.set(chat.peer, list.map((m) => (m.id === chat.id ? next : m)));
      this.channels.get(chat.peer)?.({ type: 'updated', message: next });
    } else if (line) {
      const next = { ...line, ...change(line) } as RoomMessage;
      const list = this.roomHistory.get(line.room) ?? [];
      this.roomHistory.set(line.room, list.map((m) => (m.id === line.id ? next : m)));
      this.roomChannels.get(line.room)?.({ type: 'updated', line: next });
    }
  }
  /** Earlier texts of edited messages, by `kind id`. */
  versions = new Map<string, string[]>();
  /** The kept drafts, by `account chat`. */
  draftBodies = new Map<string, Draft>();
  /** When set, the rich-message acts (edit, retract, hide, react, moderate) fail with it. */
  failAct: unknown = null;
  #act(name: keyof Backend, args: unknown[], target: MessageRef, change: (old: Message | RoomMessage) => Partial<Message & RoomMessage>) {
    this.#record(name, ...args);
    if (this.failAct) return Promise.reject(this.failAct);
    this.#change(target, change);
    return Promise.resolve();
  }
  #quoteOf(target: MessageRef): Message['rich']['reply'] {
    const { chat, line } = this.#find(target);
    const found = chat ?? line;
    const author = chat ? chat.sender.split('/')[0]! : line ? line.nick : null;
    return { id: String(target.id), to: author, target: found ? target.id : null, quote: found?.body ?? null, author };
  }
  async sendReply(account: AccountId, to: string, body: string, replyTo: MessageId) {
    const message = await this.sendMessage(account, to, body);
    this.calls[this.calls.length - 1] = { name: 'sendReply', args: [account, to, body, replyTo] };
    return { ...message, rich: plain({ reply: this.#quoteOf({ kind: 'chat', id: replyTo }) }) };
  }
  async sendRoomReply(account: AccountId, room: string, body: string, replyTo: RoomMessageId) {
    const line = await this.sendRoomMessage(account, room, body);
    this.calls[this.calls.length - 1] = { name: 'sendRoomReply', args: [account, room, body, replyTo] };
    return { ...line, rich: plain({ reply: this.#quoteOf({ kind: 'room', id: replyTo }) }) };
  }
  editMessage(account: AccountId, target: MessageRef, body: string) {
    return this.#act('editMessage', [account, target, body], target, (old) => {
      const key = `${target.kind} ${target.id}`;
      this.versions.set(key, [...(this.versions.get(key) ?? []), old.body]);
      return { body, rich: { ...old.rich, edited: true } };
    });
  }
  retractMessage(account: AccountId, target: MessageRef) {
    return this.#act('retractMessage', [account, target], target, (old) => ({
      body: '',
      rich: { ...old.rich, retracted: true, reactions: [] },
    }));
  }
  hideMessage(account: AccountId, target: MessageRef) {
    return this.#act('hideMessage', [account, target], target, (old) => ({ rich: { ...old.rich, hidden: true } }));
  }
  react(account: AccountId, target: MessageRef, emoji: string[]) {
    return this.#act('react', [account, target, emoji], target, (old) => {
      const me = target.kind === 'chat' ? 'me@example.org' : 'me';
      const reactions = old.rich.reactions
        .map((r) => ({ ...r, by: r.by.filter((b) => b !== me), ours: false }))
        .map((r) => (emoji.includes(r.emoji) ? { ...r, by: [...r.by, me], ours: true } : r));
      for (const e of emoji) if (!reactions.some((r) => r.emoji === e)) reactions.push({ emoji: e, by: [me], ours: true });
      return { rich: { ...old.rich, reactions: reactions.filter((r) => r.by.length > 0) } };
    });
  }
  moderateLine(account: AccountId, line: RoomMessageId, reason: string | null) {
    const target: MessageRef = { kind: 'room', id: line };
    return this.#act('moderateLine', [account, line, reason], target, (old) => ({
      body: '',
      rich: { ...old.rich, retracted: true, moderated: true, reactions: [] },
    }));
  }
  messageVersions(account: AccountId, target: MessageRef) {
    this.#record('messageVersions', account, target);
    return Promise.resolve([...(this.versions.get(`${target.kind} ${target.id}`) ?? [])]);
  }
  setDraft(account: AccountId, chat: string, body: string) {
    this.#record('setDraft', account, chat, body);
    const key = `${account} ${chat}`;
    if (body === '') this.draftBodies.delete(key);
    else this.draftBodies.set(key, { account_id: account, chat, body });
    return Promise.resolve();
  }
  drafts() {
    this.#record('drafts');
    return Promise.resolve([...this.draftBodies.values()]);
  }
  onCoreEvent(handler: (event: CoreEvent) => void) {
    this.coreHandlers.push(handler);
    return Promise.resolve(() => {
      this.coreHandlers = this.coreHandlers.filter((h) => h !== handler);
    });
  }
  onShellEvent(handler: (event: ShellEvent) => void) {
    this.shellHandlers.push(handler);
    return Promise.resolve(() => {
      this.shellHandlers = this.shellHandlers.filter((h) => h !== handler);
    });
  }

  emitCore(event: CoreEvent): void {
    for (const handler of this.coreHandlers) handler(event);
  }
  emitShell(event: ShellEvent): void {
    for (const handler of this.shellHandlers) handler(event);
  }
}
