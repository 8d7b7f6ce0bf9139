/**
 * The types exchanged with the backend, in one place: re-exports of the ts-rs bindings
 * (`./bindings`, generated from `charla-core` and `src-tauri/src/types.rs`; never edited by hand).
 */
import type { Event } from './bindings/Event';

export type { AccountId } from './bindings/AccountId';
export type { AppInfo } from './bindings/AppInfo';
export type { AutoAway } from './bindings/AutoAway';
export type { CertificateProblem } from './bindings/CertificateProblem';
export type { CertificateReason } from './bindings/CertificateReason';
export type { ChatRef } from './bindings/ChatRef';
export type { RoomKind } from './bindings/RoomKind';
export type { RoomPreset } from './bindings/RoomPreset';
export type { ChatState } from './bindings/ChatState';
export type { ChatUpdate } from './bindings/ChatUpdate';
export type { ConnectionState } from './bindings/ConnectionState';
export type { ContactPresence } from './bindings/ContactPresence';
export type { CoreError } from './bindings/CoreError';
export type { DemoAccount } from './bindings/DemoAccount';
export type { Direction } from './bindings/Direction';
export type { ErrorCode } from './bindings/ErrorCode';
export type { LinkAction } from './bindings/LinkAction';
export type { LoginRequest } from './bindings/LoginRequest';
export type { Message } from './bindings/Message';
export type { MessageId } from './bindings/MessageId';
export type { MessageRef } from './bindings/MessageRef';
export type { Draft } from './bindings/Draft';
export type { Rich } from './bindings/Rich';
export type { Reaction } from './bindings/Reaction';
export type { Reply } from './bindings/Reply';
export type { MessageRequest } from './bindings/MessageRequest';
export type { MessageState } from './bindings/MessageState';
export type { Affiliation } from './bindings/Affiliation';
export type { Occupant } from './bindings/Occupant';
export type { Affiliated } from './bindings/Affiliated';
export type { PublicRoom } from './bindings/PublicRoom';
export type { RoomInfo } from './bindings/RoomInfo';
export type { RoomSettings } from './bindings/RoomSettings';
export type { OccupantChange } from './bindings/OccupantChange';
export type { Role } from './bindings/Role';
export type { Room } from './bindings/Room';
export type { RoomEntry } from './bindings/RoomEntry';
export type { RoomExit } from './bindings/RoomExit';
export type { RoomMessage } from './bindings/RoomMessage';
export type { RoomMessageId } from './bindings/RoomMessageId';
export type { RoomNotify } from './bindings/RoomNotify';
export type { RoomNotifySetting } from './bindings/RoomNotifySetting';
export type { RoomUpdate } from './bindings/RoomUpdate';
export type { PresenceEntry } from './bindings/PresenceEntry';
export type { RegisterRequest } from './bindings/RegisterRequest';
export type { RegistrationField } from './bindings/RegistrationField';
export type { RegistrationForm } from './bindings/RegistrationForm';
export type { Profile } from './bindings/Profile';
export type { AccountSettings } from './bindings/AccountSettings';
export type { AccountsNow } from './bindings/AccountsNow';
export type { LoginFailure } from './bindings/LoginFailure';
export type { SignedIn } from './bindings/SignedIn';
export type { Resume } from './bindings/Resume';
export type { RosterEntry } from './bindings/RosterEntry';
export type { SandboxInfo } from './bindings/SandboxInfo';
export type { Settings } from './bindings/Settings';
export type { ShellEvent } from './bindings/ShellEvent';
export type { Show } from './bindings/Show';
export type { Subscription } from './bindings/Subscription';
export type { XmppLink } from './bindings/XmppLink';

/**
 * What the UI receives on `core-event`: every core event except the message and room line ones,
 * which the shell (`shell.rs` `route`) sends only to the chat and room views that asked for them,
 * as `ChatUpdate`s and `RoomUpdate`s on their channels.
 */
export type CoreEvent = Exclude<
  Event,
  | { type: 'message_added' }
  | { type: 'message_updated' }
  | { type: 'room_message_added' }
  | { type: 'room_message_updated' }
>;
