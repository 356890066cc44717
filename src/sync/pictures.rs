//! Post pictures made small: Instagram's addresses expire (graph-api.md §8), so the sync keeps a
//! copy that fits the pages' tables and lists (48 px, twice that for sharp screens).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{ImageReader, Limits};

/// The longer side of a kept picture, in pixels.
pub const SIDE: u32 = 96;
/// Larger downloads are refused: Instagram's full-size pictures are well below this.
pub const MAX_DOWNLOAD: usize = 8_000_000;
const QUALITY: u8 = 80;

/// Decodes a JPEG, PNG or WebP picture and returns it as a JPEG at most [`SIDE`] pixels on its
/// longer side, aspect kept. Limits on size and memory keep a hostile file from exhausting the
/// process; CPU-bound, so it runs off the async threads.
pub fn shrink(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| "the picture could not be read".to_owned())?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(10_000);
    limits.max_image_height = Some(10_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let picture = reader.decode().map_err(|err| format!("the picture is not an image Tidemark reads ({err})"))?;
    let small = picture.thumbnail(SIDE, SIDE).to_rgb8();
    let mut out = Vec::with_capacity(8 * 1024);
    small
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, QUALITY))
        .map_err(|err| format!("the small picture could not be written ({err})"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_portrait_picture_keeps_its_shape_within_the_side() {
        let big = crate::simulator::pictures::picture("17900000000000001").unwrap();
        let small = shrink(&big).unwrap();
        let decoded = image::load_from_memory(&small).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (77, 96), "320 × 400 → 77 × 96");
        assert!(small.len() < 8 * 1024, "{} bytes", small.len());
    }

    #[test]
    fn what_is_not_a_picture_is_refused_with_a_reason() {
        let refused = shrink(b"<html>Bad URL timestamp</html>").unwrap_err();
        assert!(refused.starts_with("the picture is not an image"), "{refused}");
        assert!(shrink(&[]).is_err());
    }
}
