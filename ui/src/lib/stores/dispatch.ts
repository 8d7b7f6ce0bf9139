/**
 * The one place where backend events change the stores: every `core-event` and `shell-event`
 * goes through `dispatch`, which handles each event type (the `never` check makes the compiler
 * reject a new, unhandled type).
 */
import type { CoreEvent, ErrorCode, ShellEvent } from '$lib/contract';
import { toUiError } from '$lib/errors';
import type { AvatarStore } from './avatars.svelte';
import type { ChatsStore } from './chats.svelte';
import type { LinkStore } from './links.svelte';
import type { NoticeStore } from './notices.svelte';
import type { RequestsStore } from './requests.svelte';
import type { RoomAdminStore } from './roomAdmin.svelte';
import type { RoomsStore } from './rooms.svelte';
import type { RosterStore } from './roster.svelte';
import type { SessionStore } from './session.svelte';
import type { UnreadStore } from './unread.svelte';

/** Every event the window receives: `core-event` (never a message; see `CoreEvent`) and `shell-event`. */
export type AppEvent = CoreEvent | ShellEvent;

/** The stores events change. */
export interface Stores {
  session: SessionStore;
  roster: RosterStore;
  chats: ChatsStore;
  unread: UnreadStore;
  notices: NoticeStore;
  avatars: AvatarStore;
  links: LinkStore;
  requests: RequestsStore;
  rooms: RoomsStore;
  roomAdmin: RoomAdminStore;
  /** The current time (unix ms), for reconnection countdowns. */
  now(): number;
}

/** Errors about the connection itself, which the connection banner explains. */
const CONNECTION_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'auth_failed',
  'auth_mechanism',
  'auth_downgrade',
  'tls_certificate',
  'tls',
  'unreachable',
  'timeout',
  'stream_error',
  'protocol',
]);

function unhandled(event: never): never {
  throw new Error(`unhandled event ${JSON.stringify(event)}`);
}

export function dispatch(stores: Stores, event: AppEvent): void {
  const { session, roster, chats, unread, notices } = stores;
  switch (event.type) {
    case 'connection':
      session.setConnection(event.account, event.state, stores.now());
      // Presence is only known while connected: everyone shows offline meanwhile.
      if (event.state.state !== 'online') roster.clearPresence(event.account);
      break;
    case 'roster_loaded':
      roster.load(event.account, event.contacts);
      break;
    case 'contact_changed':
      roster.upsert(event.account, event.contact);
      // A stranger added to the roster is no stranger any more.
      stores.requests.remove(event.account, event.contact.jid);
      break;
    case 'contact_removed':
      roster.remove(event.account, event.jid);
      break;
    case 'chat_state':
      chats.setPeerState(event.account, event.peer, event.state);
      break;
    case 'subscription_request':
      roster.request(event.account, event.jid);
      break;
    case 'presence_changed':
      roster.setPresence(event.account, event.jid, event.presence);
      break;
    case 'own_presence':
      session.presenceShown(event.account, event.show, event.status);
      break;
    case 'avatar_changed':
      stores.avatars.set(event.jid, event.hash);
      break;
    case 'catch_up_started':
    case 'catch_up_finished':
      // Each message it brings reached its chat's channel; nothing to show for the sync itself.
      break;
    case 'room_invite':
      stores.rooms.invited({
        account: event.account,
        room: event.room,
        from: event.from,
        reason: event.reason,
        password: event.password,
        stranger: event.stranger,
      });
      break;
    case 'room_read':
      // The shell recounts the room's unread lines and sends room_unread_changed.
      break;
    case 'chat_read':
      // The shell recounts the chat's unread messages and sends unread_changed.
      break;
    case 'error':
      // While logging in, the login form shows the failure itself.
      if (session.account === null) break;
      if (event.account === null) {
        notices.error(event.error);
        break;
      }
      if (!session.accounts.has(event.account)) break;
      // Connection failures explain the connection banner rather than pop up on their own.
      if (CONNECTION_ERRORS.has(event.error.code)) {
        session.connectionErrors.set(event.account, event.error);
        // The server's certificate changed while online: ask, as at login.
        const problem = event.error.certificate;
        if (problem) session.certificate = { jid: session.accounts.get(event.account)!, problem };
      } else notices.error(event.error);
      break;
    case 'unread_changed':
      unread.apply(event.chat, event.count, event.total);
      break;
    case 'auto_away':
      session.autoShow = event.show;
      break;
    case 'open_chat':
      // A notification of a room line opens the room.
      if (stores.rooms.find(event.chat.account, event.chat.peer)) stores.rooms.show(event.chat.account, event.chat.peer);
      else chats.open(event.chat.account, event.chat.peer);
      break;
    case 'room_joined':
      stores.rooms.joined(event.account, event.room, event.nick, event.occupants, event.subject);
      {
        // What the room says of itself (who may change its subject), asked once we are in.
        const room = stores.rooms.find(event.account, event.room);
        if (room) void stores.roomAdmin.loadInfo(room);
      }
      break;
    case 'occupant_changed':
      stores.rooms.occupant(event.account, event.room, event.change);
      break;
    case 'room_nick_taken':
      stores.rooms.nickTaken(event.account, event.room, event.suggested);
      break;
    case 'room_password_required':
      stores.rooms.passwordRequired(event.account, event.room);
      break;
    case 'room_left':
      stores.rooms.left(event.account, event.room, event.reason);
      break;
    case 'room_subject':
      stores.rooms.subjectChanged(event.account, event.room, event.subject);
      break;
    case 'room_unread_changed':
      stores.rooms.unreadChanged(event.room, event.count, event.mentioned);
      unread.total = event.total;
      break;
    case 'link_received':
      void stores.links.take();
      break;
    case 'requests_changed':
      void stores.requests.load(event.account).catch((error: unknown) => notices.error(toUiError(error)));
      break;
    default:
      unhandled(event);
  }
}
