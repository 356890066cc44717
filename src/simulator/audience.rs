//! Who follows a simulated account: its followers by age, gender, country and city, and how
//! many are online in each hour, as `follower_demographics` and `online_followers` answer
//! (graph-api.md §4). The shares drift slowly, so that a month shows a change.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::world::SimAccount;

/// Meta's age ranges.
pub const AGE_RANGES: [&str; 7] = ["13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"];

/// Meta lists the top 45 values of a breakdown (graph-api.md §4).
const TOP_VALUES: usize = 45;

/// Share of followers Meta cannot place in a breakdown (they are left out of it).
const UNPLACED: f64 = 0.04;

/// The hour Meta's `online_followers` day starts at, in UTC (see `graph::audience`).
const ONLINE_DAY_STARTS_AT_UTC_HOUR: i64 = 7;

/// The make-up of an account's followers.
#[derive(Debug)]
pub struct Crowd {
    /// Weights of [`AGE_RANGES`].
    pub ages: [f64; 7],
    /// Share of women; a few say neither (`U`), the rest are men.
    pub women: f64,
    /// Where followers live: (city, country code, weight).
    pub places: &'static [(&'static str, &'static str, f64)],
    /// The UTC hour most followers are online.
    pub busiest_utc_hour: i64,
}

impl SimAccount {
    /// `follower_demographics` for one breakdown (`age`, `gender`, `country`, `city`) on
    /// simulation day `day`: (value, followers), the largest first, at most 45.
    pub fn demographics(&self, breakdown: &str, followers: i64, day: i64) -> Vec<(String, f64)> {
        let crowd = &self.spec.voice.crowd;
        let weights: Vec<(String, f64)> = match breakdown {
            "age" => AGE_RANGES.iter().zip(crowd.ages).map(|(a, w)| ((*a).to_owned(), w)).collect(),
            "gender" => vec![
                ("F".to_owned(), crowd.women),
                ("M".to_owned(), (1.0 - crowd.women - 0.03).max(0.0)),
                ("U".to_owned(), 0.03),
            ],
            "country" => {
                let mut by_country: BTreeMap<String, f64> = BTreeMap::new();
                for (_, country, weight) in crowd.places {
                    *by_country.entry((*country).to_owned()).or_default() += weight;
                }
                by_country.into_iter().collect()
            }
            "city" => crowd.places.iter().map(|(city, _, w)| ((*city).to_owned(), *w)).collect(),
            _ => Vec::new(),
        };
        let drifted: Vec<(String, f64)> =
            weights.into_iter().map(|(key, w)| (self.drift(&key, day) * w, key)).map(|(w, k)| (k, w)).collect();
        let total: f64 = drifted.iter().map(|(_, w)| w).sum();
        if total <= 0.0 {
            return Vec::new();
        }
        let placed = followers as f64 * (1.0 - UNPLACED);
        let mut shares: Vec<(String, f64)> =
            drifted.into_iter().map(|(key, w)| (key, (placed * w / total).round())).filter(|(_, n)| *n > 0.0).collect();
        shares.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        shares.truncate(TOP_VALUES);
        shares
    }

    /// Followers online in each UTC hour (the index) of simulation day `day`, most in the
    /// hours around the crowd's busiest.
    pub fn online_by_utc_hour(&self, followers: i64, day: i64) -> [f64; 24] {
        let busiest = self.spec.voice.crowd.busiest_utc_hour;
        let mut rng = StdRng::seed_from_u64(self.seed() ^ (day as u64).wrapping_mul(0x5851_F42D));
        std::array::from_fn(|utc| {
            let utc = utc as i64;
            let distance = (utc - busiest).rem_euclid(24).min((busiest - utc).rem_euclid(24)) as f64;
            let share = 0.06 + 0.30 * (-(distance * distance) / 18.0).exp();
            (followers as f64 * share * rng.random_range(0.9..1.1)).round()
        })
    }

    /// `online_followers` as Meta writes a day of it: keyed by the hours of its day, whose
    /// "0" is 07:00 UTC.
    pub fn online_followers(&self, followers: i64, day: i64) -> BTreeMap<String, f64> {
        let by_utc = self.online_by_utc_hour(followers, day);
        (0..24i64)
            .map(|meta_hour| {
                let utc = (meta_hour + ONLINE_DAY_STARTS_AT_UTC_HOUR).rem_euclid(24) as usize;
                (meta_hour.to_string(), by_utc[utc])
            })
            .collect()
    }

    /// A slow, smooth wobble of a value's share (±6 % of it over about two months, so a
    /// month moves a large share by a point or two), the same for a given account, value and day.
    fn drift(&self, key: &str, day: i64) -> f64 {
        let phase = key.bytes().fold(self.seed(), |h, b| h.rotate_left(5) ^ u64::from(b)) % 628;
        1.0 + 0.06 * (day as f64 / 10.0 + phase as f64 / 100.0).sin()
    }

    fn seed(&self) -> u64 {
        self.ig_user_id.parse::<u64>().unwrap_or(0)
    }
}
