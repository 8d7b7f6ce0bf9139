//! The UI's side of the command surface (`surface.rs`), kept by two tests:
//! one checks every listed signature against the handler in `commands.rs`,
//! the other writes `ui/src/lib/bindings/Commands.ts`: the `Commands`
//! interface (one method per command, with its docs) and `commandClient`,
//! which sends each method as its command. Like the ts-rs bindings beside
//! it, the file is rewritten by `cargo test` and CI fails if it drifts.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// One command as `surface.rs` lists it.
struct Command {
    name: &'static str,
    docs: Vec<&'static str>,
    /// Arguments as (name, Rust type as written).
    args: Vec<(&'static str, String)>,
    /// The value answered on success, as written.
    answer: String,
}

/// The list in `surface.rs`, with types as text without spaces.
macro_rules! listed {
    ($($(#[doc = $doc:literal])* $command:ident($($arg:ident: $ty:ty),*) -> $answer:ty,)*) => {
        vec![$(Command {
            name: stringify!($command),
            docs: vec![$($doc),*],
            args: vec![$((stringify!($arg), compact(stringify!($ty)))),*],
            answer: compact(stringify!($answer)),
        }),*]
    };
}

fn commands() -> Vec<Command> {
    with_commands!(listed)
}

/// `text` without whitespace.
fn compact(text: &str) -> String {
    text.split_whitespace().collect()
}

/// `type` without its path (`charla_core::MessageRequest` → `MessageRequest`,
/// also inside generics).
fn unqualified(r#type: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in r#type.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or_default());
            word.clear();
            if c != ' ' {
                out.push(c);
            }
        }
    }
    out
}

/// Splits `list` at the commas outside `<>` and `()`.
fn split_top(list: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth) = (Vec::new(), String::new(), 0i32);
    for c in list.chars() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// Where the bracket opened at `open` closes.
fn closing(text: &str, open: usize) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '(' | '<' => depth += 1,
            ')' | '>' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return i;
        }
    }
    panic!("unclosed bracket in {text}");
}

/// A command's name, UI arguments as (name, type) and answer.
type Signature = (String, Vec<(String, String)>, String);

/// Arguments Tauri injects rather than the UI sending them.
const INJECTED: &[&str] = &["Shared<'_>", "AppHandle", "WebviewWindow"];

/// The handlers in `commands.rs` (and its submodules) as (name, UI
/// arguments, answer), read from their source: each `#[tauri::command]`
/// function's signature.
fn handlers() -> Vec<Signature> {
    // Every file with commands (`commands.rs` and its submodules).
    let source = [
        include_str!("commands.rs"),
        include_str!("commands/rooms.rs"),
        include_str!("commands/rich.rs"),
    ]
    .concat();
    let mut found = Vec::new();
    for item in source.split("#[tauri::command]").skip(1) {
        let signature = compact(&item[..item.find('{').expect("a function body")]);
        let signature = signature
            .trim_start_matches("pub")
            .trim_start_matches("async")
            .trim_start_matches("fn");
        let open = signature.find('(').expect("an argument list");
        let close = closing(signature, open);
        let name = signature[..open].to_owned();
        let args = split_top(&signature[open + 1..close])
            .into_iter()
            .filter_map(|arg| {
                let (name, r#type) = arg.split_once(':')?;
                (!INJECTED.contains(&r#type)).then(|| (name.to_owned(), unqualified(r#type)))
            })
            .collect();
        let answer = match signature[close + 1..].strip_prefix("->") {
            None => "()".to_owned(),
            Some(answer) => {
                let answer = unqualified(answer);
                match answer
                    .strip_prefix("Result<")
                    .and_then(|a| a.strip_suffix(",CoreError>"))
                {
                    Some(ok) => ok.to_owned(),
                    None => answer,
                }
            }
        };
        found.push((name, args, answer));
    }
    found
}

/// `snake_case` → `camelCase`, as Tauri names command arguments.
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The TypeScript of a Rust type (without spaces, unqualified); named
/// types are added to `imports` (they come from the ts-rs bindings).
fn typescript(r#type: &str, imports: &mut BTreeSet<String>) -> String {
    let inner = |prefix: &str| {
        r#type
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix('>'))
    };
    if let Some(inner) = inner("Option<") {
        return format!("{} | null", typescript(inner, imports));
    }
    if let Some(inner) = inner("Vec<") {
        let item = typescript(inner, imports);
        return if item.contains(' ') {
            format!("({item})[]")
        } else {
            format!("{item}[]")
        };
    }
    if let Some(inner) = inner("HashMap<String,") {
        return format!("Record<string, {}>", typescript(inner, imports));
    }
    if let Some(inner) = inner("Channel<") {
        return format!("(update: {}) => void", typescript(inner, imports));
    }
    match r#type {
        "()" => "void".to_owned(),
        "String" => "string".to_owned(),
        "bool" => "boolean".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "i32" | "i64" | "f64" => "number".to_owned(),
        named => {
            assert!(
                named.chars().all(|c| c.is_alphanumeric() || c == '_'),
                "no TypeScript for the Rust type {named}"
            );
            imports.insert(named.to_owned());
            named.to_owned()
        }
    }
}

/// The generated file.
fn render(commands: &[Command]) -> String {
    let mut imports = BTreeSet::new();
    let mut interface = String::new();
    let mut client = String::new();
    for command in commands {
        let method = camel(command.name);
        let answer = typescript(&command.answer, &mut imports);
        let mut params = Vec::new();
        let mut sent = Vec::new();
        for (name, r#type) in &command.args {
            let name = camel(name);
            params.push(format!("{name}: {}", typescript(r#type, &mut imports)));
            sent.push(if r#type.starts_with("Channel<") {
                format!("{name}: channel({name})")
            } else {
                name
            });
        }
        let docs: Vec<&str> = command.docs.iter().map(|d| d.trim()).collect();
        if let [line] = docs.as_slice() {
            let _ = writeln!(interface, "  /** {line} */");
        } else {
            let _ = writeln!(interface, "  /**");
            for line in &docs {
                let _ = writeln!(interface, "   * {line}");
            }
            let _ = writeln!(interface, "   */");
        }
        let _ = writeln!(
            interface,
            "  {method}({}): Promise<{answer}>;",
            params.join(", ")
        );
        let names: Vec<String> = command.args.iter().map(|(n, _)| camel(n)).collect();
        let sent = if sent.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", sent.join(", "))
        };
        let _ = writeln!(
            client,
            "    {method}: ({}) => invoke<{answer}>('{}'{sent}),",
            names.join(", "),
            command.name
        );
    }
    let imports: Vec<String> = imports.into_iter().collect();
    format!(
        "// Generated by `cargo test` from src-tauri/src/surface.rs (src-tauri/src/typescript.rs); do not edit.\n\
         import type {{ {} }} from '../contract';\n\
         \n\
         /** The commands the UI may call, one method each. Every method rejects with the command's error. */\n\
         export interface Commands {{\n{interface}}}\n\
         \n\
         /** Calls the shell's command `command` with `args`. */\n\
         export type Invoke = <T>(command: string, args?: Record<string, unknown>) => Promise<T>;\n\
         /** Makes the channel a command streams updates over, handing each to `handler`. */\n\
         export type OpenChannel = <T>(handler: (update: T) => void) => unknown;\n\
         \n\
         /** `Commands` over `invoke`: each method calls its command, with the arguments named as the command takes them. */\n\
         export function commandClient(invoke: Invoke, channel: OpenChannel): Commands {{\n\
         \x20 return {{\n{client}  }};\n\
         }}\n",
        imports.join(", ")
    )
}

#[test]
fn every_listed_signature_is_the_handlers() {
    let listed: Vec<Signature> = commands()
        .into_iter()
        .map(|c| {
            let args = c
                .args
                .iter()
                .map(|(n, t)| ((*n).to_owned(), unqualified(t)))
                .collect();
            (c.name.to_owned(), args, unqualified(&c.answer))
        })
        .collect();
    let mut handlers = handlers();
    let mut listed_sorted = listed.clone();
    handlers.sort();
    listed_sorted.sort();
    assert_eq!(listed_sorted, handlers, "surface.rs and commands.rs differ");
}

#[test]
fn the_ui_commands_file_is_current() {
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings/Commands.ts");
    let wanted = render(&commands());
    if std::fs::read_to_string(&file).ok().as_deref() != Some(wanted.as_str()) {
        std::fs::write(&file, wanted).expect("writing Commands.ts");
    }
}

#[test]
fn types_become_typescript() {
    let mut imports = BTreeSet::new();
    assert_eq!(
        typescript("Option<Vec<Option<String>>>", &mut imports),
        "(string | null)[] | null"
    );
    assert_eq!(
        typescript("HashMap<String,String>", &mut imports),
        "Record<string, string>"
    );
    assert_eq!(
        typescript("Channel<ChatUpdate>", &mut imports),
        "(update: ChatUpdate) => void"
    );
    assert_eq!(typescript("()", &mut imports), "void");
    assert_eq!(imports.into_iter().collect::<Vec<_>>(), ["ChatUpdate"]);
    assert_eq!(
        unqualified("Vec<charla_core::MessageRequest>"),
        "Vec<MessageRequest>"
    );
    assert_eq!(camel("keep_history"), "keepHistory");
}
