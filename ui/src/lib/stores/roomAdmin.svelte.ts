/**
 * Running a group chat from the window: browsing the server's public groups, the room's own info
 * (who may change its subject), the subject, the member actions (voice, kick, membership, bans)
 * and the owner's settings dialog with the affiliation lists. Every change goes to the room,
 * which decides; what it allowed comes back as events (`occupant_changed`, `room_subject`), and a
 * refusal shows its explained error where the user acted.
 */
import type { Backend } from '$lib/api';
import type { AccountId, Affiliated, Affiliation, PublicRoom, RoomInfo, RoomSettings } from '$lib/contract';
import { toUiError, type UiError } from '$lib/errors';
import { matchesRoom, memberActions, type MemberAction } from '$lib/util/rooms';
import type { Occupant } from '$lib/contract';
import type { RoomState } from './rooms.svelte';

/** The public groups of the account's server, as the Join dialog browses them. */
export interface Directory {
  account: AccountId;
  /** `loading` until the service answered; `none`: the server has no group chat service. */
  phase: 'loading' | 'ready' | 'none' | 'failed';
  service: string | null;
  rooms: readonly PublicRoom[];
  filter: string;
  error: UiError | null;
}

/** The affiliation lists the settings dialog shows, in this order. */
export const LISTS = ['owner', 'admin', 'member', 'outcast'] as const satisfies readonly Affiliation[];

/** The owner's settings dialog of one room. */
export interface SettingsForm {
  room: RoomState;
  loaded: boolean;
  settings: RoomSettings;
  lists: Record<(typeof LISTS)[number], readonly Affiliated[]>;
  /** The address to add, and as what. */
  adding: string;
  addAs: (typeof LISTS)[number];
  busy: boolean;
  saved: boolean;
  error: UiError | null;
}

/** The member menu open in the member panel. */
export interface MemberMenu {
  room: RoomState;
  nick: string;
  reason: string;
  busy: boolean;
  error: UiError | null;
}

export class RoomAdminStore {
  directory = $state<Directory | null>(null);
  settings = $state<SettingsForm | null>(null);
  menu = $state<MemberMenu | null>(null);
  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  // --- Browsing --------------------------------------------------------------------------

  /** Lists the public groups of `account`'s first group chat service (found by disco). */
  async browse(account: AccountId): Promise<void> {
    const directory: Directory = { account, phase: 'loading', service: null, rooms: [], filter: '', error: null };
    this.directory = directory;
    try {
      const services = await this.#backend.roomServices(account);
      const service = services[0];
      if (this.directory?.account !== account) return;
      if (service === undefined) {
        this.directory.phase = 'none';
        return;
      }
      this.directory.service = service;
      const rooms = await this.#backend.publicRooms(account, service);
      if (this.directory?.account !== account) return;
      this.directory.rooms = [...rooms].sort((a, b) => (a.name ?? a.jid).localeCompare(b.name ?? b.jid));
      this.directory.phase = 'ready';
    } catch (error) {
      if (this.directory?.account !== account) return;
      this.directory.phase = 'failed';
      this.directory.error = toUiError(error);
    }
  }

  /** The listed groups that match the filter. */
  get browsed(): readonly PublicRoom[] {
    const directory = this.directory;
    if (!directory) return [];
    return directory.rooms.filter((r) => matchesRoom(r, directory.filter));
  }

  /** Stops browsing. */
  closeBrowse(): void {
    this.directory = null;
  }

  // --- The room's info and subject ----------------------------------------------------------

  /** Asks the room what it says of itself (kept on the room; `null` if it does not answer). */
  async loadInfo(room: RoomState): Promise<void> {
    try {
      room.info = await this.#backend.roomInfo(room.account, room.jid);
    } catch {
      room.info = null;
    }
  }

  /** Our own occupant in the room, once we are in. */
  own(room: RoomState): Occupant | undefined {
    return room.occupants.get(room.nick);
  }

  /** Whether we may change the subject: moderators always, others where the room allows it. */
  canEditSubject(room: RoomState): boolean {
    if (room.phase !== 'joined') return false;
    return this.own(room)?.role === 'moderator' || room.info?.subject_changeable === true;
  }

  /** Whether we own the room (its settings and lists are ours to change). */
  isOwner(room: RoomState): boolean {
    return room.phase === 'joined' && this.own(room)?.affiliation === 'owner';
  }

  /** Asks the room to change its subject; the room tells everyone (us too) if it allows it. */
  async setSubject(room: RoomState, subject: string): Promise<UiError | null> {
    try {
      await this.#backend.setRoomSubject(room.account, room.jid, subject.trim());
      return null;
    } catch (error) {
      return toUiError(error);
    }
  }

  // --- Member actions -------------------------------------------------------------------

  /** What we may do to `target` in `room`. */
  actions(room: RoomState, target: Occupant): MemberAction[] {
    return memberActions(this.own(room), target);
  }

  /** Opens (or closes, if open) the action menu of `nick`. */
  toggleMenu(room: RoomState, nick: string): void {
    const open = this.menu;
    this.menu = open && open.room === room && open.nick === nick ? null : { room, nick, reason: '', busy: false, error: null };
  }

  /** Carries out `action` on `target` through the room; the menu closes once the room agreed. */
  async act(room: RoomState, target: Occupant, action: MemberAction): Promise<void> {
    const menu = this.menu;
    const reason = menu && menu.nick === target.nick && menu.reason.trim() !== '' ? menu.reason.trim() : null;
    if (menu) {
      menu.busy = true;
      menu.error = null;
    }
    try {
      const { account, jid } = room;
      switch (action) {
        case 'voice':
          await this.#backend.setOccupantRole(account, jid, target.nick, 'participant', null);
          break;
        case 'mute':
          await this.#backend.setOccupantRole(account, jid, target.nick, 'visitor', null);
          break;
        case 'kick':
          await this.#backend.setOccupantRole(account, jid, target.nick, 'none', reason);
          break;
        case 'member':
        case 'admin':
        case 'owner':
        case 'unmember':
        case 'ban': {
          if (target.real_jid === null) return;
          const affiliation: Affiliation = action === 'ban' ? 'outcast' : action === 'unmember' ? 'none' : action;
          await this.#backend.setAffiliation(account, jid, target.real_jid, affiliation, action === 'ban' ? reason : null);
          break;
        }
      }
      if (this.menu === menu) this.menu = null;
    } catch (error) {
      if (menu) {
        menu.busy = false;
        menu.error = toUiError(error);
      }
    }
  }

  // --- The owner's settings --------------------------------------------------------------

  /** Opens the settings dialog and loads the room's settings and lists. */
  async openSettings(room: RoomState): Promise<void> {
    const form: SettingsForm = {
      room,
      loaded: false,
      settings: { name: room.name ?? '', description: '', members_only: false },
      lists: { owner: [], admin: [], member: [], outcast: [] },
      adding: '',
      addAs: 'member',
      busy: false,
      saved: false,
      error: null,
    };
    this.settings = form;
    try {
      const settings = await this.#backend.roomSettings(room.account, room.jid);
      if (this.settings?.room !== room) return;
      this.settings.settings = settings;
      await this.#loadLists();
      if (this.settings?.room === room) this.settings.loaded = true;
    } catch (error) {
      if (this.settings?.room === room) this.settings.error = toUiError(error);
    }
  }

  async #loadLists(): Promise<void> {
    const form = this.settings;
    if (!form) return;
    const { account, jid } = form.room;
    const lists = await Promise.all(LISTS.map((a) => this.#backend.affiliations(account, jid, a)));
    if (this.settings !== form) return;
    form.lists = { owner: lists[0]!, admin: lists[1]!, member: lists[2]!, outcast: lists[3]! };
  }

  /** Saves the name, description and members-only setting. */
  async saveSettings(): Promise<void> {
    const form = this.settings;
    if (!form || form.busy) return;
    form.busy = true;
    form.error = null;
    form.saved = false;
    try {
      const settings = { ...form.settings, name: form.settings.name.trim(), description: form.settings.description.trim() };
      await this.#backend.setRoomSettings(form.room.account, form.room.jid, settings);
      if (settings.name !== '') form.room.name = settings.name;
      form.saved = true;
      await this.loadInfo(form.room);
    } catch (error) {
      form.error = toUiError(error);
    } finally {
      form.busy = false;
    }
  }

  /** Gives the address typed the affiliation chosen, then shows the lists again. */
  async addAffiliation(): Promise<void> {
    const form = this.settings;
    const jid = form?.adding.trim() ?? '';
    if (!form || jid === '') return;
    await this.#change(form, jid, form.addAs);
    if (form.error === null) form.adding = '';
  }

  /** Takes `entry`'s affiliation away (a ban lifted, a member removed). */
  async removeAffiliation(entry: Affiliated): Promise<void> {
    const form = this.settings;
    if (form) await this.#change(form, entry.jid, 'none');
  }

  async #change(form: SettingsForm, jid: string, affiliation: Affiliation): Promise<void> {
    form.busy = true;
    form.error = null;
    try {
      await this.#backend.setAffiliation(form.room.account, form.room.jid, jid, affiliation, null);
      await this.#loadLists();
    } catch (error) {
      form.error = toUiError(error);
    } finally {
      form.busy = false;
    }
  }

  /** Closes the settings dialog. */
  closeSettings(): void {
    this.settings = null;
  }
}
