//! The simulated accounts, their media and tokens, generated deterministically from a seed,
//! and metrics that grow with a post's age along believable curves.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::voices::{self, Voice};
use crate::domain::Flavour;

/// What kind of content an account posts, as relative weights.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    pub image: u32,
    pub carousel: u32,
    pub video: u32,
    pub reels: u32,
}

#[derive(Debug, Clone)]
pub struct AccountSpec {
    pub username: String,
    pub name: String,
    pub flavour: Flavour,
    pub followers: i64,
    /// Media posted over the last `days` days.
    pub media: usize,
    pub days: i64,
    pub mix: Mix,
    /// Live stories (posted within the last day).
    pub stories: usize,
    /// Its captions and comments.
    pub voice: &'static Voice,
}

impl AccountSpec {
    /// Three accounts of different sizes and mixes: the demo's and the tests' default.
    pub fn standard_set() -> Vec<AccountSpec> {
        vec![
            AccountSpec {
                username: "harbour.bakery".into(),
                name: "Harbour Bakery".into(),
                flavour: Flavour::Instagram,
                followers: 12_400,
                media: 120,
                days: 180,
                mix: Mix { image: 6, carousel: 3, video: 1, reels: 2 },
                stories: 3,
                voice: &voices::FIXTURES,
            },
            AccountSpec {
                username: "tidal.studio".into(),
                name: "Tidal Studio".into(),
                flavour: Flavour::Facebook,
                followers: 86_000,
                media: 150,
                days: 120,
                mix: Mix { image: 1, carousel: 1, video: 1, reels: 7 },
                stories: 4,
                voice: &voices::FIXTURES,
            },
            AccountSpec {
                username: "quiet.cove".into(),
                name: "Quiet Cove".into(),
                flavour: Flavour::Instagram,
                followers: 480,
                media: 25,
                days: 200,
                mix: Mix { image: 5, carousel: 2, video: 1, reels: 1 },
                stories: 2,
                voice: &voices::FIXTURES,
            },
        ]
    }

    /// Professional accounts nobody connected, that Business Discovery answers for: what
    /// operators track as competitors (a bakery, a studio and a guesthouse of their own).
    pub fn public_set() -> Vec<AccountSpec> {
        vec![
            AccountSpec {
                username: "north.loaf".into(),
                name: "North Loaf".into(),
                flavour: Flavour::Facebook,
                followers: 9_800,
                media: 140,
                days: 180,
                mix: Mix { image: 5, carousel: 2, video: 1, reels: 4 },
                stories: 0,
                voice: &voices::BAKERY,
            },
            AccountSpec {
                username: "lumen.movement".into(),
                name: "Lumen Movement".into(),
                flavour: Flavour::Facebook,
                followers: 41_500,
                media: 90,
                days: 120,
                mix: Mix { image: 2, carousel: 1, video: 1, reels: 6 },
                stories: 0,
                voice: &voices::STUDIO,
            },
            AccountSpec {
                username: "saltmarsh.rooms".into(),
                name: "Saltmarsh Rooms".into(),
                flavour: Flavour::Facebook,
                followers: 2_300,
                media: 40,
                days: 200,
                mix: Mix { image: 6, carousel: 3, video: 0, reels: 1 },
                stories: 0,
                voice: &voices::COVE,
            },
        ]
    }

    /// The demo's three businesses: the standard set with captions and comments of their own
    /// (a bakery, a dance and yoga studio, a guesthouse) rather than the tests' fixtures.
    pub fn demo_set() -> Vec<AccountSpec> {
        let mut set = AccountSpec::standard_set();
        for (spec, voice) in set.iter_mut().zip([&voices::BAKERY, &voices::STUDIO, &voices::COVE]) {
            spec.voice = voice;
        }
        set
    }
}

#[derive(Debug, Clone)]
pub struct SimAccount {
    pub spec: AccountSpec,
    pub ig_user_id: String,
    /// Instagram Login's app-scoped id for the same account.
    pub app_scoped_id: String,
    pub page_id: String,
    pub follows: i64,
    pub media: Vec<SimMedia>,
}

#[derive(Debug, Clone)]
pub struct SimMedia {
    pub id: String,
    pub media_type: &'static str,
    pub product: &'static str,
    pub caption: Option<String>,
    pub permalink: String,
    pub posted_at: DateTime<Utc>,
    pub children: Vec<String>,
    pub likes_hidden: bool,
    /// Posted before the account became professional: no insights (2108006).
    pub pre_conversion: bool,
    pub deleted: bool,
    /// Comments made (+) and deleted (−) through the API and the webhook feed, beside the
    /// ones the curve brings.
    pub comment_delta: i64,
    curve: Curve,
}

/// Where a media's metrics end up and how fast they get there.
#[derive(Debug, Clone, Copy)]
struct Curve {
    final_reach: f64,
    /// Hours to reach ~63 % of the final reach.
    tau_hours: f64,
    views_per_reach: f64,
    like_rate: f64,
    comment_rate: f64,
    save_rate: f64,
    share_rate: f64,
    avg_watch_ms: f64,
    skip_rate: f64,
}

#[derive(Debug, Clone)]
pub struct SimToken {
    pub token: String,
    pub account: usize,
    /// More accounts the same user's token reads (Facebook Login: every Page shared).
    pub also: Vec<usize>,
    /// The scopes the user granted with this token.
    pub scopes: Vec<String>,
    pub flavour: Flavour,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// A subcode of 190 once revoked (460 password changed, 467 invalid).
    pub revoked: Option<i64>,
    pub calls: u64,
    pub budget: u64,
}

pub fn generate(specs: &[AccountSpec], seed: u64, epoch: DateTime<Utc>) -> Vec<SimAccount> {
    generate_from(specs, 0, seed, epoch)
}

/// Accounts numbered from `first` (public accounts after the connectable ones, so that no id
/// repeats).
pub fn generate_from(specs: &[AccountSpec], first: usize, seed: u64, epoch: DateTime<Utc>) -> Vec<SimAccount> {
    specs.iter().enumerate().map(|(i, spec)| generate_account(spec, first + i, seed, epoch)).collect()
}

fn generate_account(spec: &AccountSpec, index: usize, seed: u64, epoch: DateTime<Utc>) -> SimAccount {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(index as u64));
    let ig_user_id = format!("178414{:011}", rng.random_range(10_000_000_000u64..99_999_999_999));
    let app_scoped_id = format!("{:017}", rng.random_range(10_000_000_000_000_000u64..99_999_999_999_999_999));
    let page_id = format!("1{:014}", rng.random_range(0u64..99_999_999_999_999));
    let mut media = Vec::with_capacity(spec.media + spec.stories);
    let span = Duration::days(spec.days).num_seconds().max(1) as f64;
    for i in 0..spec.media {
        let age_secs = span * (i as f64 + rng.random_range(0.1..0.9)) / spec.media as f64;
        let posted_at = epoch - Duration::seconds(age_secs as i64);
        let (media_type, product) = pick_type(&mut rng, spec.mix);
        let pre_conversion = i + 1 > spec.media - spec.media.div_ceil(33);
        media.push(make_media(&mut rng, spec, index, i, media_type, product, posted_at, pre_conversion));
    }
    for i in 0..spec.stories {
        let posted_at = epoch - Duration::minutes(rng.random_range(30..20 * 60));
        let media_type = if rng.random_bool(0.5) { "IMAGE" } else { "VIDEO" };
        media.push(make_media(&mut rng, spec, index, spec.media + i, media_type, "STORY", posted_at, false));
    }
    media.sort_by_key(|m| std::cmp::Reverse(m.posted_at));
    SimAccount { spec: spec.clone(), ig_user_id, app_scoped_id, page_id, follows: rng.random_range(80..900), media }
}

fn pick_type(rng: &mut StdRng, mix: Mix) -> (&'static str, &'static str) {
    let total = mix.image + mix.carousel + mix.video + mix.reels;
    let mut roll = rng.random_range(0..total.max(1));
    for (weight, kind) in [
        (mix.image, ("IMAGE", "FEED")),
        (mix.carousel, ("CAROUSEL_ALBUM", "FEED")),
        (mix.video, ("VIDEO", "FEED")),
        (mix.reels, ("VIDEO", "REELS")),
    ] {
        if roll < weight {
            return kind;
        }
        roll -= weight;
    }
    ("IMAGE", "FEED")
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn make_media(
    rng: &mut StdRng,
    spec: &AccountSpec,
    account: usize,
    n: usize,
    media_type: &'static str,
    product: &'static str,
    posted_at: DateTime<Utc>,
    pre_conversion: bool,
) -> SimMedia {
    // 17-digit ids (beyond 2^53), unique per account and position.
    let id = format!("17{:03}{:05}{:07}", account % 1000, n % 100_000, rng.random_range(0..9_999_999));
    let voice = spec.voice;
    let caption = if rng.random_bool(0.85) {
        let captions = voice.captions(product);
        Some(captions[rng.random_range(0..captions.len())].to_owned())
    } else {
        let text = voice.plain[rng.random_range(0..voice.plain.len())];
        (!text.is_empty()).then(|| text.to_owned())
    };
    let shortcode = random_text(rng, SHORTCODE_CHARS, 11);
    let permalink = match product {
        "REELS" => format!("https://www.instagram.com/reel/{shortcode}/"),
        "STORY" => format!("https://www.instagram.com/stories/{}/{id}/", spec.username),
        _ => format!("https://www.instagram.com/p/{shortcode}/"),
    };
    let children = if media_type == "CAROUSEL_ALBUM" {
        (0..rng.random_range(2..=5)).map(|c| format!("{id}{c}")).collect()
    } else {
        Vec::new()
    };
    let followers = spec.followers as f64;
    let (reach_share, tau_hours, views_per_reach) = match product {
        "REELS" => (rng.random_range(0.3..2.2), rng.random_range(14.0..40.0), rng.random_range(1.5..3.0)),
        "STORY" => (rng.random_range(0.004..0.15), rng.random_range(2.0..5.0), rng.random_range(1.0..1.4)),
        _ => (rng.random_range(0.12..0.6), rng.random_range(3.0..9.0), rng.random_range(1.1..1.7)),
    };
    let curve = Curve {
        final_reach: followers * reach_share,
        tau_hours,
        views_per_reach,
        like_rate: rng.random_range(0.02..0.09),
        comment_rate: rng.random_range(0.02..0.12),
        save_rate: rng.random_range(0.002..0.02),
        share_rate: rng.random_range(0.001..0.015),
        avg_watch_ms: rng.random_range(3_000.0..14_000.0),
        skip_rate: rng.random_range(18.0..62.0),
    };
    SimMedia {
        id,
        media_type,
        product,
        caption,
        permalink,
        posted_at,
        children,
        likes_hidden: rng.random_bool(0.04),
        pre_conversion,
        deleted: false,
        comment_delta: 0,
        curve,
    }
}

impl SimMedia {
    /// Every metric this media has at `now`, by API name. Monotonic in time: the curve
    /// rises fast in the first hours, then flattens to a plateau.
    pub fn metrics_at(&self, now: DateTime<Utc>) -> BTreeMap<&'static str, f64> {
        let c = &self.curve;
        let reach = self.reach_at(now);
        let views = (reach * c.views_per_reach).floor();
        let likes = (reach * c.like_rate).floor();
        let comments = (self.curve_comments_at(now) as i64 + self.comment_delta).max(0) as f64;
        let saved = (reach * c.save_rate).floor();
        let shares = (reach * c.share_rate).floor();
        let profile_visits = (reach * 0.012).floor();
        let mut m = BTreeMap::new();
        m.insert("reach", reach);
        m.insert("views", views);
        m.insert("shares", shares);
        m.insert("reposts", (shares * 0.3).floor());
        m.insert("follows", (reach * 0.0015).floor());
        m.insert("profile_visits", profile_visits);
        m.insert("profile_activity", (profile_visits * 0.25).floor());
        match self.product {
            "STORY" => {
                m.insert("replies", (reach * 0.01).floor());
                m.insert("navigation", (views * 1.3).floor());
                m.insert("total_interactions", (reach * 0.01).floor() + shares);
            }
            _ => {
                m.insert("likes", likes);
                m.insert("comments", comments);
                m.insert("saved", saved);
                m.insert("total_interactions", likes + comments + saved + shares);
                if self.product == "REELS" {
                    m.insert("ig_reels_avg_watch_time", c.avg_watch_ms.floor());
                    m.insert("ig_reels_video_view_total_time", (views * c.avg_watch_ms).floor());
                    m.insert("reels_skip_rate", (c.skip_rate * 100.0).round() / 100.0);
                }
                m.insert("total_likes", likes);
                m.insert("total_comments", comments);
            }
        }
        m.insert("total_views", views);
        m
    }
}

impl SimMedia {
    fn reach_at(&self, now: DateTime<Utc>) -> f64 {
        let age_hours = ((now - self.posted_at).num_seconds().max(0) as f64) / 3600.0;
        let c = &self.curve;
        // A slow long tail (a few percent more over weeks) after the main rise.
        let progress = (1.0 - (-age_hours / c.tau_hours).exp()) * 0.96 + 0.04 * (age_hours / (age_hours + 24.0 * 21.0));
        (c.final_reach * progress).floor()
    }

    /// Comments the curve has brought by `now` (none on stories: they get replies instead).
    pub fn curve_comments_at(&self, now: DateTime<Utc>) -> usize {
        if self.product == "STORY" || now < self.posted_at {
            return 0;
        }
        let likes = (self.reach_at(now) * self.curve.like_rate).floor();
        (likes * self.curve.comment_rate).floor() as usize
    }

    /// When the curve's comment number `n` (from 0) was made: the first second at which the
    /// count passed it. Stable as time goes on, so a comment keeps its timestamp.
    pub fn curve_comment_time(&self, n: usize, now: DateTime<Utc>) -> DateTime<Utc> {
        let (mut low, mut high) = (0i64, (now - self.posted_at).num_seconds().max(0));
        while low < high {
            let middle = low + (high - low) / 2;
            if self.curve_comments_at(self.posted_at + Duration::seconds(middle)) > n {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        self.posted_at + Duration::seconds(low)
    }
}

impl SimAccount {
    /// The net follower gain of day `day` (counted from the epoch): mostly a small rise,
    /// some days a loss, now and then a day three to five times as good (a post that
    /// travelled); the same for a given account and day.
    pub fn daily_gain(&self, day: i64) -> f64 {
        let seed = self.ig_user_id.parse::<u64>().unwrap_or(0).rotate_left(17) ^ (day as u64).wrapping_mul(0x2545_F491);
        let mut rng = StdRng::seed_from_u64(seed);
        let rate = rng.random_range(-0.0008..0.0035);
        let boost = if rng.random_bool(0.06) { rng.random_range(3.0..5.0) } else { 1.0 };
        self.spec.followers as f64 * if rate > 0.0 { rate * boost } else { rate }
    }

    /// Followers at `now`: the spec's count at the epoch, moved by each day's gain (spread
    /// evenly over its day) before and after it.
    pub fn followers_at(&self, epoch: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
        let days = (now - epoch).num_seconds() as f64 / 86_400.0;
        let whole = days.floor() as i64;
        let within = (days - whole as f64) * self.daily_gain(whole);
        let gained = if whole >= 0 {
            (0..whole).map(|d| self.daily_gain(d)).sum::<f64>() + within
        } else {
            within - (whole..0).map(|d| self.daily_gain(d)).sum::<f64>()
        };
        self.spec.followers + gained.round() as i64
    }

    /// A day's account-level figures, deterministic for (account, day).
    pub fn day_metrics(&self, day_index: i64) -> BTreeMap<&'static str, f64> {
        let mut rng = StdRng::seed_from_u64(
            self.ig_user_id.parse::<u64>().unwrap_or(0) ^ (day_index as u64).wrapping_mul(0x9E37_79B9),
        );
        let followers = self.spec.followers as f64;
        let reach = (followers * rng.random_range(0.15..0.55)).floor();
        let mut m = BTreeMap::new();
        m.insert("reach", reach);
        m.insert("views", (reach * rng.random_range(1.4..2.4)).floor());
        m.insert("accounts_engaged", (reach * rng.random_range(0.03..0.09)).floor());
        let likes = (reach * rng.random_range(0.03..0.08)).floor();
        let comments = (likes * rng.random_range(0.03..0.1)).floor();
        let saves = (reach * 0.01).floor();
        let shares = (reach * 0.006).floor();
        m.insert("likes", likes);
        m.insert("comments", comments);
        m.insert("saves", saves);
        m.insert("shares", shares);
        m.insert("total_interactions", likes + comments + saves + shares);
        m.insert("replies", (reach * 0.002).floor());
        m.insert("reposts", (shares * 0.2).floor());
        m.insert("profile_views", (reach * 0.04).floor());
        m.insert("website_clicks", (reach * 0.004).floor());
        m.insert("profile_links_taps", (reach * 0.005).floor());
        // The same day's change as the account's follower count shows.
        m.insert("follower_count", self.daily_gain(day_index).round());
        m
    }
}

/// Makes a token that looks like the flavour's: `IGAA…` or `EAA…`.
pub fn token_text(rng: &mut StdRng, flavour: Flavour) -> String {
    let prefix = match flavour {
        Flavour::Instagram => "IGAA",
        Flavour::Facebook => "EAA",
    };
    format!("{prefix}{}", random_text(rng, TOKEN_CHARS, 48))
}

const SHORTCODE_CHARS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789_-";
const TOKEN_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_text(rng: &mut StdRng, alphabet: &[u8], len: usize) -> String {
    (0..len).map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_world() {
        let epoch = Utc::now();
        let a = generate(&AccountSpec::standard_set(), 7, epoch);
        let b = generate(&AccountSpec::standard_set(), 7, epoch);
        assert_eq!(a[0].ig_user_id, b[0].ig_user_id);
        assert_eq!(a[1].media.len(), b[1].media.len());
        assert_eq!(a[1].media[3].id, b[1].media[3].id);
        let c = generate(&AccountSpec::standard_set(), 8, epoch);
        assert_ne!(a[0].ig_user_id, c[0].ig_user_id);
    }

    #[test]
    fn metrics_rise_with_age_and_reach_never_exceeds_views() {
        let epoch = Utc::now();
        let world = generate(&AccountSpec::standard_set(), 1, epoch);
        for media in world.iter().flat_map(|a| &a.media) {
            let mut previous = 0.0;
            for hours in [1, 6, 24, 72, 24 * 30] {
                let m = media.metrics_at(media.posted_at + Duration::hours(hours));
                assert!(m["reach"] >= previous, "reach falls for {}", media.id);
                assert!(m["reach"] <= m["views"]);
                previous = m["reach"];
            }
        }
    }

    #[test]
    fn ids_are_unique_and_beyond_two_to_the_53() {
        let world = generate(&AccountSpec::standard_set(), 3, Utc::now());
        let mut ids: Vec<&str> = world.iter().flat_map(|a| a.media.iter().map(|m| m.id.as_str())).collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count);
        assert!(ids.iter().all(|id| id.parse::<u64>().unwrap() > (1u64 << 53)));
    }

    #[test]
    fn followers_move_unevenly_and_agree_with_the_daily_follower_count() {
        let epoch = Utc::now();
        let world = generate(&AccountSpec::standard_set(), 1, epoch);
        let account = &world[0];
        assert_eq!(account.followers_at(epoch, epoch), account.spec.followers);
        let day = |d: i64| account.followers_at(epoch, epoch + Duration::days(d));
        let gains: Vec<i64> = (-30..30).map(|d| day(d + 1) - day(d)).collect();
        let mut distinct = gains.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > 10, "not one flat gain a day: {gains:?}");
        assert!(gains.iter().any(|g| *g < 0) && gains.iter().sum::<i64>() > 0, "some losses, growth overall");
        for d in [-3, 0, 5] {
            let reported = account.day_metrics(d)["follower_count"] as i64;
            assert!((day(d + 1) - day(d) - reported).abs() <= 1, "day {d}: the daily figure matches the count");
        }
    }

    #[test]
    fn the_demo_accounts_caption_each_format_in_their_own_voice() {
        let world = generate(&AccountSpec::demo_set(), 1, Utc::now());
        for account in &world {
            for media in &account.media {
                let Some(caption) = &media.caption else { continue };
                let voice = account.spec.voice;
                let own = voice.captions(media.product).contains(&caption.as_str())
                    || voice.plain.contains(&caption.as_str());
                assert!(own, "@{} {} {caption}", account.spec.username, media.product);
                assert!(!caption.contains('<'), "no test fixture in the demo: {caption}");
            }
        }
    }
}
