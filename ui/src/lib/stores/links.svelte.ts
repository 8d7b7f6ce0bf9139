/**
 * `xmpp:` links (RFC 5122, XEP-0147): from the desktop (Charla started or launched again with
 * one, taken from the shell with `take_link`) or clicked in a message (parsed by `parse_link`).
 * A link never acts on its own: it opens the chat with the proposed text as an unsent draft, or
 * the add-contact dialog filled in, and the user decides. A link that comes before the login is
 * kept and opened once the main window shows. Other links clicked in a message (http, https,
 * mailto) go to the system's handler.
 */
import type { Backend } from '$lib/api';
import type { AccountId, XmppLink } from '$lib/contract';
import { toUiError } from '$lib/errors';
import { isAllowedLink } from '$lib/util/linkify';
import type { ChatsStore } from './chats.svelte';
import type { NoticeStore } from './notices.svelte';
import type { RoomsStore } from './rooms.svelte';
import type { RosterStore } from './roster.svelte';
import type { SessionStore } from './session.svelte';

/** What the add-contact dialog is filled in with. */
export interface ContactOffer {
  /** The account to add it on (the dialog lets the user choose another). */
  account: AccountId;
  jid: string;
  name: string;
  group: string;
}

export class LinkStore {
  /** A link that came before the main window showed, opened by {@link flush}. */
  pending = $state.raw<XmppLink | null>(null);
  /** The add-contact dialog a link asked for, until it closes. */
  offer = $state.raw<ContactOffer | null>(null);

  readonly #backend: Backend;
  readonly #session: SessionStore;
  readonly #roster: RosterStore;
  readonly #chats: ChatsStore;
  readonly #notices: NoticeStore;
  readonly #rooms: RoomsStore;

  constructor(
    backend: Backend,
    stores: { session: SessionStore; roster: RosterStore; chats: ChatsStore; notices: NoticeStore; rooms: RoomsStore },
  ) {
    this.#backend = backend;
    this.#session = stores.session;
    this.#roster = stores.roster;
    this.#chats = stores.chats;
    this.#notices = stores.notices;
    this.#rooms = stores.rooms;
  }

  /** Takes the link the shell keeps (start, or `link_received`); a malformed one is a notice. */
  async take(): Promise<void> {
    if (this.#session.phase === 'popout') return;
    try {
      const link = await this.#backend.takeLink();
      if (link) this.open(link);
    } catch (error) {
      this.#notices.error(toUiError(error));
    }
  }

  /**
   * Opens an allowed link clicked in a message: an `xmpp:` link in Charla (see {@link openUrl}),
   * http, https and mailto in the system's handler.
   */
  async openLink(url: string): Promise<void> {
    if (!isAllowedLink(url)) return;
    if (/^xmpp:/iu.test(url)) await this.openUrl(url);
    else await this.#notices.attempt(() => this.#backend.openLink(url));
  }

  /** An `xmpp:` link clicked in a message: parsed by the backend, then opened here. */
  async openUrl(url: string): Promise<void> {
    try {
      this.open(await this.#backend.parseLink(url));
    } catch (error) {
      this.#notices.error(toUiError(error));
    }
  }

  /**
   * Opens `link` on the account that has the contact (else the open chat's, else the first
   * account): its chat, with the proposed text in the message box; or, for `?roster` and
   * `?subscribe`, the add-contact dialog, unless we already see the contact's presence (then its
   * chat); or, for `?join`, the group. Before the login, it waits for {@link flush}.
   */
  open(link: XmppLink): void {
    const first = this.#session.account;
    if (first === null || this.#session.phase !== 'main') {
      this.pending = link;
      return;
    }
    const accounts = [...this.#session.accounts.keys()];
    const owner = accounts.find((a) => this.#roster.entry(a, link.jid) !== undefined);
    const account = owner ?? this.#chats.active?.account ?? first;
    const { action } = link;
    if (action.type === 'join') {
      // A group: shown if listed, else "Join a group" filled in (never joined by itself).
      const listed = this.#rooms.list.find((r) => r.jid === link.jid);
      if (listed) this.#rooms.show(listed.account, listed.jid);
      else this.#rooms.openJoin(first, this.#session.accounts.get(first) ?? '', link.jid, action.password);
      return;
    }
    if (action.type === 'add_contact') {
      const known = owner === undefined ? undefined : this.#roster.entry(owner, link.jid);
      if (known?.subscription !== 'to' && known?.subscription !== 'both') {
        this.offer = { account, jid: link.jid, name: action.name ?? '', group: action.group ?? '' };
        return;
      }
    }
    const chat = this.#chats.open(account, link.jid);
    const body = action.type === 'chat' ? action.body : null;
    if (chat && body) {
      // Never overwrite what the user was typing: the proposed text goes after it.
      if (chat.draft.trim() === '') chat.draft = body;
      else if (!chat.draft.includes(body)) chat.draft = `${chat.draft}\n${body}`;
    }
  }

  /** The main window shows: opens the link that was waiting for it. */
  flush(): void {
    const link = this.pending;
    this.pending = null;
    if (link) this.open(link);
  }

  /** The add-contact dialog closed (added or cancelled). */
  closeOffer(): void {
    this.offer = null;
  }
}
