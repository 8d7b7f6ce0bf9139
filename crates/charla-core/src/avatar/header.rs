//! The size of a contact's avatar, read from the image's header in Rust
//! before any decoder (WebKit's, the notification daemon's) sees it: an
//! image that would decode to a huge canvas or to thousands of frames
//! (a decompression bomb in 256 KiB) is refused.

/// Largest width or height accepted.
pub const MAX_DIMENSION: u32 = 4096;
/// Most frames accepted in an animated avatar.
pub const MAX_FRAMES: u32 = 64;

/// Width, height and frame count of a PNG, JPEG, GIF or WebP image, as its
/// header says; `None` if it cannot be read.
pub fn read(data: &[u8]) -> Option<(u32, u32, u32)> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(data)
    } else if data.starts_with(&[0xff, 0xd8]) {
        jpeg(data)
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        gif(data)
    } else if data.len() > 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        webp(data)
    } else {
        None
    }
}

/// Whether the image is within [`MAX_DIMENSION`] and [`MAX_FRAMES`].
pub fn acceptable(data: &[u8]) -> bool {
    read(data).is_some_and(|(w, h, frames)| {
        (1..=MAX_DIMENSION).contains(&w)
            && (1..=MAX_DIMENSION).contains(&h)
            && (1..=MAX_FRAMES).contains(&frames)
    })
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn be16(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes(
        d.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn le16(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes(
        d.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn le24(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at + 3)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}

/// IHDR, then an `acTL` chunk (APNG) before the image data gives the frames.
fn png(d: &[u8]) -> Option<(u32, u32, u32)> {
    if d.get(12..16)? != b"IHDR" {
        return None;
    }
    let (w, h) = (be32(d, 16)?, be32(d, 20)?);
    let mut at = 8;
    let mut frames = 1;
    while let (Some(len), Some(kind)) = (be32(d, at), d.get(at + 4..at + 8)) {
        match kind {
            b"acTL" => frames = be32(d, at + 8)?,
            b"IDAT" | b"IEND" => break,
            _ => {}
        }
        at = at
            .checked_add(12)?
            .checked_add(usize::try_from(len).ok()?)?;
    }
    Some((w, h, frames))
}

/// The first start-of-frame marker (SOF0 to SOF15 but DHT, JPG and DAC).
fn jpeg(d: &[u8]) -> Option<(u32, u32, u32)> {
    let mut at = 2;
    loop {
        if *d.get(at)? != 0xff {
            return None;
        }
        let marker = *d.get(at + 1)?;
        if marker == 0xff {
            at += 1;
            continue;
        }
        let len = usize::try_from(be16(d, at + 2)?).ok()?;
        if (0xc0..=0xcf).contains(&marker) && ![0xc4, 0xc8, 0xcc].contains(&marker) {
            return Some((be16(d, at + 7)?, be16(d, at + 5)?, 1));
        }
        at = at.checked_add(2 + len)?;
    }
}

/// The logical screen, and one frame per image descriptor.
fn gif(d: &[u8]) -> Option<(u32, u32, u32)> {
    let (w, h) = (le16(d, 6)?, le16(d, 8)?);
    let flags = *d.get(10)?;
    let mut at = 13;
    if flags & 0x80 != 0 {
        at += 3 << ((flags & 7) + 1);
    }
    let mut frames = 0u32;
    // Skips a run of sub-blocks, returning the index after its terminator.
    let skip_blocks = |mut at: usize| -> Option<usize> {
        loop {
            let n = usize::from(*d.get(at)?);
            at += 1 + n;
            if n == 0 {
                return Some(at);
            }
        }
    };
    loop {
        match *d.get(at)? {
            0x3b => return Some((w, h, frames.max(1))),
            0x21 => at = skip_blocks(at + 2)?,
            0x2c => {
                frames += 1;
                if frames > MAX_FRAMES {
                    return Some((w, h, frames));
                }
                let local = *d.get(at + 9)?;
                at += 10;
                if local & 0x80 != 0 {
                    at += 3 << ((local & 7) + 1);
                }
                at = skip_blocks(at + 1)?;
            }
            _ => return None,
        }
    }
}

/// VP8, VP8L or VP8X (with one frame per `ANMF` chunk).
fn webp(d: &[u8]) -> Option<(u32, u32, u32)> {
    let mut at = 12;
    let mut size = None;
    let mut frames = 0u32;
    while let Some(kind) = d.get(at..at + 4) {
        let len =
            usize::try_from(u32::from_le_bytes(d.get(at + 4..at + 8)?.try_into().ok()?)).ok()?;
        let body = at + 8;
        match kind {
            b"VP8X" => size = Some((le24(d, body + 4)? + 1, le24(d, body + 7)? + 1)),
            b"VP8 " if size.is_none() => {
                size = Some((le16(d, body + 6)? & 0x3fff, le16(d, body + 8)? & 0x3fff))
            }
            b"VP8L" if size.is_none() => {
                let b = u32::from_le_bytes(d.get(body + 1..body + 5)?.try_into().ok()?);
                size = Some(((b & 0x3fff) + 1, ((b >> 14) & 0x3fff) + 1));
            }
            b"ANMF" => frames += 1,
            _ => {}
        }
        at = body.checked_add(len)?.checked_add(len % 2)?;
    }
    let (w, h) = size?;
    Some((w, h, frames.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(width, height, image::Rgba([1, 2, 3, 255]));
        let mut out = Vec::new();
        image::DynamicImage::ImageRgba8(img)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("png");
        out
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(width, height, image::Rgb([1, 2, 3]));
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(
                &mut std::io::Cursor::new(&mut out),
                image::ImageFormat::Jpeg,
            )
            .expect("jpeg");
        out
    }

    /// A PNG header claiming `w` × `h`, as a hostile contact would send it.
    fn forged_png(w: u32, h: u32, frames: Option<u32>) -> Vec<u8> {
        let mut d = b"\x89PNG\r\n\x1a\n".to_vec();
        d.extend(13u32.to_be_bytes());
        d.extend(b"IHDR");
        d.extend(w.to_be_bytes());
        d.extend(h.to_be_bytes());
        d.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        if let Some(n) = frames {
            d.extend(8u32.to_be_bytes());
            d.extend(b"acTL");
            d.extend(n.to_be_bytes());
            d.extend(0u32.to_be_bytes());
            d.extend([0; 4]);
        }
        d.extend(0u32.to_be_bytes());
        d.extend(b"IDAT");
        d
    }

    #[test]
    fn reads_real_png_and_jpeg_sizes() {
        assert_eq!(read(&png(3, 5)), Some((3, 5, 1)));
        assert_eq!(read(&jpeg(17, 9)), Some((17, 9, 1)));
        assert!(acceptable(&png(64, 64)));
    }

    #[test]
    fn refuses_huge_canvases_and_too_many_frames() {
        assert!(acceptable(&forged_png(4096, 4096, None)));
        assert!(!acceptable(&forged_png(4097, 10, None)));
        assert!(!acceptable(&forged_png(10, 100_000, None)));
        assert!(!acceptable(&forged_png(0, 10, None)));
        assert_eq!(read(&forged_png(10, 10, Some(5))), Some((10, 10, 5)));
        assert!(!acceptable(&forged_png(10, 10, Some(10_000))));
    }

    #[test]
    fn reads_gif_and_webp_headers() {
        // GIF89a 2x3, no colour table, two 1x1 frames.
        let mut gif = b"GIF89a".to_vec();
        gif.extend([2, 0, 3, 0, 0, 0, 0]);
        for _ in 0..2 {
            gif.extend([0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 1, 0, 0]);
        }
        gif.push(0x3b);
        assert_eq!(read(&gif), Some((2, 3, 2)));
        // VP8X canvas 5000 x 20.
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X".to_vec();
        webp.extend(10u32.to_le_bytes());
        webp.extend([0, 0, 0, 0]);
        webp.extend(&(4999u32.to_le_bytes()[..3]));
        webp.extend(&(19u32.to_le_bytes()[..3]));
        assert_eq!(read(&webp), Some((5000, 20, 1)));
        assert!(!acceptable(&webp));
    }

    #[test]
    fn truncated_or_garbage_headers_are_refused_without_panic() {
        let samples = [png(4, 4), jpeg(4, 4), forged_png(9, 9, Some(3))];
        for sample in &samples {
            for cut in 0..sample.len().min(400) {
                let _ = read(&sample[..cut]);
            }
        }
        let mut rng = fastrand::Rng::with_seed(14);
        for _ in 0..20_000 {
            let mut d = samples[rng.usize(..samples.len())].clone();
            for _ in 0..rng.usize(1..8) {
                let i = rng.usize(..d.len());
                d[i] = rng.u8(..);
            }
            let _ = acceptable(&d);
        }
        assert!(!acceptable(b"GIF89a"));
        assert!(!acceptable(b"\xff\xd8\xff"));
    }
}
