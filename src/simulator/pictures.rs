//! The simulator's picture host, standing in for Instagram's CDN: `media_url` and
//! `thumbnail_url` point here (addresses that expire at Meta, §8, so Tidemark keeps a copy).
//! Each media's picture is made from its id, the same every time: a gradient in a colour of
//! its own, so thumbnails in screenshots and tests are told apart.

use std::io::Cursor;

use actix_web::HttpResponse;
use image::{ImageFormat, Rgb, RgbImage};

use super::SimState;

/// Pictures are portrait, as many Instagram posts are, so resizing keeps an aspect ratio.
const WIDTH: u32 = 320;
const HEIGHT: u32 = 400;

/// Answers `/cdn/{id}.jpg`.
pub(super) fn serve(name: &str, state: &SimState) -> HttpResponse {
    let Some(id) = name.strip_suffix(".jpg").filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    else {
        return HttpResponse::NotFound().finish();
    };
    if state.lock().faults.broken_pictures {
        // What a CDN error page looks like to an image decoder.
        return HttpResponse::Ok().content_type("image/jpeg").body("<html>Bad URL timestamp</html>");
    }
    match picture(id) {
        Some(bytes) => HttpResponse::Ok().content_type("image/jpeg").body(bytes),
        None => HttpResponse::InternalServerError().finish(),
    }
}

/// The picture of a media id, as JPEG.
pub fn picture(id: &str) -> Option<Vec<u8>> {
    let seed = id.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let base = [(seed % 200) as u8 + 30, (seed / 200 % 200) as u8 + 30, (seed / 40_000 % 200) as u8 + 30];
    let image = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let shade = ((x + y) * 90 / (WIDTH + HEIGHT)) as u8;
        let band = if (x + 2 * y) / 60 % 4 == 0 { 40 } else { 0 };
        Rgb(base.map(|c| c.saturating_add(shade).saturating_sub(band)))
    });
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Jpeg).ok()?;
    Some(out.into_inner())
}

/// Where a media's picture is, on the simulator at `origin`.
pub fn url(origin: &str, id: &str) -> String {
    format!("{origin}/cdn/{id}.jpg")
}
