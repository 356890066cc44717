//! Media made in-process: the demo's planned posts and the tests' uploads. A real JPEG (a soft
//! two-colour gradient, so the planner's previews look like pictures) and a minimal MP4 whose
//! movie header gives its length (the simulator, like Meta's fetch, checks type, not frames).

use std::io::Cursor;

/// A `width`×`height` JPEG shading from one colour to another, picked by `seed`.
pub fn jpeg(width: u32, height: u32, seed: u8) -> Vec<u8> {
    const PALETTE: [[u8; 3]; 6] =
        [[236, 197, 148], [120, 170, 190], [214, 122, 110], [150, 190, 140], [196, 170, 214], [240, 214, 120]];
    let from = PALETTE[usize::from(seed) % PALETTE.len()];
    let to = PALETTE[(usize::from(seed) + 2) % PALETTE.len()];
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let t = (x + y) as f32 / (width + height).max(1) as f32;
        let mix = |a: u8, b: u8| (f32::from(a) + (f32::from(b) - f32::from(a)) * t) as u8;
        image::Rgb([mix(from[0], to[0]), mix(from[1], to[1]), mix(from[2], to[2])])
    });
    let mut out = Cursor::new(Vec::new());
    // Encoding an in-memory RGB image to JPEG cannot fail for sizes this small.
    let _ = image.write_to(&mut out, image::ImageFormat::Jpeg);
    out.into_inner()
}

/// A minimal MP4 (`ftyp`, then `moov` with a version-0 `mvhd`) lasting `seconds`.
pub fn mp4(seconds: u32) -> Vec<u8> {
    let mut mvhd = vec![0u8; 100];
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    mvhd[16..20].copy_from_slice(&seconds.saturating_mul(1000).to_be_bytes());
    let boxed = |kind: &[u8; 4], body: &[u8]| {
        let mut out = u32::try_from(body.len() + 8).unwrap_or(u32::MAX).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    };
    let mut file = boxed(b"ftyp", b"isom\0\0\x02\0isomiso2mp41");
    file.extend(boxed(b"free", &[0; 16]));
    file.extend(boxed(b"moov", &boxed(b"mvhd", &mvhd)));
    file
}
