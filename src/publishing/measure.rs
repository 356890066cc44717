//! Reading what a stored file is: its type from its first bytes, an image's dimensions from
//! its header, a video's length from its `mvhd` box. Only headers are read, never the whole
//! file: a Reel may be hundreds of megabytes.
//!
//! The MP4/MOV reader is ours: it walks box headers (ISO/IEC 14496-12 §4.2: a 32-bit size and
//! a four-letter type, size 1 meaning a 64-bit size follows, size 0 meaning "to the end") down to
//! `moov/mvhd`, about forty lines; the MP4 crates parse every box into memory, far more than
//! one number needs.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::rules::{FileType, MediaFacts, sniff};

/// How much of the start of a file is read to sniff it and find a JPEG's dimensions (EXIF
/// blocks before the frame header can be large).
const HEAD_BYTES: usize = 512 * 1024;

/// Measures the file at `path`; `None` when its type is none Instagram takes.
pub fn measure(path: &Path) -> io::Result<Option<MediaFacts>> {
    let mut file = File::open(path)?;
    let bytes = file.metadata()?.len();
    let mut head = Vec::with_capacity(HEAD_BYTES.min(bytes as usize));
    (&mut file).take(HEAD_BYTES as u64).read_to_end(&mut head)?;
    let Some(file_type) = sniff(&head) else {
        return Ok(None);
    };
    let mut facts = MediaFacts { file_type, bytes, width: None, height: None, duration_ms: None };
    match file_type {
        FileType::Jpeg => {
            let reader = image::ImageReader::with_format(io::Cursor::new(&head), image::ImageFormat::Jpeg);
            if let Ok((width, height)) = reader.into_dimensions() {
                facts.width = Some(width);
                facts.height = Some(height);
            }
        }
        FileType::Mp4 | FileType::QuickTime => {
            facts.duration_ms = video_duration_ms(&mut file, bytes)?;
        }
    }
    Ok(Some(facts))
}

/// The movie's length from `moov/mvhd`, or `None` when the boxes do not hold one.
fn video_duration_ms(file: &mut File, len: u64) -> io::Result<Option<u64>> {
    let Some((moov_start, moov_end)) = find_box(file, 0, len, b"moov")? else {
        return Ok(None);
    };
    let Some((mvhd_start, mvhd_end)) = find_box(file, moov_start, moov_end, b"mvhd")? else {
        return Ok(None);
    };
    file.seek(SeekFrom::Start(mvhd_start))?;
    let mut body = vec![0u8; (mvhd_end - mvhd_start).min(32) as usize];
    file.read_exact(&mut body)?;
    // version(1) flags(3), then v0: created(4) modified(4) timescale(4) duration(4);
    // v1: created(8) modified(8) timescale(4) duration(8).
    let be32 = |at: usize| body.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64);
    let be64 = |at: usize| body.get(at..at + 8).map(|b| b.iter().fold(0u64, |n, byte| (n << 8) | u64::from(*byte)));
    let (timescale, duration) = match body.first() {
        Some(0) => (be32(12), be32(16)),
        Some(1) => (be32(20), be64(24)),
        _ => (None, None),
    };
    Ok(match (timescale, duration) {
        (Some(scale), Some(duration)) if scale > 0 => Some(duration.saturating_mul(1000) / scale),
        _ => None,
    })
}

/// The body (start, end) of the first box of type `wanted` between `from` and `to`.
fn find_box(file: &mut File, from: u64, to: u64, wanted: &[u8; 4]) -> io::Result<Option<(u64, u64)>> {
    let mut at = from;
    while at + 8 <= to {
        file.seek(SeekFrom::Start(at))?;
        let mut header = [0u8; 8];
        file.read_exact(&mut header)?;
        let size32 = u64::from(u32::from_be_bytes([header[0], header[1], header[2], header[3]]));
        let (header_len, size) = match size32 {
            0 => (8, to - at),
            1 => {
                let mut large = [0u8; 8];
                file.read_exact(&mut large)?;
                (16, u64::from_be_bytes(large))
            }
            n => (8, n),
        };
        if size < header_len || at + size > to {
            return Ok(None);
        }
        if &header[4..8] == wanted {
            return Ok(Some((at + header_len, at + size)));
        }
        at += size;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_videos_length_and_an_images_size_are_read_from_their_headers() {
        let dir = std::env::temp_dir().join(format!("tidemark-measure-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("clip.mp4");
        std::fs::write(&path, super::super::samples::mp4(42)).unwrap();
        let facts = measure(&path).unwrap().unwrap();
        assert_eq!(facts.file_type, FileType::Mp4);
        assert_eq!(facts.duration_ms, Some(42_000));
        std::fs::write(&path, b"plain text named .mp4").unwrap();
        assert_eq!(measure(&path).unwrap(), None);
        std::fs::write(&path, super::super::samples::jpeg(640, 480, 1)).unwrap();
        let facts = measure(&path).unwrap().unwrap();
        assert_eq!((facts.file_type, facts.width, facts.height), (FileType::Jpeg, Some(640), Some(480)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
