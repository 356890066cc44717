//! What the analytics pages share: the period and filters in the URL, posts as table rows,
//! and an account's panel (headline cards, charts, top posts, formats).

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use serde::Deserialize;

use super::charts::{Chart, Series};
use super::format::{count, token_expiry, when};
use crate::analytics::followers::{changes, daily};
use crate::analytics::groups::{Outcome, Summary, by_format};
use crate::analytics::impact::checkpoint_label;
use crate::analytics::period::{PRESET_DAYS, Period};
use crate::analytics::stats::median;
use crate::analytics::{EngagementDefinition, Format, MIN_COHORT};
use crate::db::account_history;
use crate::db::accounts::{Account, AccountId, AccountStatus};
use crate::db::reports::{self, PostFilter, PostRow, Sort};
use crate::db::settings::OperatorSettings;
use crate::error::AppResult;

/// Everything a view can carry in its URL, so every view is bookmarkable.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ViewQuery {
    pub days: Option<u32>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub account: Option<i64>,
    pub format: Option<String>,
    pub sort: Option<String>,
    pub page: Option<i64>,
    /// For a chart's CSV: which chart, and (post charts) which post.
    pub chart: Option<String>,
    pub post: Option<i64>,
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
}

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
        let extra: String = keep.iter().map(|(k, v)| format!("&{k}={}", encode(v))).collect();
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

pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A rate as the pages show it: two decimals and a percent sign; "–" when undefined.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".to_owned(), |r| format!("{r:.2} %"))
}

/// A change with its sign: "+12", "−3", "0".
pub fn signed(delta: Option<i64>) -> String {
    match delta {
        Some(d) if d > 0 => format!("+{}", count(Some(d))),
        Some(d) => count(Some(d)),
        None => "–".to_owned(),
    }
}

/// A difference of rates in percentage points.
pub fn point_delta(delta: Option<f64>) -> String {
    match delta {
        Some(d) if d >= 0.005 => format!("+{d:.2} pt"),
        Some(d) if d <= -0.005 => format!("−{:.2} pt", -d),
        Some(_) => "±0.00 pt".to_owned(),
        None => "–".to_owned(),
    }
}

/// A post as a table row.
pub struct PostView {
    pub id: i64,
    pub account_id: i64,
    pub username: String,
    pub format: Format,
    pub posted: String,
    pub caption: String,
    pub reach: String,
    pub views: String,
    pub interactions: String,
    pub rate: String,
    pub impact: String,
    pub impact_note: String,
    pub removed: bool,
}

impl PostView {
    pub fn new(row: &PostRow, definition: EngagementDefinition, tz: Tz) -> PostView {
        let format = row.format();
        let (impact, impact_note) = impact_text(row, format);
        PostView {
            id: row.id,
            account_id: row.account_id,
            username: row.username.clone(),
            format,
            posted: row.posted_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
            caption: short_caption(row.caption.as_deref()),
            reach: count(row.reach),
            views: count(row.views),
            interactions: count(row.interactions),
            rate: percent(row.rate(definition)),
            impact,
            impact_note,
            removed: row.removed_at.is_some(),
        }
    }
}

/// The score and what it was measured against, per docs/metrics.md.
pub fn impact_text(row: &PostRow, format: Format) -> (String, String) {
    let cohort = row.impact_cohort.unwrap_or(0);
    match (row.impact, row.checkpoint_hours) {
        (Some(score), Some(hours)) => (
            score.to_string(),
            format!("against {cohort} earlier {} at {}", format.plural(), checkpoint_label(i64::from(hours))),
        ),
        (None, Some(_)) if (cohort as usize) < MIN_COHORT => {
            ("–".to_owned(), format!("not enough history ({cohort} of {MIN_COHORT} needed)"))
        }
        _ => ("–".to_owned(), "not measured yet".to_owned()),
    }
}

fn short_caption(caption: Option<&str>) -> String {
    let Some(caption) = caption else { return String::new() };
    let mut short: String = caption.chars().take(80).collect();
    if caption.chars().count() > 80 {
        short.push('…');
    }
    short
}

pub fn outcome(row: &PostRow, definition: EngagementDefinition) -> Outcome {
    Outcome {
        format: row.format(),
        posted_at: row.posted_at,
        hashtags: row.tags(),
        rate: row.rate(definition),
        reach: row.reach,
    }
}

/// A format's line in the breakdown.
pub struct FormatView {
    pub format: Format,
    pub posts: usize,
    pub median_rate: String,
    pub median_reach: String,
}

pub fn format_views(groups: Vec<(Format, Summary)>) -> Vec<FormatView> {
    groups
        .into_iter()
        .map(|(format, s)| FormatView {
            format,
            posts: s.posts,
            median_rate: percent(s.median_rate),
            median_reach: count(s.median_reach.map(|r| r.round() as i64)),
        })
        .collect()
}

/// One account over a period: headline figures against the previous period, charts, the
/// top posts by impact and the content-type breakdown.
pub struct AccountPanel {
    pub id: AccountId,
    pub username: String,
    /// Sync and token health in a line ("active · last sync … · token expires in 40 days").
    pub health: String,
    pub health_warning: bool,
    pub followers_now: String,
    pub followers_change: String,
    pub followers_change_before: String,
    pub posts: usize,
    pub posts_delta: String,
    pub median_rate: String,
    pub median_rate_delta: String,
    pub top: Vec<PostView>,
    pub formats: Vec<FormatView>,
    pub charts: Vec<Chart>,
}

impl AccountPanel {
    pub async fn load(
        conn: &mut AsyncPgConnection,
        account: &Account,
        period: &Period,
        settings: &OperatorSettings,
        now: DateTime<Utc>,
    ) -> AppResult<AccountPanel> {
        let tz = period.tz;
        let definition = settings.engagement();
        let previous = period.previous();
        let filter = PostFilter {
            account: Some(account.id),
            from: Some(previous.start()),
            until: Some(period.end()),
            definition,
            ..PostFilter::default()
        };
        let rows = reports::posts(conn, &filter).await?;
        let (now_rows, before_rows): (Vec<&PostRow>, Vec<&PostRow>) =
            rows.iter().partition(|r| period.contains(r.posted_at));
        let rate_now = median(now_rows.iter().filter_map(|r| r.rate(definition)));
        let rate_before = median(before_rows.iter().filter_map(|r| r.rate(definition)));

        // Followers per day over both periods (and the day before, for the first change).
        let span_first = previous.first - Days::new(7);
        // Counts from a fortnight before the span, so the first days carry a value forward.
        let since = (span_first - Days::new(14)).and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        let points = account_history::follower_points(conn, account.id, since).await?;
        let followers = daily(&points, span_first, period.last, tz);
        let on = |day: NaiveDate| followers.iter().find(|(d, _)| *d == day).and_then(|(_, v)| *v);
        let change =
            |p: &Period| on(p.last).zip(on(p.first - Days::new(1)).or_else(|| on(p.first))).map(|(a, b)| a - b);

        let days: Vec<NaiveDate> = followers.iter().map(|(d, _)| *d).filter(|d| *d >= period.first).collect();
        let shifted = |d: NaiveDate| d - Days::new(period.days() as u64);
        let follower_chart = Chart::daily(
            &format!("followers-{}", account.id),
            "Followers",
            "followers",
            &days,
            vec![
                Series {
                    label: "followers".into(),
                    values: days.iter().map(|d| on(*d).map(|v| v as f64)).collect(),
                    dashed: false,
                },
                Series {
                    label: "previous period".into(),
                    values: days.iter().map(|d| on(shifted(*d)).map(|v| v as f64)).collect(),
                    dashed: true,
                },
            ],
            0,
        );
        let daily_changes = changes(&followers);
        let change_chart = Chart::daily(
            &format!("follower-change-{}", account.id),
            "Net follower change per day and over the last 7 days",
            "followers",
            &days,
            vec![
                Series {
                    label: "day".into(),
                    values: days
                        .iter()
                        .map(|d| daily_changes.iter().find(|(x, _)| x == d).and_then(|(_, v)| v.map(|v| v as f64)))
                        .collect(),
                    dashed: false,
                },
                Series {
                    label: "7 days".into(),
                    values: days
                        .iter()
                        .map(|d| on(*d).zip(on(*d - Days::new(7))).map(|(a, b)| (a - b) as f64))
                        .collect(),
                    dashed: true,
                },
            ],
            0,
        );

        let insights = reports::account_days(conn, account.id, period.first, period.last).await?;
        let value = |d: &NaiveDate, pick: fn(&reports::DayRow) -> Option<i64>| {
            insights.iter().find(|r| r.day == *d).and_then(pick).map(|v| v as f64)
        };
        let reach_chart = Chart::daily(
            &format!("reach-{}", account.id),
            "Account reach and views per day",
            "accounts / views",
            &days,
            vec![
                Series {
                    label: "reach".into(),
                    values: days.iter().map(|d| value(d, |r| r.reach)).collect(),
                    dashed: false,
                },
                Series {
                    label: "views".into(),
                    values: days.iter().map(|d| value(d, |r| r.views)).collect(),
                    dashed: false,
                },
            ],
            0,
        );
        let rate_chart = Chart::daily(
            &format!("rate-{}", account.id),
            &format!("Engagement rate of posts published each day ({})", definition.formula()),
            "%",
            &days,
            vec![Series {
                label: "median rate".into(),
                values: days
                    .iter()
                    .map(|d| {
                        median(
                            now_rows
                                .iter()
                                .filter(|r| r.posted_at.with_timezone(&tz).date_naive() == *d)
                                .filter_map(|r| r.rate(definition)),
                        )
                    })
                    .collect(),
                dashed: false,
            }],
            2,
        );

        let mut top: Vec<&PostRow> = now_rows.iter().copied().filter(|r| r.impact.is_some()).collect();
        top.sort_by_key(|r| std::cmp::Reverse(r.impact));
        let outcomes: Vec<Outcome> = now_rows.iter().map(|r| outcome(r, definition)).collect();
        let (token, token_warning) = token_expiry(account.token_expires_at, now);
        Ok(AccountPanel {
            id: account.id,
            username: account.username.clone(),
            health: format!("{} · last sync {} · token {}", account.status, when(account.last_synced_at), token),
            health_warning: token_warning || account.status != AccountStatus::Active,
            followers_now: count(points.last().map(|p| p.1).or(account.followers_count)),
            followers_change: signed(change(period)),
            followers_change_before: signed(change(&previous)),
            posts: now_rows.len(),
            posts_delta: signed(Some(now_rows.len() as i64 - before_rows.len() as i64)),
            median_rate: percent(rate_now),
            median_rate_delta: point_delta(rate_now.zip(rate_before).map(|(a, b)| a - b)),
            top: top.into_iter().take(5).map(|r| PostView::new(r, definition, tz)).collect(),
            formats: format_views(by_format(&outcomes)),
            charts: [follower_chart, change_chart, reach_chart, rate_chart]
                .into_iter()
                .map(|c| {
                    let href = format!("/export/chart.csv?chart={}&account={}&{}", c.id, account.id, period.query());
                    c.with_csv(href)
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_and_rates_read_with_their_sign() {
        assert_eq!(signed(Some(12)), "+12");
        assert_eq!(signed(Some(-3)), "−3");
        assert_eq!(signed(Some(0)), "0");
        assert_eq!(point_delta(Some(0.8)), "+0.80 pt");
        assert_eq!(point_delta(Some(-1.234)), "−1.23 pt");
        assert_eq!(percent(None), "–");
        assert_eq!(percent(Some(5.0)), "5.00 %");
    }
}
