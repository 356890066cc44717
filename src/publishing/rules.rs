//! What Instagram accepts for each kind of post, checked before a file is accepted, so that a
//! wrong file is a form error naming the rule and never a failed publication hours later.
//!
//! The limits are Meta's, from the IG User Media reference ("Image specifications", "Reel
//! specifications", "Story specifications";
//! https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media),
//! as also listed in Ayrshare's media guidelines (https://www.ayrshare.com/docs/media-guidelines/instagram):
//! images JPEG only, at most 8 MiB, aspect ratio between 4:5 and 1.91:1; Reels MOV or MP4, at
//! most 300 MB, 3 seconds to 15 minutes; Story videos at most 100 MB and 60 seconds. Carousel
//! videos are held to the Story bounds (the reference is not explicit; the stricter reading is
//! the one that never fails later).

use crate::domain::PublicationKind;

pub const CAPTION_LIMIT: usize = 2_200;
pub const HASHTAG_LIMIT: usize = 30;
pub const CAROUSEL_MIN: usize = 2;
pub const CAROUSEL_MAX: usize = 10;
/// Longest image description kept (Meta's `alt_text` has no documented limit; this one is ours).
pub const ALT_TEXT_LIMIT: usize = 1_000;

const IMAGE_MAX_BYTES: u64 = 8 * 1024 * 1024;
const REEL_MAX_BYTES: u64 = 300 * 1000 * 1000;
const SHORT_VIDEO_MAX_BYTES: u64 = 100 * 1000 * 1000;
const VIDEO_MIN_MS: u64 = 3_000;
const REEL_MAX_MS: u64 = 15 * 60 * 1_000;
const SHORT_VIDEO_MAX_MS: u64 = 60 * 1_000;
/// 4:5 and 1.91:1, compared as width × 100 against height × these.
const FEED_RATIO_MIN: (u64, u64) = (4, 5);
const FEED_RATIO_MAX: (u64, u64) = (191, 100);

/// What a file turned out to be, from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Jpeg,
    Mp4,
    QuickTime,
}

impl FileType {
    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Jpeg => "image/jpeg",
            FileType::Mp4 => "video/mp4",
            FileType::QuickTime => "video/quicktime",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileType::Jpeg => "jpg",
            FileType::Mp4 => "mp4",
            FileType::QuickTime => "mov",
        }
    }

    pub fn from_content_type(text: &str) -> Option<FileType> {
        [FileType::Jpeg, FileType::Mp4, FileType::QuickTime].into_iter().find(|t| t.content_type() == text)
    }

    pub fn is_video(self) -> bool {
        self != FileType::Jpeg
    }
}

/// A file as measured: its type (sniffed from the bytes, never the name), size, and image
/// dimensions or video duration and dimensions where they could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFacts {
    pub file_type: FileType,
    pub bytes: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
}

/// Why a file or a set of files cannot be published as asked. The text names the rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MediaRefused {
    #[error("{name}: not a JPEG image, MP4 or MOV video (the file's content was checked, not its name)")]
    UnknownType { name: String },
    #[error("{name}: a Reel must be an MP4 or MOV video")]
    ReelNeedsVideo { name: String },
    #[error("{name}: a feed post with one file must be a JPEG image; videos go out as Reels")]
    FeedNeedsImage { name: String },
    #[error("{name}: {size} is over Instagram's limit of {limit} for {what}")]
    TooLarge { name: String, size: String, limit: String, what: &'static str },
    #[error("{name}: the image's size cannot be read; it may be damaged")]
    UnreadableImage { name: String },
    #[error(
        "{name}: the image is {width}×{height} (aspect ratio {ratio:.2}:1); Instagram takes feed images between 4:5 (0.80:1) and 1.91:1"
    )]
    AspectRatio { name: String, width: u32, height: u32, ratio: f64 },
    #[error("{name}: the video's length cannot be read; it may be damaged or not a real MP4/MOV")]
    UnreadableVideo { name: String },
    #[error("{name}: the video lasts {seconds:.1} s; Instagram takes {what} from {min} s to {max} s")]
    Duration { name: String, seconds: f64, what: &'static str, min: u64, max: u64 },
    #[error("a carousel takes {CAROUSEL_MIN} to {CAROUSEL_MAX} files; {count} were given")]
    CarouselSize { count: usize },
    #[error("a {kind} takes one file; {count} were given (several files make a carousel feed post)")]
    OneFileOnly { kind: &'static str, count: usize },
    #[error("add a file to publish")]
    NoFile,
}

impl MediaRefused {
    /// The file the refusal names, when it names one (its message then begins with it).
    pub fn file(&self) -> Option<&str> {
        match self {
            MediaRefused::UnknownType { name }
            | MediaRefused::ReelNeedsVideo { name }
            | MediaRefused::FeedNeedsImage { name }
            | MediaRefused::TooLarge { name, .. }
            | MediaRefused::UnreadableImage { name }
            | MediaRefused::AspectRatio { name, .. }
            | MediaRefused::UnreadableVideo { name }
            | MediaRefused::Duration { name, .. } => Some(name),
            MediaRefused::CarouselSize { .. } | MediaRefused::OneFileOnly { .. } | MediaRefused::NoFile => None,
        }
    }
}

/// Sniffs the type from the first bytes of a file.
pub fn sniff(head: &[u8]) -> Option<FileType> {
    match infer::get(head).map(|t| t.mime_type()) {
        Some("image/jpeg") => Some(FileType::Jpeg),
        Some("video/mp4") => Some(FileType::Mp4),
        Some("video/quicktime") => Some(FileType::QuickTime),
        _ => None,
    }
}

/// Checks every file against the rules for `kind` (and the carousel's count), naming the first
/// rule each file breaks.
pub fn check(kind: PublicationKind, files: &[(String, MediaFacts)]) -> Result<(), MediaRefused> {
    if files.is_empty() {
        return Err(MediaRefused::NoFile);
    }
    let carousel = files.len() > 1;
    match kind {
        PublicationKind::Feed if carousel && !(CAROUSEL_MIN..=CAROUSEL_MAX).contains(&files.len()) => {
            return Err(MediaRefused::CarouselSize { count: files.len() });
        }
        PublicationKind::Reel | PublicationKind::Story if carousel => {
            let kind = if kind == PublicationKind::Reel { "Reel" } else { "Story" };
            return Err(MediaRefused::OneFileOnly { kind, count: files.len() });
        }
        _ => {}
    }
    for (name, facts) in files {
        check_one(kind, carousel, name, facts)?;
    }
    Ok(())
}

fn check_one(kind: PublicationKind, carousel: bool, name: &str, facts: &MediaFacts) -> Result<(), MediaRefused> {
    let name = name.to_owned();
    match (kind, facts.file_type.is_video()) {
        (PublicationKind::Reel, false) => return Err(MediaRefused::ReelNeedsVideo { name }),
        (PublicationKind::Feed, true) if !carousel => return Err(MediaRefused::FeedNeedsImage { name }),
        _ => {}
    }
    if facts.file_type.is_video() {
        let (limit, what, max_ms) = if kind == PublicationKind::Reel {
            (REEL_MAX_BYTES, "a Reel", REEL_MAX_MS)
        } else if kind == PublicationKind::Story {
            (SHORT_VIDEO_MAX_BYTES, "a Story video", SHORT_VIDEO_MAX_MS)
        } else {
            (SHORT_VIDEO_MAX_BYTES, "a carousel video", SHORT_VIDEO_MAX_MS)
        };
        if facts.bytes > limit {
            return Err(MediaRefused::TooLarge { name, size: megabytes(facts.bytes), limit: megabytes(limit), what });
        }
        let ms = facts.duration_ms.ok_or_else(|| MediaRefused::UnreadableVideo { name: name.clone() })?;
        if !(VIDEO_MIN_MS..=max_ms).contains(&ms) {
            return Err(MediaRefused::Duration {
                name,
                seconds: ms as f64 / 1000.0,
                what,
                min: VIDEO_MIN_MS / 1000,
                max: max_ms / 1000,
            });
        }
        return Ok(());
    }
    if facts.bytes > IMAGE_MAX_BYTES {
        return Err(MediaRefused::TooLarge {
            name,
            size: megabytes(facts.bytes),
            limit: "8 MiB".into(),
            what: "an image",
        });
    }
    let (Some(width), Some(height)) = (facts.width, facts.height) else {
        return Err(MediaRefused::UnreadableImage { name });
    };
    if width == 0 || height == 0 {
        return Err(MediaRefused::UnreadableImage { name });
    }
    // Stories are shown full-screen (9:16) and Meta fits any image; feed images must fit the grid.
    if kind == PublicationKind::Feed {
        let (w, h) = (u64::from(width), u64::from(height));
        let too_tall = w * FEED_RATIO_MIN.1 < h * FEED_RATIO_MIN.0;
        let too_wide = w * FEED_RATIO_MAX.1 > h * FEED_RATIO_MAX.0;
        if too_tall || too_wide {
            return Err(MediaRefused::AspectRatio { name, width, height, ratio: f64::from(width) / f64::from(height) });
        }
    }
    Ok(())
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// Hashtags in a caption (`#` followed by letters, digits or `_`), as Instagram counts them.
pub fn hashtag_count(caption: &str) -> usize {
    let mut count = 0;
    let mut chars = caption.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '#' && chars.peek().is_some_and(|n| n.is_alphanumeric() || *n == '_') {
            count += 1;
        }
    }
    count
}

/// Why a text (`what`: "The caption") cannot be kept and published, if it cannot: over
/// `limit` characters, or holding a NUL, which PostgreSQL does not store in text.
pub fn check_text(what: &str, text: &str, limit: usize) -> Result<(), String> {
    let length = text.chars().count();
    if length > limit {
        return Err(format!("{what} has {length} characters; Instagram takes at most {limit}."));
    }
    if text.contains('\0') {
        return Err(format!("{what} holds a NUL character; remove it."));
    }
    Ok(())
}

/// Why a caption cannot be published, if it cannot.
pub fn check_caption(caption: &str) -> Result<(), String> {
    check_text("The caption", caption, CAPTION_LIMIT)?;
    let tags = hashtag_count(caption);
    if tags > HASHTAG_LIMIT {
        return Err(format!("The caption has {tags} hashtags; Instagram takes at most {HASHTAG_LIMIT}."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(width: u32, height: u32) -> MediaFacts {
        MediaFacts {
            file_type: FileType::Jpeg,
            bytes: 200_000,
            width: Some(width),
            height: Some(height),
            duration_ms: None,
        }
    }

    fn video(ms: u64) -> MediaFacts {
        MediaFacts {
            file_type: FileType::Mp4,
            bytes: 2_000_000,
            width: Some(1080),
            height: Some(1920),
            duration_ms: Some(ms),
        }
    }

    fn one(facts: MediaFacts) -> Vec<(String, MediaFacts)> {
        vec![("a.jpg".into(), facts)]
    }

    #[test]
    fn feed_images_must_fit_between_four_fifths_and_one_point_nine_one() {
        assert!(check(PublicationKind::Feed, &one(image(1080, 1080))).is_ok());
        assert!(check(PublicationKind::Feed, &one(image(1080, 1350))).is_ok(), "4:5 exactly");
        assert!(check(PublicationKind::Feed, &one(image(1910, 1000))).is_ok(), "1.91:1 exactly");
        let wide = check(PublicationKind::Feed, &one(image(2000, 500))).unwrap_err();
        assert!(wide.to_string().contains("2000×500") && wide.to_string().contains("1.91:1"), "{wide}");
        assert!(matches!(check(PublicationKind::Feed, &one(image(1080, 1920))), Err(MediaRefused::AspectRatio { .. })));
        assert!(check(PublicationKind::Story, &one(image(1080, 1920))).is_ok(), "stories are 9:16");
    }

    #[test]
    fn videos_are_held_to_the_duration_of_their_kind() {
        assert!(check(PublicationKind::Reel, &one(video(30_000))).is_ok());
        assert!(matches!(check(PublicationKind::Reel, &one(video(2_000))), Err(MediaRefused::Duration { .. })));
        assert!(check(PublicationKind::Reel, &one(video(14 * 60_000))).is_ok());
        assert!(matches!(check(PublicationKind::Story, &one(video(61_000))), Err(MediaRefused::Duration { .. })));
        let unreadable = MediaFacts { duration_ms: None, ..video(0) };
        assert!(matches!(check(PublicationKind::Reel, &one(unreadable)), Err(MediaRefused::UnreadableVideo { .. })));
    }

    #[test]
    fn kinds_take_the_files_they_can_publish() {
        assert!(matches!(
            check(PublicationKind::Reel, &one(image(1080, 1080))),
            Err(MediaRefused::ReelNeedsVideo { .. })
        ));
        assert!(matches!(check(PublicationKind::Feed, &one(video(30_000))), Err(MediaRefused::FeedNeedsImage { .. })));
        let mixed = vec![("a.jpg".into(), image(1080, 1080)), ("b.mp4".into(), video(20_000))];
        assert!(check(PublicationKind::Feed, &mixed).is_ok(), "a carousel mixes images and videos");
        let eleven: Vec<_> = (0..11).map(|i| (format!("{i}.jpg"), image(1080, 1080))).collect();
        assert_eq!(check(PublicationKind::Feed, &eleven), Err(MediaRefused::CarouselSize { count: 11 }));
        assert!(matches!(check(PublicationKind::Story, &mixed), Err(MediaRefused::OneFileOnly { count: 2, .. })));
        assert_eq!(check(PublicationKind::Feed, &[]), Err(MediaRefused::NoFile));
        let big = MediaFacts { bytes: 9 * 1024 * 1024, ..image(1080, 1080) };
        assert!(matches!(check(PublicationKind::Feed, &one(big)), Err(MediaRefused::TooLarge { .. })));
    }

    #[test]
    fn the_type_comes_from_the_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0]), Some(FileType::Jpeg));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom"), Some(FileType::Mp4));
        assert_eq!(sniff(b"\0\0\0\x14ftypqt  \0\0\0\0qt  "), Some(FileType::QuickTime));
        assert_eq!(sniff(b"just some text pretending to be a .jpg"), None);
    }

    #[test]
    fn captions_are_held_to_instagrams_length_and_hashtag_limits() {
        assert!(check_caption(&"é".repeat(2_200)).is_ok(), "characters, not bytes");
        assert!(check_caption(&"a".repeat(2_201)).is_err());
        let tags: String = (0..31).map(|i| format!("#tag{i} ")).collect();
        assert!(check_caption(&tags).unwrap_err().contains("31 hashtags"));
        assert_eq!(hashtag_count("# not a tag, #one and #two_2 but not #"), 2);
        assert!(check_caption("a\0b").unwrap_err().contains("NUL"), "PostgreSQL cannot store it");
    }
}
