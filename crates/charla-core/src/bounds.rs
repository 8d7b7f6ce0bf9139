//! Bounds on what the server sends, enforced on the raw bytes before any
//! XML tree is built (RFC 6120 §13.12, resource exhaustion).
//!
//! Every stanza may come from a stranger, and the XML parser and the
//! element builders behind it recurse per nesting level: one message nested
//! a thousand levels deep used to overflow the stack and abort the process.
//! [`Bounded`] sits between TLS and the XML parser and scans the byte
//! stream with a small lexer. It counts the nesting depth, the attributes of
//! each element and the bytes of each top-level element, and it holds each
//! stanza back until its end tag has arrived, so a stanza can be withdrawn
//! before the parser sees any of it.
//!
//! - A stanza (`<message/>`, `<presence/>`, `<iq/>`) over a limit is
//!   replaced by an empty stanza of the same kind with a type no stanza can
//!   have (`type='charla-dropped'`); the rest of it is read and thrown
//!   away. tokio-xmpp discards such an invalid stanza but still counts it
//!   for stream management (XEP-0198), so the server never sends it again
//!   on a resumed stream, and the session goes on.
//! - Anything else over a limit (the stream header, a nonza such as
//!   `<stream:features/>`), a stanza whose discarded rest grows past
//!   [`Limits::discard_bytes`] (an endless stanza), and what XMPP forbids
//!   (comments, DTDs, processing instructions after the stream opened) end
//!   the connection with an `InvalidData` error; the session then
//!   reconnects.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How much a server may send in one element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Nesting levels inside a stanza, the stanza element itself being 1.
    /// The deepest stanza Charla handles (an archived message with its
    /// forwarding wrapper and payloads) is about 8 levels.
    pub depth: u32,
    /// Attributes (namespace declarations included) on one element.
    pub attributes: u32,
    /// Bytes of one top-level element. The largest stanzas Charla takes
    /// are a big roster (about 120 bytes a contact: 4 MiB is some 30,000
    /// contacts) and avatars (256 KiB of data, 342 KiB as base64).
    pub stanza_bytes: usize,
    /// Bytes of an over-limit stanza that are read and thrown away before
    /// the connection is given up as hostile.
    pub discard_bytes: usize,
}

/// The limits of every connection to a server.
pub(crate) const LIMITS: Limits = Limits {
    depth: 64,
    attributes: 64,
    stanza_bytes: 4 * 1024 * 1024,
    discard_bytes: 64 * 1024 * 1024,
};

/// What replaces a stanza over a limit: invalid (no stanza has this type),
/// so tokio-xmpp counts and discards it.
const DROPPED_TYPE: &str = "charla-dropped";

/// Where the lexer is within the XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    /// Character data, or between elements.
    Text,
    /// After `<`.
    Open,
    /// In the name of a start tag.
    StartName,
    /// In a start tag, between attributes.
    InTag,
    /// In an attribute's name.
    AttrName,
    /// After an attribute's name, before `=`.
    AfterAttrName,
    /// After `=`, before the quote.
    BeforeValue,
    /// In a value quoted by this byte.
    Value(u8),
    /// After `/` in a start tag.
    EmptyTag,
    /// In an end tag.
    EndTag,
    /// In the XML declaration (`<?xml …?>`); `true` after a `?`.
    Declaration(bool),
    /// After `<!`: this many bytes of `[CDATA[` matched.
    CdataOpen(u8),
    /// In a CDATA section, after this many `]`.
    Cdata(u8),
}

/// Something the lexer found at one byte.
enum Found {
    /// A top-level element begins (its `<`).
    TopStart,
    /// The top-level element ended (its last `>`).
    TopEnd,
    /// The top-level element went over a limit.
    OverLimit(&'static str),
}

/// A reader that enforces Charla's bounds on depth, attributes and size on
/// the XML it passes on (see the module documentation); every connection's
/// bytes pass one. Public for the benchmarks. Writes go straight through.
pub struct Bounded<S> {
    inner: S,
    limits: Limits,
    lex: Lex,
    /// Open elements, the stream's root included.
    depth: u32,
    /// Attributes of the start tag being read.
    attributes: u32,
    /// Bytes passed on or held: `buf[head..ready]` may be read, and
    /// `buf[ready..]` is the top-level element still arriving.
    buf: Vec<u8>,
    head: usize,
    ready: usize,
    /// Whether `buf[ready..]` is an unfinished top-level element.
    in_top: bool,
    /// The top-level element's name, while it is short enough to matter.
    name: Vec<u8>,
    /// Throwing away the rest of an over-limit stanza: bytes so far.
    discarding: Option<usize>,
    /// The connection was given up; every later read fails.
    failed: Option<String>,
}

/// The longest top-level element name kept (`presence` is the longest
/// stanza name).
const NAME_KEPT: usize = 16;
/// How much is read from the inner stream at once.
const CHUNK: usize = 16 * 1024;

impl<S> Bounded<S> {
    /// Wraps `inner`, at the very start of a stream (or of a TLS session,
    /// where a new stream starts).
    pub fn new(inner: S) -> Self {
        Self::with_limits(inner, LIMITS)
    }

    pub(crate) fn with_limits(inner: S, limits: Limits) -> Self {
        Self {
            inner,
            limits,
            lex: Lex::Text,
            depth: 0,
            attributes: 0,
            buf: Vec::new(),
            head: 0,
            ready: 0,
            in_top: false,
            name: Vec::new(),
            discarding: None,
            failed: None,
        }
    }

    /// The wrapped stream. Bytes read but held back are dropped with the
    /// wrapper: after `<proceed/>` nothing in the clear may be taken (RFC
    /// 6120 §5.4.3.3).
    pub(crate) fn into_inner(self) -> S {
        self.inner
    }

    /// What may be passed on so far (for the fuzz targets).
    #[cfg(test)]
    pub(crate) fn passed(&self) -> &[u8] {
        &self.buf[self.head..self.ready]
    }

    /// Advances the lexer by one byte.
    fn step(&mut self, b: u8) -> Result<Option<Found>, String> {
        let space = matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        let mut found = None;
        self.lex = match self.lex {
            Lex::Text => {
                if b == b'<' {
                    if self.depth == 1 {
                        found = Some(Found::TopStart);
                    }
                    Lex::Open
                } else {
                    Lex::Text
                }
            }
            Lex::Open => match b {
                b'/' => Lex::EndTag,
                // The XML declaration of the stream, or of a restarted one.
                b'?' if self.depth <= 1 => Lex::Declaration(false),
                b'!' if self.depth > 0 => Lex::CdataOpen(0),
                b'?' | b'!' => return Err(forbidden(b)),
                _ if space || b == b'>' => return Err("an empty tag name".into()),
                _ => {
                    self.depth += 1;
                    self.attributes = 0;
                    if self.depth == 2 {
                        self.name.clear();
                        self.name.push(b);
                    }
                    if self.depth > self.limits.depth + 1 {
                        found = Some(Found::OverLimit("nested too deeply"));
                    }
                    Lex::StartName
                }
            },
            Lex::StartName => match b {
                b'>' => {
                    found = self.opened();
                    Lex::Text
                }
                b'/' => Lex::EmptyTag,
                _ if space => Lex::InTag,
                _ => {
                    if self.depth == 2 && self.name.len() <= NAME_KEPT {
                        self.name.push(b);
                    }
                    Lex::StartName
                }
            },
            Lex::InTag => match b {
                b'>' => {
                    found = self.opened();
                    Lex::Text
                }
                b'/' => Lex::EmptyTag,
                b'=' | b'"' | b'\'' | b'<' => return Err("a malformed start tag".into()),
                _ if space => Lex::InTag,
                _ => {
                    self.attributes += 1;
                    if self.attributes > self.limits.attributes {
                        found = Some(Found::OverLimit("too many attributes"));
                    }
                    Lex::AttrName
                }
            },
            Lex::AttrName => match b {
                b'=' => Lex::BeforeValue,
                b'>' | b'/' | b'<' | b'"' | b'\'' => return Err("a malformed attribute".into()),
                _ if space => Lex::AfterAttrName,
                _ => Lex::AttrName,
            },
            Lex::AfterAttrName => match b {
                b'=' => Lex::BeforeValue,
                _ if space => Lex::AfterAttrName,
                _ => return Err("an attribute without a value".into()),
            },
            Lex::BeforeValue => match b {
                b'"' | b'\'' => Lex::Value(b),
                _ if space => Lex::BeforeValue,
                _ => return Err("an unquoted attribute value".into()),
            },
            Lex::Value(quote) => match b {
                b'<' => return Err("'<' in an attribute value".into()),
                _ if b == quote => Lex::InTag,
                _ => Lex::Value(quote),
            },
            Lex::EmptyTag => {
                if b != b'>' {
                    return Err("'/' inside a start tag".into());
                }
                found = self.close();
                Lex::Text
            }
            Lex::EndTag => {
                if b == b'>' {
                    found = self.close();
                    Lex::Text
                } else {
                    Lex::EndTag
                }
            }
            Lex::Declaration(question) => match b {
                b'>' if question => {
                    found = self.in_top.then_some(Found::TopEnd);
                    Lex::Text
                }
                b'?' => Lex::Declaration(true),
                _ => Lex::Declaration(false),
            },
            Lex::CdataOpen(n) => {
                const OPEN: &[u8] = b"[CDATA[";
                if OPEN[usize::from(n)] != b {
                    return Err(forbidden(b'!'));
                }
                if usize::from(n) + 1 == OPEN.len() {
                    Lex::Cdata(0)
                } else {
                    Lex::CdataOpen(n + 1)
                }
            }
            Lex::Cdata(brackets) => match b {
                b']' => Lex::Cdata((brackets + 1).min(2)),
                b'>' if brackets == 2 => Lex::Text,
                _ => Lex::Cdata(0),
            },
        };
        Ok(found)
    }

    /// A start tag ended with `>`. A stream header where a stanza would
    /// start is the stream restarting (after STARTTLS or SASL, RFC 6120
    /// §4.3.3): it becomes the new root.
    fn opened(&mut self) -> Option<Found> {
        let name = self.name.as_slice();
        let root = name == b"stream" || name.ends_with(b":stream");
        if self.depth == 2 && self.in_top && root {
            self.depth = 1;
            return Some(Found::TopEnd);
        }
        None
    }

    /// An element closed.
    fn close(&mut self) -> Option<Found> {
        self.depth = self.depth.saturating_sub(1);
        (self.depth <= 1 && self.in_top).then_some(Found::TopEnd)
    }

    /// Scans a chunk just read and keeps what may be passed on.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Result<(), String> {
        let mut i = 0;
        // Start of the bytes of `chunk` not yet kept (or thrown away).
        let mut span = 0;
        while i < chunk.len() {
            // Fast paths through text and attribute values.
            let skip_to = match self.lex {
                Lex::Text => Some(b'<'),
                Lex::Value(quote) => Some(quote),
                _ => None,
            };
            if let Some(byte) = skip_to {
                match memchr::memchr2(byte, b'<', &chunk[i..]) {
                    Some(offset) => i += offset,
                    None => break,
                }
            }
            let found = self.step(chunk[i])?;
            i += 1;
            match found {
                None => {}
                Some(Found::TopStart) => {
                    self.keep(&chunk[span..i - 1]);
                    self.ready = self.buf.len();
                    span = i - 1;
                    self.in_top = true;
                }
                Some(Found::TopEnd) => {
                    if self.discarding.take().is_none() {
                        self.keep(&chunk[span..i]);
                    }
                    self.ready = self.buf.len();
                    span = i;
                    self.in_top = false;
                }
                Some(Found::OverLimit(why)) => {
                    self.withdraw(why)?;
                    span = i;
                }
            }
        }
        match &mut self.discarding {
            Some(discarded) => {
                *discarded += chunk.len() - span;
                if *discarded > self.limits.discard_bytes {
                    return Err(format!(
                        "a stanza went on past {} bytes",
                        self.limits.discard_bytes
                    ));
                }
            }
            None => {
                self.keep(&chunk[span..]);
                if !self.in_top {
                    self.ready = self.buf.len();
                } else if self.buf.len() - self.ready > self.limits.stanza_bytes {
                    self.withdraw("too large")?;
                }
            }
        }
        Ok(())
    }

    fn keep(&mut self, bytes: &[u8]) {
        if self.discarding.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Replaces the top-level element being read, which went over a
    /// limit, by an invalid stanza of its kind, and throws away its rest.
    fn withdraw(&mut self, why: &str) -> Result<(), String> {
        if self.discarding.is_some() {
            return Ok(());
        }
        let name = std::str::from_utf8(&self.name).unwrap_or_default();
        let stanza = matches!(name, "message" | "presence" | "iq");
        if !self.in_top || !stanza {
            return Err(format!("the server sent an element {why}"));
        }
        log::warn!("dropped a <{name}/> from the server: {why}");
        self.buf.truncate(self.ready);
        self.buf
            .extend_from_slice(format!("<{name} type='{DROPPED_TYPE}'/>").as_bytes());
        self.ready = self.buf.len();
        self.discarding = Some(0);
        Ok(())
    }
}

fn forbidden(after_lt: u8) -> String {
    match after_lt {
        b'?' => "a processing instruction (not allowed in XMPP)".into(),
        _ => "a comment or DTD (not allowed in XMPP)".into(),
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Bounded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.head < this.ready {
                let n = (this.ready - this.head).min(out.remaining());
                out.put_slice(&this.buf[this.head..this.head + n]);
                this.head += n;
                if this.head == this.buf.len() {
                    this.buf.clear();
                    this.head = 0;
                    this.ready = 0;
                } else if this.head >= CHUNK * 4 {
                    this.buf.drain(..this.head);
                    this.ready -= this.head;
                    this.head = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if let Some(why) = &this.failed {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, why.clone())));
            }
            let mut chunk = [0u8; CHUNK];
            let mut read = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) if read.filled().is_empty() => {
                    // End of stream; an unfinished element is dropped.
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Ok(())) => {
                    if let Err(why) = this.feed(read.filled()) {
                        log::warn!("closing the connection: {why}");
                        this.failed = Some(why);
                    }
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Bounded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests;
