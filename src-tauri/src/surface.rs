// The commands the UI may call, written once, with the signature the UI
// sees (arguments as sent, the value answered on success; every command
// may fail with a `CoreError`). From this list:
// - `lib.rs` registers the handlers;
// - `build.rs` declares each command as a permission (`allow-<command>`)
//   and writes `capabilities/main.json`, which grants them to Charla's
//   windows (CI fails if the committed file drifts);
// - `backend.rs` (a test) checks each signature against `commands.rs` and
//   writes the UI's `Backend` interface and its client,
//   `ui/src/lib/bindings/Backend.ts` (CI fails if it drifts).
// This file is also `include!`d by `build.rs`, so it holds only this macro.
// A `Channel<T>` argument reaches the UI as a callback `(update: T) => void`.

/// Calls the macro `$then` with every command, in order, as
/// `/// docs name(argument: Type, ...) -> Answer,`.
macro_rules! with_commands {
    ($then:ident) => {
        $then! {
            /// The app's version, and the sandbox's accounts when it runs on the local sandbox.
            app_info() -> AppInfo,
            /// Logs in (keeping the account or not, as asked); answers it and the kept accounts.
            login(request: LoginRequest) -> AccountsNow,
            /// At start: logs in with the password remembered in the OS keyring, or says why not.
            resume_login() -> Resume,
            /// Enables a kept account (connects it with its remembered password, and answers it;
            /// fails with `password_needed` when there is none) or disables it; answers the kept
            /// accounts too.
            enable_account(jid: String, enabled: bool) -> AccountsNow,
            /// Sets the color a kept account is shown with (`#rrggbb`; null: its default); answers
            /// the kept accounts.
            set_account_color(jid: String, color: Option<String>) -> Vec<AccountSettings>,
            /// Trusts the certificate the last login of `jid` rejected (shown to the user), for that account.
            trust_certificate(jid: String, fingerprint: String) -> (),
            /// Goes offline and forgets the account's remembered password.
            logout(account: AccountId) -> (),
            /// While the account waits to reconnect, tries at once.
            reconnect_now(account: AccountId) -> (),
            /// Changes our presence (`offline` disconnects); answers the recent status messages, this one first.
            set_presence(account: AccountId, show: Show, status: Option<String>) -> Vec<String>,
            /// Seconds since `jid` was last online, if their server tells (XEP-0012).
            last_activity(account: AccountId, jid: String) -> Option<u64>,
            /// The account's contacts.
            contacts(account: AccountId) -> Vec<RosterEntry>,
            /// Presence of the account's online contacts, for windows opened after it arrived.
            presences(account: AccountId) -> Vec<PresenceEntry>,
            /// Opens a chat view: the first page (newest first); later changes go to `updates`
            /// until `closeChat`.
            open_chat(account: AccountId, peer: String, updates: Channel<ChatUpdate>) -> Vec<Message>,
            /// Closes a chat view.
            close_chat(account: AccountId, peer: String) -> (),
            /// The page before `before`, newest first; empty when there is no more.
            load_older(account: AccountId, peer: String, before: MessageId) -> Vec<Message>,
            /// Sends a chat message; answers it as stored (pending).
            send_message(account: AccountId, to: String, body: String) -> Message,
            /// Joins the group chat `room` as `nick` (with its password, if it has one); the outcome
            /// comes as `room_joined`, `room_nick_taken`, `room_password_required` or `room_left`.
            join_room(account: AccountId, room: String, nick: String, password: Option<String>) -> (),
            /// Creates the group chat `room` as `preset` says (a private group or a public channel,
            /// named) and joins it as `nick`; the outcome comes as for `joinRoom`. Answers the
            /// room's notify setting (a private group notifies every line).
            create_room(account: AccountId, room: String, nick: String, preset: RoomPreset) -> RoomNotify,
            /// Invites `jid` to the group chat `room`, through the room (in a private group this
            /// also makes them a member).
            invite_to_room(account: AccountId, room: String, jid: String, reason: Option<String>) -> (),
            /// Leaves a group chat (it is no longer joined at login); `forget` also removes it from
            /// the list.
            leave_room(account: AccountId, room: String, forget: bool) -> (),
            /// The account's group chats, with their notify settings, unread lines and mentions.
            rooms(account: AccountId) -> Vec<RoomEntry>,
            /// Opens a room view: the first page of lines (newest first); later changes go to
            /// `updates` until `closeRoom`.
            open_room(account: AccountId, room: String, updates: Channel<RoomUpdate>) -> Vec<RoomMessage>,
            /// Closes a room view.
            close_room(account: AccountId, room: String) -> (),
            /// The room's lines before `before`, newest first; empty when there is no more.
            load_older_lines(account: AccountId, room: String, before: RoomMessageId) -> Vec<RoomMessage>,
            /// Says something in a group chat; answers the line as stored (pending).
            send_room_message(account: AccountId, room: String, body: String) -> RoomMessage,
            /// The group chat services of the account's server (found by service discovery).
            room_services(account: AccountId) -> Vec<String>,
            /// The public rooms the group chat service `service` lists.
            public_rooms(account: AccountId, service: String) -> Vec<PublicRoom>,
            /// What the room `room` says of itself: name, description, kind, who may change its
            /// subject; fails with `not_found` for no room.
            room_info(account: AccountId, room: String) -> RoomInfo,
            /// Sets the subject of a group chat (empty: none); `room_subject` tells it if the room
            /// allowed it.
            set_room_subject(account: AccountId, room: String, subject: String) -> (),
            /// Gives the occupant `nick` a role: `none` kicks them, `participant` gives voice,
            /// `visitor` takes it; fails with `forbidden` unless we may.
            set_occupant_role(account: AccountId, room: String, nick: String, role: Role, reason: Option<String>) -> (),
            /// Gives `jid` an affiliation with the room: `member`, `admin`, `owner`, `outcast`
            /// (banned) or `none`; fails with `forbidden` or `conflict` as the room says.
            set_affiliation(account: AccountId, room: String, jid: String, affiliation: Affiliation, reason: Option<String>) -> (),
            /// Everyone with `affiliation` in the room (members, admins, owners, the banned).
            affiliations(account: AccountId, room: String, affiliation: Affiliation) -> Vec<Affiliated>,
            /// The room's name, description and members-only setting (owners only).
            room_settings(account: AccountId, room: String) -> RoomSettings,
            /// Changes the room's name, description and members-only setting (owners only).
            set_room_settings(account: AccountId, room: String, settings: RoomSettings) -> (),
            /// Sends a private message to the occupant `nick` of a group chat, through the room;
            /// answers it as stored (pending, marked private).
            send_room_private(account: AccountId, room: String, nick: String, body: String) -> RoomMessage,
            /// Sets which lines of a group chat are notified; answers every room's setting.
            set_room_notify(account: AccountId, room: String, notify: RoomNotify) -> Vec<RoomNotifySetting>,
            /// The chat or group chat (`peer`: the room) the user looks at (null: none), for unread
            /// counts and notifications.
            focus_chat(chat: Option<ChatRef>) -> (),
            /// The user has seen the chat up to this incoming message (sends a read marker if enabled).
            mark_displayed(account: AccountId, peer: String, message: MessageId) -> (),
            /// Sends a reply to message `reply_to` of the same chat (XEP-0461); answers it as
            /// stored (pending).
            send_reply(account: AccountId, to: String, body: String, reply_to: MessageId) -> Message,
            /// Says a reply to line `reply_to` of the same group chat; answers it as stored.
            send_room_reply(account: AccountId, room: String, body: String, reply_to: RoomMessageId) -> RoomMessage,
            /// Replaces the text of one of our messages (XEP-0308); it comes back updated, marked
            /// edited.
            edit_message(account: AccountId, target: MessageRef, body: String) -> (),
            /// Deletes one of our messages for everyone (XEP-0424); it comes back as a tombstone.
            retract_message(account: AccountId, target: MessageRef) -> (),
            /// Deletes a message here only; it comes back hidden.
            hide_message(account: AccountId, target: MessageRef) -> (),
            /// Sets our reactions to a message (XEP-0444; empty: none); only emoji are taken.
            react(account: AccountId, target: MessageRef, emoji: Vec<String>) -> (),
            /// Deletes another occupant's line for everyone, as a moderator (XEP-0425); fails
            /// with `forbidden` unless we may.
            moderate_line(account: AccountId, line: RoomMessageId, reason: Option<String>) -> (),
            /// The earlier texts of an edited message, oldest first.
            message_versions(account: AccountId, target: MessageRef) -> Vec<String>,
            /// Keeps the unsent text of a chat or group chat (empty: none).
            set_draft(account: AccountId, chat: String, body: String) -> (),
            /// Every kept draft, of every account.
            drafts() -> Vec<Draft>,
            /// Sends one of our failed messages again; it comes back as pending.
            retry_message(account: AccountId, message: MessageId) -> Message,
            /// Answers `jid`'s request to see our presence.
            answer_subscription(account: AccountId, jid: String, accept: bool) -> (),
            /// Adds a contact and asks to see their presence.
            add_contact(account: AccountId, jid: String, name: Option<String>, group: Option<String>) -> (),
            /// Blocks (or unblocks) `jid`: the server drops everything from them.
            block(account: AccountId, jid: String, block: bool) -> (),
            /// Blocks `jid` and reports them as spam (XEP-0377) where the server takes reports.
            block_and_report(account: AccountId, jid: String) -> (),
            /// Whether the account's server takes spam reports (XEP-0377).
            can_report(account: AccountId) -> bool,
            /// The account's message requests (conversations with strangers), newest first.
            message_requests(account: AccountId) -> Vec<MessageRequest>,
            /// Deletes the stored conversation with `peer`; answers how many messages went.
            delete_conversation(account: AccountId, peer: String) -> u32,
            /// The blocked addresses, from the server.
            blocked(account: AccountId) -> Vec<String>,
            /// Removes a contact, which ends the presence sharing both ways.
            remove_contact(account: AccountId, jid: String) -> (),
            /// Renames a contact and sets its groups.
            edit_contact(account: AccountId, jid: String, name: Option<String>, groups: Vec<String>) -> (),
            /// Tells `peer` our chat state (typing, paused, ...).
            send_chat_state(account: AccountId, peer: String, state: ChatState) -> (),
            /// Opens an http, https or mailto link in the system's handler.
            open_link(url: String) -> (),
            /// Parses an `xmpp:` link (fails with `bad_link`).
            parse_link(url: String) -> XmppLink,
            /// The `xmpp:` link Charla was started or launched again with, once; fails with `bad_link`.
            take_link() -> Option<XmppLink>,
            /// Saves the settings (and applies them).
            save_settings(settings: Settings) -> (),
            /// Opens a chat in a window of its own.
            pop_out_chat(chat: ChatRef) -> (),
            /// The extra fields a server asks of a new account (XEP-0077), or why it allows none.
            registration_form(request: RegisterRequest) -> RegistrationForm,
            /// Creates the account on its server; then it can log in.
            register_account(request: RegisterRequest) -> (),
            /// Changes the logged-in account's password on the server.
            change_password(account: AccountId, password: String) -> (),
            /// Deletes the account on its server (after the user confirmed); it is then signed out
            /// and no longer kept. Answers the kept accounts.
            delete_account(account: AccountId) -> Vec<AccountSettings>,
            /// Removes the account from Charla, keeping or deleting its local history; answers the
            /// kept accounts.
            remove_account(jid: String, keep_history: bool) -> Vec<AccountSettings>,
            /// The recorded avatar hash of each contact (and of the account), by bare JID.
            avatars(account: AccountId) -> HashMap<String, String>,
            /// The cached image of avatar `hash` as a `data:` URL, or null if it is not cached.
            avatar_image(hash: String) -> Option<String>,
            /// Sets our avatar from an image file (base64 of its bytes; null removes it); answers the new hash.
            set_avatar(account: AccountId, image: Option<String>) -> Option<String>,
            /// `jid`'s profile (vCard); ours for our own JID.
            profile(account: AccountId, jid: String) -> Profile,
            /// Sets our full name and nickname.
            set_profile(account: AccountId, full_name: Option<String>, nickname: Option<String>) -> (),
        }
    };
}
