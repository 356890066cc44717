//! What the analytics pages share: the period and filters in the URL, and the period
//! selector. (The figures themselves are the views service's.)

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::analytics::period::{PRESET_DAYS, Period};
use crate::analytics::{EngagementDefinition, Format};
use crate::db::reports::{PostFilter, Sort};
use crate::domain::AccountId;

/// Everything a view can carry in its URL, so every view is bookmarkable. A number left
/// empty (`account=`, what a filter form sends for "all") means no value; anything else
/// that is not a number is refused as malformed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ViewQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    pub days: Option<u32>,
    pub from: Option<String>,
    pub to: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub account: Option<i64>,
    pub format: Option<String>,
    /// `tidemark`: only posts published from Tidemark.
    pub origin: Option<String>,
    pub sort: Option<String>,
    /// Words to find in the captions.
    pub q: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub page: Option<i64>,
    /// For a chart's CSV: which chart, and (post charts) which post.
    pub chart: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub post: Option<i64>,
}

/// A number from the query string, where an empty value is no value.
pub fn empty_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match Option::<String>::deserialize(deserializer)?.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

impl ViewQuery {
    pub fn period(&self, now: DateTime<Utc>, tz: Tz) -> Period {
        Period::from_query(self.days, self.from.as_deref(), self.to.as_deref(), now, tz)
    }

    pub fn format(&self) -> Option<Format> {
        self.format.as_deref().and_then(Format::from_key)
    }

    pub fn sort(&self) -> Sort {
        self.sort.as_deref().and_then(Sort::from_key).unwrap_or_default()
    }

    /// The caption search, trimmed; none when empty. A longer text is cut to
    /// [`MAX_SEARCH_CHARS`], not refused: no caption search needs more.
    pub fn search(&self) -> Option<String> {
        let text = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty())?;
        // PostgreSQL text holds no NUL: one in the address would fail the query.
        Some(text.chars().filter(|c| *c != '\0').take(MAX_SEARCH_CHARS).collect())
    }
}

/// The longest caption search kept.
pub const MAX_SEARCH_CHARS: usize = 100;

/// A link in the period selector.
pub struct PeriodLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// The period selector: presets, the previous and next periods, and the current one.
pub struct PeriodNav {
    pub label: String,
    pub links: Vec<PeriodLink>,
    pub previous: String,
    pub next: Option<String>,
    pub first: String,
    pub last: String,
    /// Other parameters to keep (`account=…&format=…`), for the custom-dates form.
    pub keep: Vec<(String, String)>,
}

impl PeriodNav {
    pub fn new(path: &str, period: &Period, keep: &[(&str, String)], today: NaiveDate) -> PeriodNav {
        let extra = query_tail(keep);
        let mut links: Vec<PeriodLink> = PRESET_DAYS
            .into_iter()
            .map(|days| PeriodLink {
                label: if days == 365 { "year".to_owned() } else { format!("{days} days") },
                href: format!("{path}?days={days}{extra}"),
                current: period.last == today && period.days() == i64::from(days),
            })
            .collect();
        let this_month = today.with_day(1).unwrap_or(today);
        let last_month_end = this_month - Days::new(1);
        let last_month = last_month_end.with_day(1).unwrap_or(last_month_end);
        for (label, first, last) in [("this month", this_month, today), ("last month", last_month, last_month_end)] {
            links.push(PeriodLink {
                label: label.to_owned(),
                href: format!("{path}?from={first}&to={last}{extra}"),
                current: period.first == first && period.last == last,
            });
        }
        let next = period.next();
        PeriodNav {
            label: period.label(),
            links,
            previous: format!("{path}?{}{extra}", period.previous().query()),
            next: (next.first <= today).then(|| format!("{path}?{}{extra}", next.query())),
            first: period.first.to_string(),
            last: period.last.to_string(),
            keep: keep.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        }
    }
}

/// `&k=v…` of a view's kept parameters, encoded, to follow its period in an address.
pub fn query_tail(keep: &[(&str, String)]) -> String {
    keep.iter().map(|(k, v)| format!("&{k}={}", encode(v))).collect()
}

pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl ViewQuery {
    pub fn from_tidemark(&self) -> bool {
        self.origin.as_deref() == Some("tidemark")
    }

    /// The posts of this view's period, account and format, in its order.
    pub fn post_filter(&self, period: &Period, definition: EngagementDefinition) -> PostFilter {
        PostFilter {
            account: self.account.map(AccountId),
            format: self.format(),
            from: Some(period.start()),
            until: Some(period.end()),
            sort: self.sort(),
            definition,
            from_tidemark: self.from_tidemark(),
            search: self.search(),
            ..PostFilter::default()
        }
    }
}
