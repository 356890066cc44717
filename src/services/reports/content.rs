//! What a report says, as text ready to print: made once from the same view models the pages
//! show, then kept as JSON beside its PDF, so a report opened again months later reads as it
//! was sent even after the history behind it changed or was purged.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::analytics::charts::{Chart, Line, Series};
use crate::analytics::groups::Summary;
use crate::domain::Cadence;
use crate::services::views::models::{AccountPanel, GroupView, PostView, percent};
use crate::services::views::overview::{FigureCard, OverviewView};

/// Bumped when the shape changes in a way older reports cannot be read as.
pub const CONTENT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportContent {
    pub version: u32,
    /// "Weekly report for @north.loaf".
    pub title: String,
    /// "@north.loaf", or "All 3 accounts".
    pub scope: String,
    pub cadence: Cadence,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// "30 Nov 2026 – 6 Dec 2026".
    pub period: String,
    /// The period the changes are measured against.
    pub compared_with: String,
    pub time_zone: String,
    /// When it was made, in its time zone.
    pub made_at: String,
    /// The engagement rate's formula in words.
    pub definition: String,
    pub cards: Vec<Card>,
    /// What the comparison leaves out.
    pub notes: Vec<String>,
    pub charts: Vec<DailyChart>,
    /// Each account's line, when the report covers several.
    pub accounts: Vec<AccountLine>,
    pub top: Vec<TopPost>,
    pub formats: Vec<FormatLine>,
    pub slots: Vec<SlotLine>,
    /// What the best slots were ranked from.
    pub slots_basis: String,
}

/// A headline figure with its change and what it is compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub label: String,
    pub value: String,
    /// "+12.3 %", "−0.40 pt", or empty.
    pub change: String,
    /// "up", "down", "no change" or empty.
    pub direction: String,
    pub context: String,
}

impl Card {
    fn new(card: &FigureCard) -> Card {
        Card {
            label: card.label.to_owned(),
            value: card.value.clone(),
            change: card.change.clone(),
            direction: card.direction.words().to_owned(),
            context: card.context.clone(),
        }
    }

    /// "▲", "▼", "▶" or nothing: the change's arrow (beside its words, never alone).
    pub fn arrow(&self) -> &'static str {
        match self.direction.as_str() {
            "up" => "▲",
            "down" => "▼",
            "no change" => "▶",
            _ => "",
        }
    }
}

/// A chart over the days of the period: `None` is a day not measured (a gap, never a zero).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyChart {
    pub title: String,
    pub unit: String,
    pub days: Vec<NaiveDate>,
    pub series: Vec<DailySeries>,
    /// From this day on the figures were still counting when the report was made.
    pub partial_from: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailySeries {
    pub label: String,
    pub values: Vec<Option<f64>>,
    /// Drawn dashed: the previous period beside this one.
    pub comparison: bool,
}

impl DailyChart {
    /// A page's daily chart as the report keeps it; `None` for charts not over days.
    pub fn from_chart(chart: &Chart) -> Option<DailyChart> {
        if chart.x_kind != "time" {
            return None;
        }
        let days = chart
            .x_csv
            .iter()
            .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .collect::<Option<Vec<NaiveDate>>>()?;
        Some(DailyChart {
            title: chart.title.clone(),
            unit: chart.unit.clone(),
            days,
            series: chart
                .series
                .iter()
                .map(|s| DailySeries {
                    label: s.label.clone(),
                    values: s.values.clone(),
                    comparison: s.line != Line::Measured,
                })
                .collect(),
            partial_from: chart.partial_from,
        })
    }

    /// The chart as the pages draw it (uPlot and its table of numbers); `id` must be unique
    /// on the page.
    pub fn to_chart(&self, id: &str) -> Chart {
        let today = self.partial_from.and_then(|i| self.days.get(i).copied()).unwrap_or(NaiveDate::MAX);
        let series = self
            .series
            .iter()
            .map(|s| {
                let line = if s.comparison { Line::Comparison } else { Line::Measured };
                Series::new(s.label.clone(), line, s.values.clone())
            })
            .collect();
        Chart::daily(id, &self.title, &self.unit, &self.days, today, series, 0)
    }

    pub fn has_data(&self) -> bool {
        self.series.iter().any(|s| s.values.iter().any(Option::is_some))
    }
}

/// One account of several: its own headline figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountLine {
    pub username: String,
    pub followers: String,
    pub followers_change: String,
    pub reach: String,
    pub reach_change: String,
    pub posts: String,
    pub rate: String,
}

impl AccountLine {
    fn new(panel: &AccountPanel) -> AccountLine {
        let card = |label: &str| panel.overview.cards.iter().find(|c| c.label == label);
        let value = |label: &str| card(label).map(|c| c.value.clone()).unwrap_or_default();
        let change = |label: &str| card(label).map(|c| c.change.clone()).unwrap_or_default();
        AccountLine {
            username: panel.username.clone(),
            followers: value("followers"),
            followers_change: change("followers"),
            reach: value("accounts reached"),
            reach_change: change("accounts reached"),
            posts: value("posts published"),
            rate: value("median engagement rate"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopPost {
    pub post_id: i64,
    pub username: String,
    pub format: String,
    pub posted: String,
    pub caption: String,
    pub reach: String,
    pub rate: String,
    pub impact: String,
    pub impact_note: String,
    /// Whether a small copy of its picture was kept when the report was made.
    pub picture: bool,
}

impl TopPost {
    fn new(post: &PostView) -> TopPost {
        TopPost {
            post_id: post.id.0,
            username: post.username.clone(),
            format: post.format.to_string(),
            posted: post.posted.clone(),
            caption: post.caption.clone(),
            reach: post.reach.clone(),
            rate: post.rate.clone(),
            impact: post.impact.clone(),
            impact_note: post.impact_note.clone(),
            picture: post.picture,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatLine {
    pub format: String,
    pub posts: usize,
    pub median_rate: String,
    pub median_reach: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotLine {
    /// "Tuesday, 18:00–19:00".
    pub when: String,
    pub median_rate: String,
    pub posts: usize,
}

impl SlotLine {
    /// A weekday (0 = Monday) and hour cell of the best-time grid.
    pub fn new(weekday: u32, hour: u32, summary: &Summary) -> SlotLine {
        const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
        SlotLine {
            when: format!("{}, {hour:02}:00–{:02}:00", DAYS[weekday as usize % 7], (hour + 1) % 24),
            median_rate: percent(summary.median_rate),
            posts: summary.posts,
        }
    }
}

/// Everything a report is made from, besides the panel(s).
pub struct Frame {
    pub cadence: Cadence,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub period: String,
    pub compared_with: String,
    pub time_zone: String,
    pub made_at: String,
    pub definition: String,
    pub slots: Vec<SlotLine>,
    pub slots_basis: String,
}

/// Posts listed as the best of the period.
pub const TOP_POSTS: usize = 5;

impl ReportContent {
    /// One account's report: its page's cards, charts, best posts and formats.
    pub fn for_account(frame: Frame, panel: &AccountPanel) -> ReportContent {
        let scope = format!("@{}", panel.username);
        let mut charts: Vec<DailyChart> = std::iter::once(&panel.overview.chart)
            .chain(panel.charts.iter())
            .filter_map(DailyChart::from_chart)
            .collect();
        charts.truncate(4);
        let formats = panel.formats.iter().map(format_line).collect();
        ReportContent::assemble(frame, scope, &panel.overview, charts, Vec::new(), &panel.top, formats)
    }

    /// Every account's report: the dashboard's combined cards and chart, then each account.
    pub fn for_all(
        frame: Frame,
        overview: &OverviewView,
        panels: &[std::sync::Arc<AccountPanel>],
        top: &[PostView],
        formats: Vec<GroupView<crate::analytics::Format>>,
    ) -> ReportContent {
        let scope = match panels.len() {
            1 => "the one account".to_owned(),
            n => format!("all {n} accounts"),
        };
        let charts = DailyChart::from_chart(&overview.chart).into_iter().collect();
        let accounts = panels.iter().map(|p| AccountLine::new(p)).collect();
        let formats = formats.iter().map(format_line).collect();
        ReportContent::assemble(frame, scope, overview, charts, accounts, top, formats)
    }

    fn assemble(
        frame: Frame,
        scope: String,
        overview: &OverviewView,
        charts: Vec<DailyChart>,
        accounts: Vec<AccountLine>,
        top: &[PostView],
        formats: Vec<FormatLine>,
    ) -> ReportContent {
        let kind = match frame.cadence {
            Cadence::Weekly => "Weekly",
            Cadence::Monthly => "Monthly",
        };
        ReportContent {
            version: CONTENT_VERSION,
            title: format!("{kind} report for {scope}"),
            scope,
            cadence: frame.cadence,
            first_day: frame.first_day,
            last_day: frame.last_day,
            period: frame.period,
            compared_with: frame.compared_with,
            time_zone: frame.time_zone,
            made_at: frame.made_at,
            definition: frame.definition,
            cards: overview.cards.iter().map(Card::new).collect(),
            notes: overview.notes.clone(),
            charts,
            accounts,
            top: top.iter().take(TOP_POSTS).map(TopPost::new).collect(),
            formats,
            slots: frame.slots,
            slots_basis: frame.slots_basis,
        }
    }

    /// The file name of its PDF: "tidemark-weekly-north.loaf-2026-11-30.pdf".
    pub fn file_name(&self) -> String {
        let scope: String = self
            .scope
            .trim_start_matches('@')
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '_' { c } else { '-' })
            .collect();
        format!("tidemark-{}-{}-{}.pdf", self.cadence.as_str(), scope.to_lowercase(), self.first_day)
    }
}

fn format_line(group: &GroupView<crate::analytics::Format>) -> FormatLine {
    FormatLine {
        format: group.key.to_string(),
        posts: group.posts,
        median_rate: group.median_rate.clone(),
        median_reach: group.median_reach.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daily_chart_keeps_its_gaps_and_partial_days_through_storage() {
        let day = |n| NaiveDate::from_ymd_opt(2026, 11, n).unwrap();
        let days = [day(28), day(29), day(30)];
        let series = vec![
            Series::new("this period", Line::Measured, vec![Some(10.0), None, Some(4.0)]),
            Series::new("previous period", Line::Comparison, vec![Some(8.0), Some(9.0), None]),
        ];
        let chart = Chart::daily("c", "Reach", "accounts", &days, day(30), series, 0);
        let kept = DailyChart::from_chart(&chart).unwrap();
        assert_eq!(kept.partial_from, Some(2));
        assert_eq!(kept.series[0].values[1], None, "a day not measured stays a gap");
        assert!(kept.series[1].comparison);
        let json = serde_json::to_string(&kept).unwrap();
        let back: DailyChart = serde_json::from_str(&json).unwrap();
        assert_eq!(back, kept);
        let drawn = back.to_chart("r");
        assert_eq!(drawn.partial_from, Some(2));
        assert_eq!(drawn.rows()[1].1, ["–", "9"]);
    }

    #[test]
    fn a_slot_names_its_day_and_hour() {
        let summary = Summary { posts: 4, median_rate: Some(5.5), median_reach: None };
        let slot = SlotLine::new(1, 18, &summary);
        assert_eq!(slot.when, "Tuesday, 18:00–19:00");
        assert_eq!(slot.median_rate, "5.50 %");
        assert_eq!(SlotLine::new(6, 23, &summary).when, "Sunday, 23:00–00:00");
    }
}
