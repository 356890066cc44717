//! Who follows an account, from Meta's counts on two reading days: each value's share of the
//! followers and how it moved since the earlier read, and the hours followers are online.

use chrono::{NaiveDate, NaiveTime, TimeZone, Timelike};

use crate::domain::{AudienceDimension, AudienceRead};

/// A value's share of the followers.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub key: String,
    pub followers: i64,
    /// Percent of the followers Meta placed.
    pub percent: f64,
    /// Percentage points since the earlier read; `None` without one, or when the value was
    /// not among Meta's top values then.
    pub change_points: Option<f64>,
    /// Not listed at the earlier read (Meta lists the top 45).
    pub new: bool,
}

/// One dimension's shares, the largest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakdown {
    pub dimension: AudienceDimension,
    pub shares: Vec<Share>,
}

/// What the account page shows of the audience.
#[derive(Debug, Clone, PartialEq)]
pub struct Audience {
    pub day: NaiveDate,
    pub compared_with: Option<NaiveDate>,
    /// Age, gender, country, city: those Meta gave.
    pub breakdowns: Vec<Breakdown>,
    /// Followers online by UTC hour (0–23), those Meta gave.
    pub online: Vec<(u32, i64)>,
}

impl Audience {
    /// The latest read compared with an earlier one; `None` when the latest holds nothing.
    pub fn compare(latest: &AudienceRead, earlier: Option<&AudienceRead>) -> Option<Audience> {
        if latest.figures.is_empty() {
            return None;
        }
        let breakdowns = AudienceDimension::DEMOGRAPHICS
            .iter()
            .filter_map(|&dimension| {
                let shares = shares(latest, dimension);
                if shares.is_empty() {
                    return None;
                }
                let before = earlier.map(|e| shares_of(e, dimension)).filter(|b| !b.is_empty());
                let shares = shares
                    .into_iter()
                    .map(|(key, followers, percent)| {
                        let was = before.as_ref().map(|b| b.iter().find(|(k, _, _)| *k == key).map(|(_, _, p)| *p));
                        Share {
                            new: matches!(was, Some(None)),
                            change_points: was.flatten().map(|p| percent - p),
                            key,
                            followers,
                            percent,
                        }
                    })
                    .collect();
                Some(Breakdown { dimension, shares })
            })
            .collect();
        let mut online: Vec<(u32, i64)> = latest
            .figures
            .iter()
            .filter(|c| c.dimension == AudienceDimension::OnlineHour)
            .filter_map(|c| c.key.parse::<u32>().ok().filter(|h| *h < 24).map(|h| (h, c.followers)))
            .collect();
        online.sort_unstable();
        Some(Audience { day: latest.day, compared_with: earlier.map(|e| e.day), breakdowns, online })
    }
}

/// An hour of the day with the followers online in it, in the operator's time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineHour {
    /// When the hour starts, local time (a zone half an hour off UTC starts at :30).
    pub starts: NaiveTime,
    pub followers: i64,
    /// 0–4: followers against the busiest hour's.
    pub heat: u8,
    /// 1 to [`BUSIEST_HOURS`] for the busiest hours.
    pub rank: Option<usize>,
}

/// How many of the busiest hours are named.
pub const BUSIEST_HOURS: usize = 3;

impl Audience {
    /// The online hours on the read's day in `tz`, from local midnight on, the busiest ranked.
    pub fn online_hours<Z: TimeZone>(&self, tz: &Z) -> Vec<OnlineHour> {
        let busiest = self.online.iter().map(|(_, n)| *n).max().unwrap_or(0);
        let mut by_followers: Vec<&(u32, i64)> = self.online.iter().collect();
        by_followers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut hours: Vec<OnlineHour> = self
            .online
            .iter()
            .map(|&(utc_hour, followers)| {
                let at = self.day.and_hms_opt(utc_hour, 0, 0).unwrap_or_default().and_utc();
                OnlineHour {
                    starts: at.with_timezone(tz).time(),
                    followers,
                    heat: if busiest > 0 { (followers as f64 / busiest as f64 * 4.0).round() as u8 } else { 0 },
                    rank: by_followers.iter().take(BUSIEST_HOURS).position(|(h, _)| *h == utc_hour).map(|i| i + 1),
                }
            })
            .collect();
        hours.sort_by_key(|h| h.starts.num_seconds_from_midnight());
        hours
    }
}

/// (key, followers, percent) of a dimension, the largest first.
fn shares(read: &AudienceRead, dimension: AudienceDimension) -> Vec<(String, i64, f64)> {
    let mut shares = shares_of(read, dimension);
    shares.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    shares
}

/// Each value's percent of the followers Meta placed. Meta lists only the top 45 countries
/// and cities, so their own sum falls short of the followers: the base is the most complete
/// breakdown of the read (age or gender place nearly everyone).
fn shares_of(read: &AudienceRead, dimension: AudienceDimension) -> Vec<(String, i64, f64)> {
    let base = AudienceDimension::DEMOGRAPHICS
        .iter()
        .map(|&d| read.figures.iter().filter(|c| c.dimension == d).map(|c| c.followers).sum::<i64>())
        .max()
        .unwrap_or(0);
    if base <= 0 {
        return Vec::new();
    }
    read.figures
        .iter()
        .filter(|c| c.dimension == dimension)
        .map(|c| (c.key.clone(), c.followers, c.followers as f64 * 100.0 / base as f64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use AudienceDimension::{Age, City, Gender, OnlineHour};

    #[test]
    fn shares_are_of_all_placed_followers_and_move_in_points() {
        let earlier =
            AudienceRead::sample(1, &[(Gender, "F", 600), (Gender, "M", 400), (City, "Falmouth, England", 300)]);
        let latest = AudienceRead::sample(
            29,
            &[
                (Gender, "F", 700),
                (Gender, "M", 300),
                (City, "Falmouth, England", 250),
                (City, "Truro, England", 100),
                (OnlineHour, "19", 80),
                (OnlineHour, "7", 20),
            ],
        );
        let audience = Audience::compare(&latest, Some(&earlier)).unwrap();
        assert_eq!(audience.compared_with, NaiveDate::from_ymd_opt(2026, 11, 1));
        let gender = &audience.breakdowns[0];
        assert_eq!(gender.dimension, Gender);
        assert_eq!((gender.shares[0].key.as_str(), gender.shares[0].percent), ("F", 70.0));
        assert!((gender.shares[0].change_points.unwrap() - 10.0).abs() < 1e-9);
        // Cities are shares of every follower (the gender total), not of the cities listed.
        let city = &audience.breakdowns[1];
        assert_eq!(city.shares[0].percent, 25.0);
        assert!((city.shares[0].change_points.unwrap() + 5.0).abs() < 1e-9);
        assert!(city.shares[1].new && city.shares[1].change_points.is_none());
        assert_eq!(audience.online, [(7, 20), (19, 80)]);
    }

    #[test]
    fn without_an_earlier_read_nothing_is_new_and_nothing_moved() {
        let latest = AudienceRead::sample(29, &[(Age, "25-34", 50), (Age, "18-24", 50)]);
        let audience = Audience::compare(&latest, None).unwrap();
        assert!(audience.breakdowns[0].shares.iter().all(|s| !s.new && s.change_points.is_none()));
        assert_eq!(audience.breakdowns[0].shares[0].key, "18-24", "ties in name order");
    }

    #[test]
    fn online_hours_read_in_the_operators_zone_from_midnight() {
        let hours: Vec<(AudienceDimension, String, i64)> =
            (0..24).map(|h| (OnlineHour, h.to_string(), if h == 19 { 90 } else { 10 + h as i64 })).collect();
        let figures: Vec<(AudienceDimension, &str, i64)> = hours.iter().map(|(d, k, n)| (*d, k.as_str(), *n)).collect();
        let audience = Audience::compare(&AudienceRead::sample(29, &figures), None).unwrap();
        // Kolkata is UTC+05:30: its day starts at 18:30 UTC, the hour starting 18:30 local.
        let local = audience.online_hours(&chrono_tz::Asia::Kolkata);
        assert_eq!(local.len(), 24);
        assert_eq!(local[0].starts, NaiveTime::from_hms_opt(0, 30, 0).unwrap());
        let busiest = local.iter().find(|h| h.rank == Some(1)).unwrap();
        assert_eq!(
            (busiest.starts, busiest.followers, busiest.heat),
            (NaiveTime::from_hms_opt(0, 30, 0).unwrap(), 90, 4)
        );
        let ranked: Vec<i64> = local.iter().filter(|h| h.rank.is_some()).map(|h| h.followers).collect();
        assert_eq!(ranked.len(), BUSIEST_HOURS);
        assert!(ranked.contains(&33) && ranked.contains(&32), "then 23:00 and 22:00 UTC");
    }

    #[test]
    fn an_empty_read_is_no_audience() {
        assert_eq!(Audience::compare(&AudienceRead::sample(29, &[]), None), None);
    }
}
