//! Who follows an account (graph-api.md §4): `follower_demographics`, one breakdown per
//! call (age, gender, country, city), and `online_followers`, followers online by hour.
//! Meta gives neither for an account below 100 followers; the answer is then empty, which
//! is "not measured", never zero.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::client::GraphSession;
use super::error::GraphError;
use crate::domain::{AudienceDimension, AudienceFigure};

/// Meta gives no audience figures below this many followers ("Insights data is not available
/// on IG Users that have fewer than 100 followers", Meta's IG User Insights reference).
pub const MIN_FOLLOWERS: i64 = 100;

/// Meta's demographics list the top 45 values of a breakdown (graph-api.md §4).
const MAX_VALUES: usize = 45;

/// How many days of `online_followers` are asked for and averaged (Meta keeps 30).
const ONLINE_DAYS: i64 = 7;

/// Meta's "lifetime" day for `online_followers` runs from 07:00 UTC to 07:00 UTC ("periods
/// ending on UTC−07:00", Meta's IG User Insights reference,
/// developers.facebook.com/docs/instagram-api/reference/ig-user/insights), so its hour "0"
/// is 07:00 UTC.
const ONLINE_DAY_STARTS_AT_UTC_HOUR: u32 = 7;

/// The longest breakdown value kept (a city is "Name, Region").
const MAX_KEY_CHARS: usize = 200;

impl GraphSession<'_> {
    /// The account's followers by age, gender, country and city (this month's; one call per
    /// breakdown), and how many were online in each UTC hour on average over the last
    /// [`ONLINE_DAYS`] days. Empty when Meta gives nothing (below 100 followers).
    pub async fn audience(&self, ig_user_id: &str, now: DateTime<Utc>) -> Result<Vec<AudienceFigure>, GraphError> {
        let url = self.url(&format!("{ig_user_id}/insights"));
        let mut figures = Vec::new();
        for dimension in AudienceDimension::DEMOGRAPHICS {
            let query = [
                ("metric", "follower_demographics"),
                ("period", "lifetime"),
                ("timeframe", "this_month"),
                ("metric_type", "total_value"),
                ("breakdown", dimension.as_str()),
            ];
            let wire: AudienceWire = self.get(url.clone(), &query, Some(ig_user_id)).await?;
            figures.extend(wire.breakdown_values(dimension));
        }
        let (since, until) = ((now - Duration::days(ONLINE_DAYS)).timestamp().to_string(), now.timestamp().to_string());
        let query = [("metric", "online_followers"), ("period", "lifetime"), ("since", &since), ("until", &until)];
        let wire: AudienceWire = self.get(url, &query, Some(ig_user_id)).await?;
        figures.extend(wire.online_by_utc_hour());
        Ok(figures)
    }
}

#[derive(Debug, Deserialize)]
struct AudienceWire {
    #[serde(default)]
    data: Vec<MetricWire>,
}

#[derive(Debug, Deserialize)]
struct MetricWire {
    #[serde(default)]
    total_value: Option<TotalWire>,
    #[serde(default)]
    values: Vec<ValueWire>,
}

#[derive(Debug, Deserialize)]
struct TotalWire {
    #[serde(default)]
    breakdowns: Vec<BreakdownWire>,
}

#[derive(Debug, Deserialize)]
struct BreakdownWire {
    #[serde(default)]
    results: Vec<ResultWire>,
}

#[derive(Debug, Deserialize)]
struct ResultWire {
    #[serde(default)]
    dimension_values: Vec<serde_json::Value>,
    #[serde(default)]
    value: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct ValueWire {
    #[serde(default)]
    value: serde_json::Value,
}

impl AudienceWire {
    /// A breakdown's values, the largest first, at most [`MAX_VALUES`]. A value that is not a
    /// non-negative count, or whose name is empty or overlong, is left out rather than guessed.
    fn breakdown_values(&self, dimension: AudienceDimension) -> Vec<AudienceFigure> {
        let mut figures: Vec<AudienceFigure> = self
            .data
            .iter()
            .filter_map(|m| m.total_value.as_ref())
            .flat_map(|t| &t.breakdowns)
            .flat_map(|b| &b.results)
            .filter_map(|r| {
                let key = r.dimension_values.first()?.as_str()?.trim();
                let followers = count(&r.value)?;
                let sane = !key.is_empty() && key.chars().count() <= MAX_KEY_CHARS && !key.contains('\0');
                sane.then(|| AudienceFigure { dimension, key: key.to_owned(), followers })
            })
            .collect();
        figures.sort_by(|a, b| b.followers.cmp(&a.followers).then_with(|| a.key.cmp(&b.key)));
        figures.dedup_by(|a, b| a.key == b.key);
        figures.truncate(MAX_VALUES);
        figures
    }

    /// The mean of each hour over the days given, keyed by UTC hour. An hour missing from
    /// every day is left out.
    fn online_by_utc_hour(&self) -> Vec<AudienceFigure> {
        let mut sums = [(0i64, 0i64); 24];
        for day in self.data.iter().flat_map(|m| &m.values) {
            let Some(hours) = day.value.as_object() else { continue };
            for (hour, value) in hours {
                let (Ok(hour), Some(followers)) = (hour.parse::<u32>(), count(value)) else { continue };
                if hour < 24 {
                    let utc = ((hour + ONLINE_DAY_STARTS_AT_UTC_HOUR) % 24) as usize;
                    sums[utc].0 += followers;
                    sums[utc].1 += 1;
                }
            }
        }
        sums.iter()
            .enumerate()
            .filter(|(_, (_, days))| *days > 0)
            .map(|(hour, (sum, days))| AudienceFigure {
                dimension: AudienceDimension::OnlineHour,
                key: hour.to_string(),
                followers: (*sum as f64 / *days as f64).round() as i64,
            })
            .collect()
    }
}

/// A non-negative whole count, or nothing.
fn count(value: &serde_json::Value) -> Option<i64> {
    let number = value.as_f64()?;
    (number.is_finite() && (0.0..9.0e15).contains(&number)).then(|| number.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(json: serde_json::Value) -> AudienceWire {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn breakdowns_keep_the_largest_sane_values() {
        let answer =
            wire(serde_json::json!({"data": [{"name": "follower_demographics", "total_value": {"breakdowns": [
                {"dimension_keys": ["country"], "results": [
                    {"dimension_values": ["GB"], "value": 40},
                    {"dimension_values": ["US"], "value": 90},
                    {"dimension_values": [""], "value": 7},
                    {"dimension_values": ["FR"], "value": -3},
                    {"dimension_values": ["DE"], "value": "many"},
                    {"dimension_values": [], "value": 5}
                ]}
            ]}}]}));
        let keys: Vec<(String, i64)> =
            answer.breakdown_values(AudienceDimension::Country).into_iter().map(|f| (f.key, f.followers)).collect();
        assert_eq!(keys, [("US".to_owned(), 90), ("GB".to_owned(), 40)]);
    }

    #[test]
    fn online_hours_move_to_utc_and_average_the_days() {
        let answer = wire(serde_json::json!({"data": [{"name": "online_followers", "period": "lifetime", "values": [
            {"value": {"0": 10, "17": 30}, "end_time": "2026-12-02T08:00:00+0000"},
            {"value": {"0": 20, "17": "x", "24": 99}, "end_time": "2026-12-03T08:00:00+0000"},
            {"value": 12, "end_time": "2026-12-04T08:00:00+0000"}
        ]}]}));
        let hours: Vec<(String, i64)> = answer.online_by_utc_hour().into_iter().map(|f| (f.key, f.followers)).collect();
        // Meta's hour 0 is 07:00 UTC, its hour 17 midnight UTC.
        assert_eq!(hours, [("0".to_owned(), 30), ("7".to_owned(), 15)]);
    }

    #[test]
    fn an_empty_answer_is_no_audience() {
        let answer = wire(serde_json::json!({"data": []}));
        assert!(answer.breakdown_values(AudienceDimension::Age).is_empty());
        assert!(answer.online_by_utc_hour().is_empty());
    }
}
