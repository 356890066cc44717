//! Chart data for the pages: drawn in the browser by uPlot (`static/charts.js` reads the JSON
//! from a data attribute; no inline script), and always also given as a table of numbers.

use chrono::NaiveDate;
use serde::Serialize;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Line {
    /// What was measured: solid, broken where nothing was.
    Measured,
    /// The previous period beside this one: dashed, broken where nothing was.
    Comparison,
    /// A typical curve (medians at the checkpoints): dashed, with its points shown.
    Typical,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub label: String,
    /// `None` is a gap: not measured.
    pub values: Vec<Option<f64>>,
    pub line: Line,
    /// Where the series has no sample at all (a post's curve between its snapshots' ages, a
    /// typical curve between checkpoints): the line passes these x by, rather than breaking
    /// as it does where a figure was not measured; the table leaves the cell blank.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsampled: Vec<usize>,
}

impl Series {
    pub fn new(label: impl Into<String>, line: Line, values: Vec<Option<f64>>) -> Series {
        Series { label: label.into(), values, line, unsampled: Vec::new() }
    }

    pub fn with_unsampled(mut self, unsampled: Vec<usize>) -> Series {
        self.unsampled = unsampled;
        self
    }
}

/// How the table names a day that has not ended.
const SO_FAR: &str = " (so far)";

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    /// The y axis unit ("followers", "%", …).
    pub unit: String,
    /// `time` (x are unix seconds) or `hours` (x are hours of a post's age, with fractions).
    pub x_kind: &'static str,
    pub x: Vec<f64>,
    /// The index of the first x that is still counting (today): from it on, figures are
    /// partial, and the chart marks them so.
    pub partial_from: Option<usize>,
    pub series: Vec<Series>,
    /// How each x reads in the table.
    #[serde(skip)]
    pub x_labels: Vec<String>,
    /// How each x reads in the CSV (ISO dates, hours).
    #[serde(skip)]
    pub x_csv: Vec<String>,
    /// The CSV of exactly this chart's view.
    #[serde(skip)]
    pub csv_href: String,
    /// Decimals in the table.
    #[serde(skip)]
    pub decimals: usize,
}

impl Chart {
    /// A chart over days; days from `today` on have not ended, and are marked as partial.
    pub fn daily(
        id: &str,
        title: &str,
        unit: &str,
        days: &[NaiveDate],
        today: NaiveDate,
        series: Vec<Series>,
        decimals: usize,
    ) -> Chart {
        let x = days.iter().map(|d| d.and_hms_opt(12, 0, 0).map_or(0.0, |t| t.and_utc().timestamp() as f64)).collect();
        let label = |d: &NaiveDate| {
            let day = d.format("%a %-d %b").to_string();
            if *d >= today { day + SO_FAR } else { day }
        };
        Chart {
            id: id.to_owned(),
            title: title.to_owned(),
            unit: unit.to_owned(),
            x_kind: "time",
            x,
            partial_from: days.iter().position(|d| *d >= today),
            series,
            x_labels: days.iter().map(label).collect(),
            x_csv: days.iter().map(|d| d.to_string()).collect(),
            csv_href: String::new(),
            decimals,
        }
    }

    pub fn with_csv(mut self, href: String) -> Chart {
        self.csv_href = href;
        self
    }

    /// The CSV header: the x column, then each series; a daily chart ends with whether each
    /// day is over, so a partial figure is never read as a full day's.
    pub fn csv_header(&self) -> Vec<String> {
        let daily = self.x_kind == "time";
        let x = if daily { "day" } else { "age_hours" };
        std::iter::once(x.to_owned())
            .chain(self.series.iter().map(|s| s.label.replace(' ', "_")))
            .chain(daily.then(|| "day_complete".to_owned()))
            .collect()
    }

    /// CSV records; an empty cell is "not measured".
    pub fn csv_records(&self) -> Vec<Vec<String>> {
        let daily = self.x_kind == "time";
        self.x_csv
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let complete = self.partial_from.is_none_or(|from| i < from);
                std::iter::once(x.clone())
                    .chain(
                        self.series
                            .iter()
                            .map(|s| s.values.get(i).copied().flatten().map(|v| v.to_string()).unwrap_or_default()),
                    )
                    .chain(daily.then(|| if complete { "yes" } else { "no" }.to_owned()))
                    .collect()
            })
            .collect()
    }

    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    pub fn has_data(&self) -> bool {
        self.series.iter().any(|s| s.values.iter().any(Option::is_some))
    }

    /// Rows for the table of numbers: the x label, then each series' value, "–" where it was
    /// not measured, or nothing where the series has no sample.
    pub fn rows(&self) -> Vec<(String, Vec<String>)> {
        self.x_labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let cells = self
                    .series
                    .iter()
                    .map(|s| match s.values.get(i).copied().flatten() {
                        Some(v) => format!("{v:.prec$}", prec = self.decimals),
                        None if s.unsampled.contains(&i) => String::new(),
                        None => "–".to_owned(),
                    })
                    .collect();
                (label.clone(), cells)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daily_chart_marks_today_as_still_counting_in_the_table_and_the_csv() {
        let day = |n| NaiveDate::from_ymd_opt(2026, 12, n).unwrap();
        let days = [day(2), day(3), day(4)];
        let series = vec![Series::new("reach", Line::Measured, vec![Some(120.0), None, Some(15.0)])];
        let chart = Chart::daily("reach-1", "Reach", "accounts", &days, day(4), series, 0);
        assert_eq!(chart.partial_from, Some(2));
        let labels: Vec<String> = chart.rows().into_iter().map(|(label, _)| label).collect();
        assert_eq!(labels, ["Wed 2 Dec", "Thu 3 Dec", "Fri 4 Dec (so far)"]);
        assert_eq!(chart.csv_header(), ["day", "reach", "day_complete"]);
        let records = chart.csv_records();
        assert_eq!(records[1], ["2026-12-03", "", "yes"], "not measured stays empty, and the day is over");
        assert_eq!(records[2], ["2026-12-04", "15", "no"]);
        assert!(chart.json().contains("\"partial_from\":2"), "the browser marks it too");

        let past = Chart::daily("reach-1", "Reach", "accounts", &days, day(5), Vec::new(), 0);
        assert_eq!(past.partial_from, None, "a period that is over has no partial day");
    }
}
