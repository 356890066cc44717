//! Chart data for the pages: drawn in the browser by uPlot (`static/charts.js` reads the JSON
//! from a data attribute; no inline script), and always also given as a table of numbers.

use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub label: String,
    /// `None` is a gap: not measured.
    pub values: Vec<Option<f64>>,
    /// Drawn dashed (a comparison, a typical curve).
    pub dashed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    /// The y axis unit ("followers", "%", …).
    pub unit: String,
    /// `time` (x are unix seconds) or `hours` (x are hours of a post's age).
    pub x_kind: &'static str,
    pub x: Vec<i64>,
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
    /// A chart over days.
    pub fn daily(id: &str, title: &str, unit: &str, days: &[NaiveDate], series: Vec<Series>, decimals: usize) -> Chart {
        let x = days.iter().map(|d| d.and_hms_opt(12, 0, 0).map_or(0, |t| t.and_utc().timestamp())).collect();
        Chart {
            id: id.to_owned(),
            title: title.to_owned(),
            unit: unit.to_owned(),
            x_kind: "time",
            x,
            series,
            x_labels: days.iter().map(|d| d.format("%a %-d %b").to_string()).collect(),
            x_csv: days.iter().map(|d| d.to_string()).collect(),
            csv_href: String::new(),
            decimals,
        }
    }

    pub fn with_csv(mut self, href: String) -> Chart {
        self.csv_href = href;
        self
    }

    /// The CSV header: the x column, then each series.
    pub fn csv_header(&self) -> Vec<String> {
        let x = if self.x_kind == "hours" { "age_hours" } else { "day" };
        std::iter::once(x.to_owned()).chain(self.series.iter().map(|s| s.label.replace(' ', "_"))).collect()
    }

    /// CSV records; an empty cell is "not measured".
    pub fn csv_records(&self) -> Vec<Vec<String>> {
        self.x_csv
            .iter()
            .enumerate()
            .map(|(i, x)| {
                std::iter::once(x.clone())
                    .chain(
                        self.series
                            .iter()
                            .map(|s| s.values.get(i).copied().flatten().map(|v| v.to_string()).unwrap_or_default()),
                    )
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

    /// Rows for the table of numbers: the x label, then each series' value or "–".
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
                        None => "–".to_owned(),
                    })
                    .collect();
                (label.clone(), cells)
            })
            .collect()
    }
}
