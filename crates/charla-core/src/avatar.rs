//! User avatars: PEP avatars (XEP-0084), with vCard-based avatars
//! (XEP-0153) as the fallback. Contacts' images are cached on disk by their
//! SHA-1, checked against the advertised hash before they are kept; our own
//! avatar is scaled and published both ways.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sha1::{Digest, Sha1};
use xmpp_parsers::avatar::{Data, Info, Metadata};
use xmpp_parsers::hashes::Sha1HexAttribute;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::pubsub::event::{Event as PubSubEvent, Payload};
use xmpp_parsers::pubsub::pubsub::{Item, Items, Publish};
use xmpp_parsers::pubsub::{ItemId, NodeName, PubSub};
use xmpp_parsers::vcard::{Binval, Photo, Type, VCard};
use xmpp_parsers::vcard_update::VCardUpdate;

use crate::error::{CoreError, ErrorCode};

pub(crate) mod header;

/// The feature we advertise to receive contacts' avatar metadata (XEP-0163 `+notify`).
pub(crate) const METADATA_NOTIFY: &str = "urn:xmpp:avatar:metadata+notify";
/// Largest image accepted from a contact or published: larger data is refused.
pub const MAX_BYTES: usize = 256 * 1024;
/// Our own avatar is scaled to fit in a square of this many pixels.
pub const MAX_SIDE: u32 = 192;
/// Largest file accepted as our own avatar, before scaling.
const MAX_SOURCE_BYTES: u64 = 16 * 1024 * 1024;
/// Largest source image side decoded (more is refused, not decoded).
const MAX_SOURCE_SIDE: u32 = 8192;

/// What a contact says about their avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Advert {
    /// The avatar with this SHA-1 (lowercase hex); `bytes` if announced.
    Hash { hash: String, bytes: Option<u32> },
    /// They have no avatar.
    None,
}

/// The lowercase hex SHA-1 of `data`.
pub fn sha1_hex(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `hash` looks like a SHA-1 in lowercase hex (the cache's file names).
pub fn is_hash(hash: &str) -> bool {
    hash.len() == 40 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The image type of `data` from its first bytes: only images a webview
/// shows are kept.
pub fn image_type(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() > 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// A PEP avatar metadata event (XEP-0084 §4.2), with its publisher as the
/// bare `from`. `None` if `msg` is not one, or comes from a full JID (PEP
/// events come from the publisher's bare JID; the caller still checks that
/// the publisher is a contact or ourselves).
pub(crate) fn metadata_event(msg: &Message) -> Option<(BareJid, Advert)> {
    let el = msg
        .payloads
        .iter()
        .find(|p| p.is("event", ns::PUBSUB_EVENT))?;
    let event = PubSubEvent::try_from(el.clone()).ok()?;
    let Payload::Items {
        node, published, ..
    } = event.payload
    else {
        return None;
    };
    if node.0 != ns::AVATAR_METADATA {
        return None;
    }
    let from = msg.from.as_ref()?;
    if from.resource().is_some() {
        return None;
    }
    let from = from.to_bare();
    let payload = published.last()?.payload.clone()?;
    // xmpp-parsers 0.23 slices a hex id by bytes and panics on a multi-byte
    // character in it (found by fuzzing): only ASCII ids reach it.
    let ascii_ids = payload
        .children()
        .filter_map(|info| info.attr("id"))
        .all(|id| id.is_ascii());
    if !ascii_ids {
        return None;
    }
    let metadata = Metadata::try_from(payload).ok()?;
    Some((from, advert_of(&metadata)))
}

/// Whether `msg` carries a PubSub event (it is never a chat message).
pub(crate) fn is_event(msg: &Message) -> bool {
    msg.payloads.iter().any(|p| p.is("event", ns::PUBSUB_EVENT))
}

fn advert_of(metadata: &Metadata) -> Advert {
    // The PNG, which every client must publish, else the first.
    let info = metadata
        .infos
        .iter()
        .find(|i| i.type_ == "image/png")
        .or_else(|| metadata.infos.first());
    match info {
        Some(info) => Advert::Hash {
            hash: info.id.to_hex(),
            bytes: Some(info.bytes),
        },
        None => Advert::None,
    }
}

/// The XEP-0153 photo hash in a presence: `None` if it has none or the
/// sender is "not ready" (no `<photo/>`), else what it advertises.
pub(crate) fn vcard_update(p: &Presence) -> Option<Advert> {
    let el = p.payloads.iter().find(|e| e.is("x", ns::VCARD_UPDATE))?;
    // xso 0.4's hex codec slices by bytes and panics on a multi-byte
    // character: only an ASCII photo hash reaches it.
    if !el.children().all(|photo| photo.text().is_ascii()) {
        return None;
    }
    let update = VCardUpdate::try_from(el.clone()).ok()?;
    Some(match update.photo?.data {
        Some(hash) => Advert::Hash {
            hash: hash.iter().map(|b| format!("{b:02x}")).collect(),
            bytes: None,
        },
        None => Advert::None,
    })
}

/// Our XEP-0153 presence element: the hash of our avatar, empty if we have
/// none, or `<x/>` alone while we do not know (never claim "no avatar" then).
pub(crate) fn own_update(own: Option<Option<&str>>) -> Element {
    let photo = own.map(|hash| xmpp_parsers::vcard_update::Photo {
        data: hash.and_then(hex20),
    });
    VCardUpdate { photo }.into()
}

fn hex20(hex: &str) -> Option<[u8; 20]> {
    if !is_hash(hex) {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The IQ that asks `from`'s PEP for the avatar data item `hash`.
pub(crate) fn data_request(id: String, from: &BareJid, hash: &str) -> Iq {
    let mut items = Items::new(ns::AVATAR_DATA);
    items.items.push(Item {
        id: Some(ItemId(hash.to_owned())),
        publisher: None,
        payload: None,
    });
    Iq::from_get(id, PubSub::Items(items)).with_to(Jid::from(from.clone()))
}

/// The IQ that asks `from` for their vcard-temp (XEP-0054).
pub(crate) fn vcard_request(id: String, from: &BareJid) -> Iq {
    Iq::from_get(id, xmpp_parsers::vcard::VCardQuery).with_to(Jid::from(from.clone()))
}

/// The image in a PEP data answer, if it is an image no larger than
/// [`MAX_BYTES`] whose SHA-1 is `hash`.
pub(crate) fn parse_data(payload: Option<Element>, hash: &str) -> Option<Vec<u8>> {
    let PubSub::Items(items) = crate::pubsub::parse(payload?)? else {
        return None;
    };
    let item = items
        .items
        .into_iter()
        .find(|i| i.id.as_ref().is_some_and(|id| id.0 == hash))?;
    let data = Data::try_from(item.payload?).ok()?;
    verified(data.data, hash)
}

/// The photo in a vcard-temp answer, under the same conditions.
pub(crate) fn parse_vcard_photo(payload: Option<Element>, hash: &str) -> Option<Vec<u8>> {
    let vcard = VCard::try_from(payload?).ok()?;
    verified(vcard.photo?.binval.data, hash)
}

/// Contacts' avatar data: at most [`MAX_BYTES`], an image whose header
/// stays within [`header::MAX_DIMENSION`] and [`header::MAX_FRAMES`], and
/// whose SHA-1 is the advertised `hash`.
fn verified(data: Vec<u8>, hash: &str) -> Option<Vec<u8>> {
    (data.len() <= MAX_BYTES
        && image_type(&data).is_some()
        && header::acceptable(&data)
        && sha1_hex(&data) == hash)
        .then_some(data)
}

/// Our avatar, ready to publish: a PNG of at most [`MAX_SIDE`] pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnAvatar {
    /// The PNG.
    pub png: Vec<u8>,
    /// Its SHA-1, lowercase hex.
    pub hash: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Reads an image file (PNG or JPEG), scales it to fit [`MAX_SIDE`] and
/// encodes it as PNG. Bad or huge input is an `InvalidInput` error.
pub fn from_file(path: &Path) -> Result<OwnAvatar, CoreError> {
    let bad = |why: String| CoreError::new(ErrorCode::InvalidInput, why);
    let size = std::fs::metadata(path)
        .map_err(|e| bad(format!("cannot read the image: {e}")))?
        .len();
    if size > MAX_SOURCE_BYTES {
        return Err(bad("the image file is too large".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read the image: {e}")))?;
    scale(&bytes)
}

/// Decodes `bytes` (PNG or JPEG), scales the image to fit [`MAX_SIDE`]
/// keeping its proportions (never enlarging), and encodes it as PNG.
pub fn scale(bytes: &[u8]) -> Result<OwnAvatar, CoreError> {
    let bad = |why: String| CoreError::new(ErrorCode::InvalidInput, why);
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| bad(format!("unreadable image: {e}")))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SOURCE_SIDE);
    limits.max_image_height = Some(MAX_SOURCE_SIDE);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| bad(format!("not a PNG or JPEG image: {e}")))?;
    let img = if img.width() > MAX_SIDE || img.height() > MAX_SIDE {
        img.resize(MAX_SIDE, MAX_SIDE, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| CoreError::new(ErrorCode::InvalidInput, format!("cannot encode: {e}")))?;
    if png.len() > MAX_BYTES {
        return Err(bad("the scaled image is still too large".into()));
    }
    Ok(OwnAvatar {
        hash: sha1_hex(&png),
        png,
        width: img.width(),
        height: img.height(),
    })
}

/// The PubSub publish of our avatar's data (XEP-0084 §4.1), done first.
pub(crate) fn publish_data(avatar: &OwnAvatar) -> PubSub {
    publish(
        ns::AVATAR_DATA,
        &avatar.hash,
        Data {
            data: avatar.png.clone(),
        }
        .into(),
    )
}

/// The PubSub publish of our avatar's metadata (XEP-0084 §4.2), which
/// tells contacts; `None` disables the avatar (an empty `<metadata/>`).
pub(crate) fn publish_metadata(avatar: Option<&OwnAvatar>) -> PubSub {
    let (id, infos) = match avatar {
        Some(a) => (
            a.hash.clone(),
            vec![Info {
                bytes: u32::try_from(a.png.len()).unwrap_or(u32::MAX),
                width: u16::try_from(a.width).ok(),
                height: u16::try_from(a.height).ok(),
                id: Sha1HexAttribute::from_str(&a.hash).expect("our own hash is hex"),
                type_: "image/png".into(),
                url: None,
            }],
        ),
        None => ("current".to_owned(), vec![]),
    };
    publish(ns::AVATAR_METADATA, &id, Metadata { infos }.into())
}

pub(crate) fn publish(node: &str, id: &str, payload: Element) -> PubSub {
    PubSub::Publish {
        publish: Publish {
            node: NodeName(node.to_owned()),
            items: vec![Item {
                id: Some(ItemId(id.to_owned())),
                publisher: None,
                payload: Some(payload),
            }],
        },
        publish_options: None,
    }
}

/// Replaces the PHOTO of a vcard-temp (XEP-0153 §3.1), keeping the rest.
pub(crate) fn with_photo(mut vcard: VCard, avatar: Option<&OwnAvatar>) -> VCard {
    vcard.photo = avatar.map(|a| Photo {
        type_: Type {
            data: "image/png".into(),
        },
        binval: Binval {
            data: a.png.clone(),
        },
    });
    vcard
}

/// The avatar images on disk, named by their SHA-1, in a directory beside
/// the database. Without a directory nothing is cached and nothing fetched.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: Option<PathBuf>,
}

impl Cache {
    pub(crate) fn new(dir: Option<PathBuf>) -> Cache {
        Cache { dir }
    }

    /// Whether images can be cached at all.
    pub(crate) fn enabled(&self) -> bool {
        self.dir.is_some()
    }

    /// The file of `hash`, if it is cached.
    pub(crate) fn path(&self, hash: &str) -> Option<PathBuf> {
        if !is_hash(hash) {
            return None;
        }
        let path = self.dir.as_ref()?.join(hash);
        path.is_file().then_some(path)
    }

    /// Stores `data` as `hash` (already verified), atomically: a reader
    /// never sees half a file.
    pub(crate) fn put(&self, hash: &str, data: &[u8]) -> Result<(), CoreError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        if !is_hash(hash) {
            return Err(CoreError::new(ErrorCode::InvalidInput, "not a SHA-1"));
        }
        let failed = |e: std::io::Error| {
            CoreError::new(ErrorCode::Store, format!("cannot cache the avatar: {e}"))
        };
        charla_store::profile::create_private_dir(dir).map_err(failed)?;
        let mut tmp = tempfile_in(dir).map_err(failed)?;
        tmp.1.write_all(data).map_err(failed)?;
        tmp.1.sync_all().map_err(failed)?;
        std::fs::rename(&tmp.0, dir.join(hash)).map_err(failed)?;
        evict(dir, CACHE_BYTES, hash);
        Ok(())
    }

    /// The cached image of `hash` with its type.
    pub(crate) fn read(&self, hash: &str) -> Option<(&'static str, Vec<u8>)> {
        let data = std::fs::read(self.path(hash)?).ok()?;
        Some((image_type(&data)?, data))
    }
}

/// Most bytes the avatar cache keeps: about a thousand avatars at their
/// largest, far more at their usual size.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Removes the least recently written images until the cache holds at most
/// `cap` bytes, never `keep` (the one just written). An evicted avatar
/// shows as initials until its contact publishes one again.
fn evict(dir: &Path, cap: u64, keep: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            let name = e.file_name();
            let evictable = meta.is_file() && name.to_str().is_some_and(is_hash) && name != keep;
            evictable.then_some((meta.modified().ok()?, meta.len(), e.path()))
        })
        .collect();
    let kept = std::fs::metadata(dir.join(keep)).map_or(0, |m| m.len());
    let mut total: u64 = kept + files.iter().map(|(_, len, _)| len).sum::<u64>();
    files.sort();
    for (_, len, path) in files {
        if total <= cap {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let path = dir.join(format!(".{}.part", uuid::Uuid::new_v4()));
    let file = charla_store::profile::create_private_file(&path)?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(width, height, image::Rgba([200, 30, 30, 255]));
        let mut out = Vec::new();
        image::DynamicImage::ImageRgba8(img)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("encode");
        out
    }

    #[test]
    fn a_wide_image_is_scaled_to_192_keeping_its_proportions() {
        let a = scale(&png(1000, 500)).expect("scale");
        assert_eq!((a.width, a.height), (192, 96));
        assert_eq!(image_type(&a.png), Some("image/png"));
        assert_eq!(a.hash, sha1_hex(&a.png));
        let small = scale(&png(50, 40)).expect("small");
        assert_eq!((small.width, small.height), (50, 40));
    }

    #[test]
    fn jpeg_is_read_and_garbage_refused() {
        let img = image::RgbImage::from_pixel(300, 600, image::Rgb([0, 90, 200]));
        let mut jpeg = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(
                &mut std::io::Cursor::new(&mut jpeg),
                image::ImageFormat::Jpeg,
            )
            .expect("encode");
        let a = scale(&jpeg).expect("jpeg");
        assert_eq!((a.width, a.height), (96, 192));
        let err = scale(b"not an image").expect_err("garbage");
        assert_eq!(err.code, ErrorCode::InvalidInput);
    }

    #[test]
    fn data_is_kept_only_if_its_hash_matches() {
        let data = png(4, 4);
        let hash = sha1_hex(&data);
        assert_eq!(verified(data.clone(), &hash), Some(data.clone()));
        assert_eq!(verified(data.clone(), &"0".repeat(40)), None);
        let text = b"hello".to_vec();
        assert_eq!(
            verified(text.clone(), &sha1_hex(&text)),
            None,
            "not an image"
        );
        let huge = [b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0; MAX_BYTES]].concat();
        assert_eq!(verified(huge.clone(), &sha1_hex(&huge)), None, "too large");
    }

    #[test]
    fn metadata_events_only_from_a_bare_jid() {
        let xml = |from: &str| {
            format!(
                "<message xmlns='jabber:client' from='{from}' to='bob@x'>\
                 <event xmlns='http://jabber.org/protocol/pubsub#event'>\
                 <items node='urn:xmpp:avatar:metadata'><item id='{h}'>\
                 <metadata xmlns='urn:xmpp:avatar:metadata'>\
                 <info bytes='12' id='{h}' type='image/png'/></metadata>\
                 </item></items></event></message>",
                h = "ab".repeat(20)
            )
        };
        let msg = |from: &str| {
            Message::try_from(xml(from).parse::<Element>().expect("xml")).expect("message")
        };
        let (from, advert) = metadata_event(&msg("alice@x")).expect("event");
        assert_eq!(from.as_str(), "alice@x");
        assert_eq!(
            advert,
            Advert::Hash {
                hash: "ab".repeat(20),
                bytes: Some(12)
            }
        );
        assert_eq!(metadata_event(&msg("alice@x/phone")), None);
        let empty: Element = "<message xmlns='jabber:client' from='alice@x'>\
             <event xmlns='http://jabber.org/protocol/pubsub#event'>\
             <items node='urn:xmpp:avatar:metadata'><item id='current'>\
             <metadata xmlns='urn:xmpp:avatar:metadata'/></item></items></event></message>"
            .parse()
            .expect("xml");
        let empty = Message::try_from(empty).expect("message");
        assert_eq!(metadata_event(&empty).map(|e| e.1), Some(Advert::None));
    }

    /// Two panics in the parsers below us, found by fuzzing: a hex hash with
    /// a multi-byte character is sliced inside the character. A stranger
    /// could end a session with one presence or one forged PEP event.
    #[test]
    fn hashes_with_multibyte_characters_are_refused_not_a_panic() {
        let photo = format!("{}\u{202e}{}", "1".repeat(17), "2".repeat(20));
        assert_eq!(photo.len(), 40);
        let xml = format!(
            "<presence xmlns='jabber:client' from='eve@evil.test/x'>\
             <x xmlns='vcard-temp:x:update'><photo>{photo}</photo></x></presence>"
        );
        let p = Presence::try_from(xml.parse::<Element>().expect("xml")).expect("presence");
        assert_eq!(vcard_update(&p), None);
        let xml = format!(
            "<message xmlns='jabber:client' from='eve@evil.test' type='headline'>\
             <event xmlns='http://jabber.org/protocol/pubsub#event'>\
             <items node='urn:xmpp:avatar:metadata'><item id='x'>\
             <metadata xmlns='urn:xmpp:avatar:metadata'>\
             <info bytes='1' id='{photo}' type='image/png'/></metadata></item></items></event></message>"
        );
        let m = Message::try_from(xml.parse::<Element>().expect("xml")).expect("message");
        assert_eq!(metadata_event(&m), None);
    }

    #[test]
    fn vcard_update_hashes_and_our_own_element() {
        let hash = "01b87fcd030b72895ff8e88db57ec525450f000d";
        let el = own_update(Some(Some(hash)));
        let mut p = Presence::available();
        p.payloads.push(el);
        assert_eq!(
            vcard_update(&p),
            Some(Advert::Hash {
                hash: hash.into(),
                bytes: None
            })
        );
        let mut none = Presence::available();
        none.payloads.push(own_update(Some(None)));
        assert_eq!(vcard_update(&none), Some(Advert::None));
        let mut unknown = Presence::available();
        unknown.payloads.push(own_update(None));
        assert_eq!(vcard_update(&unknown), None, "not ready says nothing");
    }

    #[test]
    fn the_cache_names_files_by_hash_only() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = Cache::new(Some(dir.path().join("avatars")));
        let data = png(2, 2);
        let hash = sha1_hex(&data);
        assert!(cache.path(&hash).is_none());
        cache.put(&hash, &data).expect("put");
        assert_eq!(cache.read(&hash), Some(("image/png", data)));
        assert!(cache.path("../../etc/passwd").is_none());
        assert!(cache.put("../x", b"x").is_err());
    }

    #[test]
    fn the_cache_evicts_the_oldest_images_beyond_its_cap_and_is_private() {
        let dir = tempfile::tempdir().expect("dir");
        let avatars = dir.path().join("avatars");
        let cache = Cache::new(Some(avatars.clone()));
        let images: Vec<Vec<u8>> = (1..=4).map(|side| png(side * 8, 8)).collect();
        let hashes: Vec<String> = images.iter().map(|d| sha1_hex(d)).collect();
        let epoch = std::time::SystemTime::UNIX_EPOCH;
        for (age, (hash, data)) in hashes.iter().zip(&images).enumerate() {
            cache.put(hash, data).expect("put");
            // Distinct modification times, oldest first.
            let when = epoch + std::time::Duration::from_secs(1_000 + age as u64);
            std::fs::File::options()
                .write(true)
                .open(avatars.join(hash))
                .and_then(|f| f.set_modified(when))
                .expect("mtime");
        }
        let size = |d: &Vec<u8>| d.len() as u64;
        // Room for the two newest only: the two oldest go.
        evict(&avatars, size(&images[2]) + size(&images[3]), &hashes[3]);
        let cached: Vec<bool> = hashes.iter().map(|h| cache.path(h).is_some()).collect();
        assert_eq!(cached, [false, false, true, true]);
        // Never the one just written, even over the cap.
        evict(&avatars, 0, &hashes[3]);
        assert!(cache.path(&hashes[3]).is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&avatars), 0o700);
            assert_eq!(mode(&avatars.join(&hashes[3])), 0o600);
        }
    }
}
