//! `charla-cli`: a small terminal front end to Charla without a window, for
//! trying it by hand and for tests. It logs in, prints every core event as
//! one JSON line, followed by what the app decided about them (unread
//! counts, notifications: the same `AppEvent`s the desktop app shows), and
//! reads commands from standard input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use charla_app::{App, Batch, ChatRef, LoginRequest, MemoryKeyring, Passwords, RoomNotify};
use charla_core::{
    AccountId, ChatState, Core, CoreError, Direction, MessageId, MessageRef, ServerAddress, Show,
    TlsTrust,
};
use tokio::io::{AsyncBufReadExt, BufReader};

const USAGE: &str =
    "usage: charla-cli --jid USER@DOMAIN [--password PW] [--host HOST] [--port PORT]
                  [--direct-tls] [--ca CA.pem] [--db FILE] [--status TEXT]

The password may also come from the CHARLA_PASSWORD environment variable.
Commands on standard input:
  /msg JID TEXT          send a chat message
  /status SHOW [TEXT]    SHOW is available, chat, away, xa or dnd
  /roster                print the contact list
  /add JID [NAME]        add a contact and ask to see their presence
  /accept JID            let JID see your presence (and ask to see theirs)
  /deny JID              refuse JID's request
  /typing JID [STATE]    tell JID you are typing (or active, paused, inactive, gone)
  /history JID           print the last 20 messages with JID
  /edit JID TEXT         replace the text of your last message to JID
  /retract JID           delete your last message to JID for everyone
  /react JID [EMOJI..]   set your reactions to JID's last message (none: take them back)
  /reply JID TEXT        answer JID's last message
  /read JID              read the chat with JID (its unread count resets)
  /avatar [FILE]         set your avatar from a PNG or JPEG file (none: remove it)
  /join ROOM NICK [PW]   join the group chat ROOM as NICK (with its password)
  /say ROOM TEXT         say TEXT in the group chat ROOM
  /invite ROOM JID [WHY] invite JID to the group chat ROOM, through the room
  /leave ROOM            leave the group chat ROOM
  /rooms                 print the group chats kept
  /notify ROOM WHICH     notify all, mentions or nothing of ROOM's lines
  /quit                  go offline and exit";

struct Args {
    jid: String,
    password: String,
    host: Option<String>,
    port: Option<u16>,
    direct_tls: bool,
    ca: Option<PathBuf>,
    db: Option<PathBuf>,
    status: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut jid = None;
    let mut password = std::env::var("CHARLA_PASSWORD").ok();
    let (mut host, mut port, mut ca, mut db, mut status) = (None, None, None, None, None);
    let mut direct_tls = false;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--jid" => jid = Some(value()?),
            "--password" => password = Some(value()?),
            "--host" => host = Some(value()?),
            "--port" => port = Some(value()?.parse().map_err(|_| "bad --port".to_owned())?),
            "--direct-tls" => direct_tls = true,
            "--ca" => ca = Some(PathBuf::from(value()?)),
            "--db" => db = Some(PathBuf::from(value()?)),
            "--status" => status = Some(value()?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(Args {
        jid: jid.ok_or_else(|| format!("--jid is required\n{USAGE}"))?,
        password: password.ok_or_else(|| format!("no password given\n{USAGE}"))?,
        host,
        port,
        direct_tls,
        ca,
        db,
        status,
    })
}

fn default_db(jid: &str) -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("charla").join(format!("cli-{jid}.sqlite3"))
}

fn parse_chat_state(word: &str) -> Option<ChatState> {
    Some(match word {
        "composing" => ChatState::Composing,
        "active" => ChatState::Active,
        "paused" => ChatState::Paused,
        "inactive" => ChatState::Inactive,
        "gone" => ChatState::Gone,
        _ => return None,
    })
}

fn parse_show(word: &str) -> Option<Show> {
    Some(match word {
        "available" | "online" => Show::Available,
        "chat" => Show::Chat,
        "away" => Show::Away,
        "xa" => Show::Xa,
        "dnd" => Show::Dnd,
        _ => return None,
    })
}

fn print_json<T: serde::Serialize>(value: &T) {
    match serde_json::to_string(value) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("cannot print event: {e}"),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            print_json(&serde_json::json!({ "type": "fatal", "error": e }));
            eprintln!("error [{:?}]: {}", e.code, e.message);
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), charla_core::CoreError> {
    let trust = match &args.ca {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                charla_core::CoreError::new(
                    charla_core::ErrorCode::InvalidInput,
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            TlsTrust::from_ca_pem(&pem)?
        }
        None => TlsTrust::system()?,
    };
    let server = match (args.host, args.port) {
        (None, None) => None,
        (host, port) => Some(ServerAddress {
            host: host
                .unwrap_or_else(|| args.jid.rsplit('@').next().unwrap_or_default().to_owned()),
            port: port.unwrap_or(if args.direct_tls { 5223 } else { 5222 }),
            direct_tls: args.direct_tls,
        }),
    };
    let db = args.db.unwrap_or_else(|| default_db(&args.jid));
    if let Some(dir) = db.parent() {
        let _ = charla_store::profile::create_private_dir(dir);
    }
    // Validate the JID before opening anything.
    charla_core::parse_bare_jid(&args.jid)?;
    let (core, mut events) = Core::open(&db)?;
    // The server and certificates given on the command line, else DNS and
    // the system's roots; the password is kept for this run only.
    let app = Arc::new(App::open(
        core,
        &db,
        Passwords::new(Arc::new(MemoryKeyring::default())),
        Box::new(move |_| Some((trust.clone(), server.clone()))),
        None,
    )?);
    // Weak: the events end when the app (its core) is dropped.
    let follower = Arc::downgrade(&app);
    let printer = tokio::spawn(async move {
        let mut batch = Vec::new();
        while events.recv_many(&mut batch, 256).await > 0 {
            let Some(follower) = follower.upgrade() else {
                break;
            };
            let mut changed = Batch::default();
            for event in batch.drain(..) {
                follower.observe(&event, &mut changed);
                print_json(&event);
                if let charla_core::Event::Error { error, .. } = &event {
                    eprintln!("error [{:?}]: {}", error.code, error.message);
                }
            }
            for said in follower.conclude(changed) {
                print_json(&said);
            }
        }
    });
    let (account, _) = app
        .login(
            LoginRequest {
                jid: args.jid,
                password: args.password,
                remember: false,
                remember_password: None,
                host: None,
                port: None,
            },
            args.status,
        )
        .await?;
    let core = &app.core;

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let line = line.trim();
        let (cmd, rest) = line.split_once(' ').unwrap_or((line, ""));
        let result = match cmd {
            "" => Ok(()),
            "/quit" => break,
            "/msg" => match rest.split_once(' ') {
                Some((to, text)) => core.send_message(account, to, text).await.map(|_| ()),
                None => {
                    eprintln!("usage: /msg JID TEXT");
                    Ok(())
                }
            },
            "/status" => {
                let (word, text) = rest.split_once(' ').unwrap_or((rest, ""));
                match parse_show(word) {
                    Some(show) => {
                        let text = (!text.is_empty()).then(|| text.to_owned());
                        app.set_presence(account, show, text).await.map(drop)
                    }
                    None => {
                        eprintln!("usage: /status available|chat|away|xa|dnd [TEXT]");
                        Ok(())
                    }
                }
            }
            "/roster" => core.contacts(account).map(|c| print_json(&c)),
            "/add" => {
                let (jid, name) = rest.split_once(' ').unwrap_or((rest, ""));
                let name = (!name.is_empty()).then_some(name);
                core.add_contact(account, jid, name, None).await
            }
            "/accept" => core.answer_subscription(account, rest, true).await,
            "/typing" => {
                let (jid, word) = rest.split_once(' ').unwrap_or((rest, "composing"));
                match parse_chat_state(word) {
                    Some(state) => core.send_chat_state(account, jid, state).await,
                    None => {
                        eprintln!("usage: /typing JID [composing|active|paused|inactive|gone]");
                        Ok(())
                    }
                }
            }
            "/deny" => core.answer_subscription(account, rest, false).await,
            "/avatar" => {
                let file = (!rest.is_empty()).then(|| std::path::Path::new(rest));
                core.set_avatar(account, file)
                    .await
                    .map(|hash| print_json(&serde_json::json!({ "avatar": hash })))
            }
            "/read" => match charla_core::parse_bare_jid(rest) {
                Ok(peer) => {
                    let chat = ChatRef {
                        account,
                        peer: peer.to_string(),
                    };
                    // Looked at, then left: later messages count again.
                    for said in app.focus(Some(chat.clone())) {
                        print_json(&said);
                    }
                    app.focus(None);
                    // As the desktop does: a room read is told to our
                    // other devices (XEP-0490).
                    if app.is_room(&chat) {
                        app.room_seen(&chat).await;
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            },
            "/join" => {
                let mut words = rest.split_whitespace();
                match (words.next(), words.next()) {
                    (Some(room), Some(nick)) => {
                        app.join_room(account, room, nick, words.next()).await
                    }
                    _ => {
                        eprintln!("usage: /join ROOM NICK [PASSWORD]");
                        Ok(())
                    }
                }
            }
            "/invite" => {
                let mut words = rest.splitn(3, ' ');
                match (words.next(), words.next()) {
                    (Some(room), Some(jid)) if !room.is_empty() => {
                        core.invite(account, room, jid, words.next()).await
                    }
                    _ => {
                        eprintln!("usage: /invite ROOM JID [REASON]");
                        Ok(())
                    }
                }
            }
            "/say" => match rest.split_once(' ') {
                Some((room, text)) => core.send_room_message(account, room, text).await.map(drop),
                None => {
                    eprintln!("usage: /say ROOM TEXT");
                    Ok(())
                }
            },
            "/leave" => app
                .leave_room(account, rest, false)
                .await
                .map(|said| said.iter().for_each(print_json)),
            "/rooms" => app.rooms(account).map(|r| print_json(&r)),
            "/notify" => {
                let which = match rest.split_whitespace().nth(1) {
                    Some("all") => Some(RoomNotify::All),
                    Some("mentions") => Some(RoomNotify::Mentions),
                    Some("nothing") => Some(RoomNotify::Nothing),
                    _ => None,
                };
                match (rest.split_whitespace().next(), which) {
                    (Some(room), Some(which)) => app
                        .set_room_notify(account, room, which)
                        .map(|all| print_json(&serde_json::json!({ "room_notify": all }))),
                    _ => {
                        eprintln!("usage: /notify ROOM all|mentions|nothing");
                        Ok(())
                    }
                }
            }
            "/history" => core
                .history(account, rest, None, 20)
                .map(|h| print_json(&h)),
            "/edit" | "/retract" | "/react" | "/reply" => {
                let (jid, text) = rest.split_once(' ').unwrap_or((rest, ""));
                let ours = matches!(cmd, "/edit" | "/retract");
                match last_message(core, account, jid, ours) {
                    Ok(Some(id)) => match cmd {
                        "/edit" => core.edit_message(account, MessageRef::Chat(id), text).await,
                        "/retract" => core.retract_message(account, MessageRef::Chat(id)).await,
                        "/react" => {
                            let emoji = text.split_whitespace().map(str::to_owned).collect();
                            core.react(account, MessageRef::Chat(id), emoji).await
                        }
                        _ => core.send_reply(account, jid, text, id).await.map(drop),
                    },
                    Ok(None) => {
                        eprintln!("no such message with {jid}");
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            _ => {
                eprintln!("{USAGE}");
                Ok(())
            }
        };
        if let Err(e) = result {
            eprintln!("error [{:?}]: {}", e.code, e.message);
        }
    }
    core.disconnect(account).await;
    drop(app);
    let _ = printer.await;
    Ok(())
}

/// The newest message of the chat with `jid` that is ours (`ours`) or
/// theirs, and still there.
fn last_message(
    core: &Core,
    account: AccountId,
    jid: &str,
    ours: bool,
) -> Result<Option<MessageId>, CoreError> {
    let wanted = if ours { Direction::Out } else { Direction::In };
    Ok(core
        .history(account, jid, None, 50)?
        .into_iter()
        .find(|m| m.direction == wanted && !m.rich.retracted && !m.rich.hidden)
        .map(|m| m.id))
}
