/**
 * Group chats (XEP-0045): each account's rooms (`rooms`, then the core's room events), their
 * unread lines and mention markers (`room_unread_changed`), the "Join a group" form, and the room
 * in view with its lines (the first page from `open_room`, then its channel and older pages) and
 * the system lines of joins, leaves, kicks and subject changes seen while Charla runs.
 */
import { SvelteMap } from 'svelte/reactivity';
import type { Backend } from '$lib/api';
import type {
  AccountId,
  ChatRef,
  Occupant,
  OccupantChange,
  RoomEntry,
  RoomExit,
  RoomMessage,
  RoomInfo,
  RoomKind,
  RoomNotify,
} from '$lib/contract';
import { toUiError, type UiError } from '$lib/errors';
import { addSystemLine, defaultNick, mergeLines, parseRoomAddress, type SystemKind, type SystemLine } from '$lib/util/rooms';
import type { ChatsStore } from './chats.svelte';
import type { DraftStore } from './drafts.svelte';
import type { NoticeStore } from './notices.svelte';
import { chatKey } from './unread.svelte';

/** Whether we are in the room: asked to join, in, or not (left, kicked, refused, offline). */
export type RoomPhase = 'joining' | 'joined' | 'out';

/** One room of one account: what the list, the header, the lines and the members show. */
export class RoomState {
  readonly kind = 'room';
  readonly account: AccountId;
  readonly jid: string;
  readonly key: string;
  nick = $state('');
  name = $state<string | null>(null);
  subject = $state<string | null>(null);
  /** What the room says of itself (asked when it is shown), if it answered. */
  info = $state.raw<RoomInfo | null>(null);
  notify = $state<RoomNotify>('mentions');
  unread = $state(0);
  mentioned = $state(false);
  phase = $state<RoomPhase>('out');
  /** Why we are out of the room, when the room told (kicked, banned, refused). */
  exit = $state.raw<RoomExit | null>(null);
  /** Everyone in the room, by nick as sent. */
  readonly occupants = new SvelteMap<string, Occupant>();
  /** Sorted by id, each id once. */
  lines = $state.raw<readonly RoomMessage[]>([]);
  /** Joins, leaves, kicks and subject changes seen while Charla runs. */
  system = $state.raw<readonly SystemLine[]>([]);
  loaded = $state(false);
  loadingOlder = $state(false);
  exhausted = $state(false);
  error = $state.raw<UiError | null>(null);
  draft = $state('');
  /** The composer writes privately to this occupant (XEP-0045 §7.5), not to the room. */
  privateTo = $state<string | null>(null);
  /** The member panel shows. */
  membersShown = $state(true);
  /** A channel is open for the room's lines. */
  opened = false;
  /** The line the composer answers (XEP-0461), if any. */
  replyTo = $state.raw<RoomMessage | null>(null);
  /** Our line the composer edits (XEP-0308), if any. */
  editing = $state.raw<RoomMessage | null>(null);
  /** The draft put aside while editing, given back after. */
  aside = '';
  /** The line jumped to (a reply's original), highlighted for a moment. */
  highlight = $state<number | null>(null);

  constructor(account: AccountId, jid: string) {
    this.account = account;
    this.jid = jid;
    this.key = chatKey(account, jid);
  }

  get ref(): ChatRef {
    return { account: this.account, peer: this.jid };
  }

  /** The lines (as for a chat's messages). */
  get items(): readonly RoomMessage[] {
    return this.lines;
  }

  /** The room's address, as drafts name it. */
  get chat(): string {
    return this.jid;
  }

  /** The room's name, else the local part of its address (the address itself is shown beside). */
  get title(): string {
    return this.name ?? (this.jid.split('@')[0] || this.jid);
  }

  #systemId = 0;
  /** Adds a system line after the newest line. */
  say(what: SystemKind): void {
    this.#systemId += 1;
    this.system = addSystemLine(this.system, this.lines.at(-1)?.id ?? 0, what, this.#systemId);
  }
}

/** The "New group" form. */
export interface CreateForm {
  account: AccountId;
  name: string;
  kind: RoomKind;
  /** The room's address, proposed from the name and the account's server; editable. */
  address: string;
  /** The address was edited by hand: the name no longer changes it. */
  addressEdited: boolean;
  nick: string;
  /** The contacts to invite once the room is made (bare JIDs). */
  invite: string[];
  busy: boolean;
  badAddress: boolean;
  error: UiError | null;
}

/** An invitation to a room, offered to the user (never joined by itself). */
export interface Invitation {
  account: AccountId;
  room: string;
  /** Who invites (bare JID). */
  from: string;
  reason: string | null;
  password: string | null;
  /** Not in the roster and never written to: shown as such. */
  stranger: boolean;
}

/** The address a new room gets from its name: a slug on the account's server's `conference.`. */
export function proposedAddress(name: string, accountJid: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/gu, '-')
    .replace(/^-+|-+$/gu, '');
  const domain = accountJid.split('@')[1]?.split('/')[0] ?? '';
  return slug === '' || domain === '' ? '' : `${slug}@conference.${domain}`;
}

/** The "Join a group" form. */
export interface JoinForm {
  account: AccountId;
  address: string;
  nick: string;
  password: string;
  /** The room asked for a password (or the one given was wrong). */
  needsPassword: boolean;
  /** The nick asked for was taken: this one was offered instead. */
  nickTaken: string | null;
  busy: boolean;
  /** What the user typed is no room address. */
  badAddress: boolean;
  /** The room refused us: its condition (`forbidden`, `registration-required`…). */
  refused: string | null;
  error: UiError | null;
  /** The room the form is joining, once sent. */
  room: string | null;
}

/** Every account's rooms, the room in view and the "Join a group" form. */
export class RoomsStore {
  /** Every account's rooms, by `chatKey`. */
  readonly rooms = new SvelteMap<string, RoomState>();
  /** The room in view, if any (a chat is in view otherwise). */
  activeKey = $state<string | null>(null);
  readonly active: RoomState | null = $derived(this.activeKey === null ? null : (this.rooms.get(this.activeKey) ?? null));
  /** The "Join a group" form, while it is open. */
  joining = $state<JoinForm | null>(null);
  /** The "New group" form, while it is open. */
  creating = $state<CreateForm | null>(null);
  /** Invitations received, newest first (one per room). */
  invitations = $state.raw<readonly Invitation[]>([]);
  /** Contacts to invite to a room we are creating, until we are in it. */
  readonly #toInvite = new Map<string, string[]>();

  readonly #backend: Backend;
  readonly #notices: NoticeStore;
  readonly #chats: ChatsStore;
  /** Where rooms' drafts are kept (a room starts with its draft). */
  drafts: DraftStore | null = null;

  constructor(backend: Backend, notices: NoticeStore, chats: ChatsStore) {
    this.#backend = backend;
    this.#notices = notices;
    this.#chats = chats;
    chats.onActivate = (key) => {
      if (key !== null) this.activeKey = null;
    };
  }

  /** The rooms of every account, by address. */
  get list(): RoomState[] {
    return [...this.rooms.values()].sort((a, b) => a.title.localeCompare(b.title));
  }

  /** The rooms whose name or address contains `query` (all for an empty one). */
  search(query: string): RoomState[] {
    const q = query.trim().toLowerCase();
    const all = this.list;
    return q === '' ? all : all.filter((r) => r.jid.includes(q) || r.title.toLowerCase().includes(q));
  }

  /** The room `jid` of `account`, if listed. */
  find(account: AccountId, jid: string): RoomState | undefined {
    return this.rooms.get(chatKey(account, jid));
  }

  #room(account: AccountId, jid: string): RoomState {
    const key = chatKey(account, jid);
    let room = this.rooms.get(key);
    if (!room) {
      room = new RoomState(account, jid);
      room.draft = this.drafts?.get(account, jid) ?? '';
      this.rooms.set(key, room);
    }
    return room;
  }

  /** Loads the account's kept rooms (after its login). */
  async load(account: AccountId): Promise<void> {
    const entries = await this.#backend.rooms(account);
    for (const entry of entries) this.#apply(account, entry);
  }

  #apply(account: AccountId, entry: RoomEntry): void {
    const room = this.#room(account, entry.room.jid);
    room.nick = entry.room.nick;
    room.name = entry.room.name;
    room.subject ??= entry.room.subject;
    room.notify = entry.notify;
    room.unread = entry.unread;
    room.mentioned = entry.mentioned;
    if (room.phase === 'out' && entry.room.autojoin && room.exit === null) room.phase = 'joining';
  }

  /** Forgets the account's rooms (it signed out). */
  forgetAccount(account: AccountId): void {
    for (const [key, room] of this.rooms) {
      if (room.account !== account) continue;
      if (this.activeKey === key) this.activeKey = null;
      this.rooms.delete(key);
    }
  }

  // --- The core's room events -------------------------------------------------------------

  /** We are in the room, its archive caught up (`room_joined`): the form that asked is done. */
  joined(account: AccountId, jid: string, nick: string, occupants: Occupant[], subject: string | null): void {
    const room = this.#room(account, jid);
    room.nick = nick;
    room.phase = 'joined';
    room.exit = null;
    room.subject = subject;
    room.occupants.clear();
    for (const o of occupants) room.occupants.set(o.nick, o);
    const form = this.joining;
    if (form && form.account === account && form.room === jid) {
      this.joining = null;
      this.show(account, jid);
    }
    // A room we just made: the contacts chosen are invited now that it exists.
    const invite = this.#toInvite.get(room.key);
    if (invite) {
      this.#toInvite.delete(room.key);
      this.creating = null;
      this.show(account, jid);
      for (const contact of invite) {
        this.#backend.inviteToRoom(account, jid, contact, null).catch((error: unknown) => {
          this.#notices.error(toUiError(error));
        });
      }
    }
  }

  /** Someone invites us (`room_invite`): offered, once per room, never joined by itself. */
  invited(invitation: Invitation): void {
    // One per room and kind: a stranger's invitation never hides a contact's offer.
    const others = this.invitations.filter(
      (i) => !(i.account === invitation.account && i.room === invitation.room && i.stranger === invitation.stranger),
    );
    if (this.find(invitation.account, invitation.room)?.phase === 'joined') return;
    this.invitations = [invitation, ...others];
  }

  /** The user accepts `invitation`: "Join a group" filled in with its room and password. */
  acceptInvitation(invitation: Invitation, accountJid: string): void {
    this.dismissInvitation(invitation);
    this.openJoin(invitation.account, accountJid, invitation.room, invitation.password);
  }

  /** Invitations from contacts: offered in the Groups section. */
  get offers(): readonly Invitation[] {
    return this.invitations.filter((i) => !i.stranger);
  }

  /**
   * Invitations from strangers: listed with the message requests, never joined by themselves;
   * the user may look at them, join, dismiss or block the sender.
   */
  get strangerInvitations(): readonly Invitation[] {
    return this.invitations.filter((i) => i.stranger);
  }

  /** The user turns `invitation` down (nothing is sent). */
  dismissInvitation(invitation: Invitation): void {
    this.invitations = this.invitations.filter((i) => i !== invitation);
  }

  /** Someone joined, left or changed (`occupant_changed`): the members and a system line. */
  occupant(account: AccountId, jid: string, change: OccupantChange): void {
    const room = this.find(account, jid);
    if (!room) return;
    switch (change.kind) {
      case 'joined':
        room.occupants.set(change.occupant.nick, change.occupant);
        room.say({ kind: 'joined', nicks: [change.occupant.display] });
        break;
      case 'left': {
        const display = room.occupants.get(change.nick)?.display ?? change.nick;
        room.occupants.delete(change.nick);
        const reason = change.reason;
        if (reason?.kind === 'kicked') room.say({ kind: 'kicked', nick: display, reason: reason.reason });
        else if (reason?.kind === 'banned') room.say({ kind: 'banned', nick: display, reason: reason.reason });
        else room.say({ kind: 'left', nicks: [display] });
        break;
      }
      case 'changed':
        if (change.old_nick !== null) {
          const from = room.occupants.get(change.old_nick)?.display ?? change.old_nick;
          room.occupants.delete(change.old_nick);
          room.say({ kind: 'renamed', from, to: change.occupant.display });
          if (room.nick === change.old_nick) room.nick = change.occupant.nick;
        }
        room.occupants.set(change.occupant.nick, change.occupant);
        break;
    }
  }

  /** The room's subject changed (`room_subject`); a change while we are in is a system line. */
  subjectChanged(account: AccountId, jid: string, subject: string | null): void {
    const room = this.find(account, jid);
    if (!room) return;
    if (room.phase === 'joined' && room.subject !== subject) room.say({ kind: 'subject', subject });
    room.subject = subject;
  }

  /** We are out of the room (`room_left`): a refusal answers the form, a kick or ban is shown. */
  left(account: AccountId, jid: string, reason: RoomExit): void {
    const form = this.joining;
    if (form && form.account === account && form.room === jid) {
      form.busy = false;
      form.room = null;
      form.refused = reason.kind === 'refused' ? reason.condition : reason.kind;
    }
    const room = this.find(account, jid);
    if (!room) return;
    room.phase = 'out';
    room.occupants.clear();
    // Removed from our bookmarks here or on another device: it goes from the list.
    if (reason.kind === 'forgotten') return this.#remove(room);
    if (reason.kind === 'left') return;
    room.exit = reason;
    if (reason.kind === 'kicked') room.say({ kind: 'self_kicked', reason: reason.reason });
    else if (reason.kind === 'banned') room.say({ kind: 'self_banned', reason: reason.reason });
    else if (reason.kind === 'removed') room.say({ kind: 'self_removed' });
  }

  /** Our nick is taken there (`room_nick_taken`): the form offers the suggested one. */
  nickTaken(account: AccountId, jid: string, suggested: string): void {
    const form = this.joining;
    if (!form || form.account !== account || form.room !== jid) {
      // Joining again at login: our nick is someone else's now; the view offers to join again.
      const room = this.find(account, jid);
      if (room) room.phase = 'out';
      return;
    }
    form.nickTaken = form.nick;
    form.nick = suggested;
    form.busy = false;
    form.room = null;
  }

  /** The room wants a password (`room_password_required`): the form asks for it. */
  passwordRequired(account: AccountId, jid: string): void {
    const form = this.joining;
    if (!form || form.account !== account || form.room !== jid) return;
    form.needsPassword = true;
    form.busy = false;
    form.room = null;
  }

  /** The room's unread lines and mention marker, as the app counts them (`room_unread_changed`). */
  unreadChanged(room: ChatRef, count: number, mentioned: boolean): void {
    const state = this.#room(room.account, room.peer);
    state.unread = count;
    state.mentioned = mentioned;
  }

  /** Unread lines across every room. */
  get unreadTotal(): number {
    let total = 0;
    for (const room of this.rooms.values()) total += room.unread;
    return total;
  }

  // --- Joining ----------------------------------------------------------------------------

  /** Opens the "Join a group" form for `account` (`jid` its address), with `address` if given. */
  openJoin(account: AccountId, jid: string, address = '', password: string | null = null): void {
    this.joining = {
      account,
      address,
      nick: defaultNick(jid),
      password: password ?? '',
      needsPassword: password !== null,
      nickTaken: null,
      busy: false,
      badAddress: false,
      refused: null,
      error: null,
      room: null,
    };
  }

  /** Opens the "New group" form for `account` (`jid` its address). */
  openCreate(account: AccountId, jid: string): void {
    this.creating = {
      account,
      name: '',
      kind: 'private_group',
      address: '',
      addressEdited: false,
      nick: defaultNick(jid),
      invite: [],
      busy: false,
      badAddress: false,
      error: null,
    };
  }

  /** The form's name changed: the proposed address follows it, unless edited by hand. */
  renameCreate(name: string, accountJid: string): void {
    const form = this.creating;
    if (!form) return;
    form.name = name;
    if (!form.addressEdited) form.address = proposedAddress(name, accountJid);
  }

  /** Closes the "New group" form. */
  closeCreate(): void {
    this.creating = null;
  }

  /**
   * Creates the room as the form says and joins it; the contacts chosen are invited once we are
   * in it (`room_joined`). A room that exists already is joined as it is.
   */
  async submitCreate(): Promise<void> {
    const form = this.creating;
    if (!form || form.busy) return;
    const jid = parseRoomAddress(form.address);
    form.badAddress = jid === null;
    const nick = form.nick.trim();
    const name = form.name.trim();
    if (jid === null || nick === '' || name === '') return;
    form.error = null;
    form.busy = true;
    const room = this.#room(form.account, jid);
    room.phase = 'joining';
    room.exit = null;
    room.name = name;
    this.#toInvite.set(room.key, [...form.invite]);
    try {
      room.notify = await this.#backend.createRoom(form.account, jid, nick, { kind: form.kind, name, description: null });
    } catch (error) {
      this.#toInvite.delete(room.key);
      form.busy = false;
      form.error = toUiError(error);
      room.phase = 'out';
    }
  }

  /** Closes the "Join a group" form. */
  closeJoin(): void {
    this.joining = null;
  }

  /** Sends the form: the outcome comes as events (joined, nick taken, password, refused). */
  async submitJoin(): Promise<void> {
    const form = this.joining;
    if (!form || form.busy) return;
    const jid = parseRoomAddress(form.address);
    form.badAddress = jid === null;
    const nick = form.nick.trim();
    if (jid === null || nick === '') return;
    form.error = null;
    form.refused = null;
    form.busy = true;
    form.room = jid;
    const room = this.#room(form.account, jid);
    room.phase = 'joining';
    room.exit = null;
    try {
      await this.#backend.joinRoom(form.account, jid, nick, form.password === '' ? null : form.password);
    } catch (error) {
      form.busy = false;
      form.room = null;
      form.error = toUiError(error);
      room.phase = 'out';
    }
  }

  // --- The room in view -------------------------------------------------------------------

  /** Shows the room (opening its lines' channel the first time). */
  show(account: AccountId, jid: string): RoomState {
    const room = this.#room(account, jid);
    this.activeKey = room.key;
    this.#chats.showRoom(room.ref);
    if (!room.opened) {
      room.opened = true;
      this.#backend
        .openRoom(account, jid, (update) => {
          room.lines = mergeLines(room.lines, update.type === 'lines' ? update.lines : [update.line]);
        })
        .then((page) => {
          room.lines = mergeLines(room.lines, page);
          room.exhausted = page.length === 0;
        })
        .catch((error: unknown) => {
          room.error = toUiError(error);
        })
        .finally(() => {
          room.loaded = true;
        });
    }
    return room;
  }

  /** Loads the lines before the oldest shown; whether it added any. */
  async loadOlder(room: RoomState): Promise<boolean> {
    if (room.loadingOlder || room.exhausted || !room.loaded) return false;
    const oldest = room.lines[0];
    if (!oldest) {
      room.exhausted = true;
      return false;
    }
    room.loadingOlder = true;
    try {
      const page = await this.#backend.loadOlderLines(room.account, room.jid, oldest.id);
      if (page.length === 0) room.exhausted = true;
      const before = room.lines;
      room.lines = mergeLines(room.lines, page);
      return room.lines !== before;
    } catch (error) {
      this.#notices.error(toUiError(error));
      return false;
    } finally {
      room.loadingOlder = false;
    }
  }

  /**
   * Says `body` in the room (as a reply to `room.replyTo` if set), or privately to
   * `room.privateTo`; it shows as pending at once, and the room's draft goes.
   */
  async send(room: RoomState, body: string): Promise<boolean> {
    if (body.trim() === '') return false;
    const replyTo = room.privateTo === null ? room.replyTo : null;
    try {
      const line =
        room.privateTo !== null
          ? await this.#backend.sendRoomPrivate(room.account, room.jid, room.privateTo, body)
          : replyTo
            ? await this.#backend.sendRoomReply(room.account, room.jid, body, replyTo.id)
            : await this.#backend.sendRoomMessage(room.account, room.jid, body);
      if (replyTo && room.replyTo === replyTo) room.replyTo = null;
      this.drafts?.clear(room.account, room.jid);
      room.lines = mergeLines(room.lines, [line]);
      return true;
    } catch (error) {
      this.#notices.error(toUiError(error));
      return false;
    }
  }

  /** Leaves the room; with `forget`, it goes from the list too. */
  async leave(room: RoomState, forget: boolean): Promise<void> {
    try {
      await this.#backend.leaveRoom(room.account, room.jid, forget);
    } catch (error) {
      this.#notices.error(toUiError(error));
      return;
    }
    room.phase = 'out';
    room.occupants.clear();
    if (forget) this.#remove(room);
  }

  /** Takes the room off the list (and out of view). */
  #remove(room: RoomState): void {
    if (this.activeKey === room.key) {
      this.activeKey = null;
      this.#chats.showRoom(null);
    }
    if (room.opened) {
      this.#backend.closeRoom(room.account, room.jid).catch(() => {
        // The view is gone either way.
      });
    }
    this.rooms.delete(room.key);
  }

  /** Joins again a room we are out of, as the nick we had. */
  async rejoin(room: RoomState): Promise<void> {
    room.phase = 'joining';
    room.exit = null;
    try {
      await this.#backend.joinRoom(room.account, room.jid, room.nick, null);
    } catch (error) {
      room.phase = 'out';
      this.#notices.error(toUiError(error));
    }
  }

  /** Sets which lines of the room are notified. */
  async setNotify(room: RoomState, notify: RoomNotify): Promise<void> {
    const before = room.notify;
    room.notify = notify;
    try {
      await this.#backend.setRoomNotify(room.account, room.jid, notify);
    } catch (error) {
      room.notify = before;
      this.#notices.error(toUiError(error));
    }
  }
}
