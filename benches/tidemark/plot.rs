//! The cost curve as a picture: `bench/run` measures each size (1, 10, 100 accounts) into one
//! row of `curve.tsv`; this draws those rows as small charts in one SVG for BENCHMARKS.md.
//!
//! Written here rather than with a plotting crate: six line charts over three points need a few
//! dozen lines of SVG, not a rendering stack in the benchmark's build.

use std::collections::BTreeMap;
use std::fmt::Write;

/// One size's figures, by the column names of `curve.tsv`. A figure that was not measured is
/// absent, and its chart leaves a gap.
pub type Row = BTreeMap<String, f64>;

/// Reads `curve.tsv`: a header of column names, then one row per size; `-` or an empty cell is
/// a figure not measured.
pub fn read(tsv: &str) -> Vec<Row> {
    let mut lines = tsv.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else { return Vec::new() };
    let names: Vec<&str> = header.split('\t').collect();
    lines
        .map(|line| {
            names
                .iter()
                .zip(line.split('\t'))
                .filter_map(|(name, cell)| cell.trim().parse::<f64>().ok().map(|v| (name.to_string(), v)))
                .collect()
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Scale {
    /// From zero: for figures compared with a bound (ratios, milliseconds, megabytes).
    Linear,
    /// Powers of ten: for figures that grow with the data by orders of magnitude.
    Log,
}

struct Series {
    label: &'static str,
    column: String,
    colour: &'static str,
}

struct Chart {
    title: &'static str,
    scale: Scale,
    series: Vec<Series>,
    /// A target drawn as a dashed line, with its label.
    target: Option<(f64, &'static str)>,
}

const PAGES: [(&str, &str, &str); 4] = [
    ("dashboard", "dashboard", "#1f5fa8"),
    ("account", "account", "#c2410c"),
    ("post", "post", "#15803d"),
    ("posts", "posts list", "#7e22ce"),
];

fn pages(suffix: &str) -> Vec<Series> {
    PAGES.iter().map(|(key, label, colour)| Series { label, column: format!("{key}_{suffix}"), colour }).collect()
}

fn one(label: &'static str, column: &str) -> Vec<Series> {
    vec![Series { label, column: column.to_string(), colour: "#1f5fa8" }]
}

fn charts() -> Vec<Chart> {
    vec![
        Chart {
            title: "Snapshots stored (MB, log scale)",
            scale: Scale::Log,
            series: one("post_snapshots", "storage_mb"),
            target: None,
        },
        Chart {
            title: "Sync cycle, 50 ms a call (s, log scale)",
            scale: Scale::Log,
            series: vec![
                Series { label: "first, every post due", column: "sync_s".into(), colour: "#1f5fa8" },
                Series { label: "next, none due", column: "sync_next_s".into(), colour: "#c2410c" },
            ],
            target: None,
        },
        Chart {
            title: "Pages: requests/s ÷ plain /healthz",
            scale: Scale::Linear,
            series: pages("ratio"),
            target: Some((0.25, "target 0.25")),
        },
        Chart {
            title: "Pages under load: p99 (ms)",
            scale: Scale::Linear,
            series: pages("p99_ms"),
            target: Some((10.0, "target 10 ms")),
        },
        Chart {
            title: "First request after a change (ms, log scale)",
            scale: Scale::Log,
            series: pages("cold_ms"),
            target: Some((30.0, "target 30 ms (10 accounts)")),
        },
        Chart {
            title: "Resident memory, peak under load (MB)",
            scale: Scale::Linear,
            series: one("peak", "rss_peak_mb"),
            target: Some((64.0, "target 64 MB")),
        },
    ]
}

const WIDTH: f64 = 330.0;
const HEIGHT: f64 = 230.0;
const COLUMNS: usize = 3;
/// Room inside a chart for its title (top), its y labels (left) and its x labels (bottom).
const TOP: f64 = 34.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 14.0;
const BOTTOM: f64 = 48.0;

/// The whole picture: one chart per figure, accounts on a log x axis.
pub fn svg(rows: &[Row]) -> String {
    let charts = charts();
    let lines = charts.len().div_ceil(COLUMNS);
    let (total_w, total_h) = (WIDTH * COLUMNS as f64, HEIGHT * lines as f64 + 24.0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" viewBox="0 0 {total_w} {total_h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let sizes: Vec<f64> = rows.iter().filter_map(|r| r.get("accounts").copied()).collect();
    let _ = writeln!(
        out,
        r##"<text x="8" y="{}" fill="#444">Each chart: accounts (log scale) across, one year of data each; a missing point is a figure not measured.</text>"##,
        total_h - 8.0
    );
    for (i, chart) in charts.iter().enumerate() {
        let (x0, y0) = (WIDTH * (i % COLUMNS) as f64, HEIGHT * (i / COLUMNS) as f64);
        draw(&mut out, chart, rows, &sizes, x0, y0);
    }
    out.push_str("</svg>\n");
    out
}

fn draw(out: &mut String, chart: &Chart, rows: &[Row], sizes: &[f64], x0: f64, y0: f64) {
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let (px, py) = (x0 + LEFT, y0 + TOP);
    let _ = writeln!(out, r#"<text x="{}" y="{}" font-weight="bold">{}</text>"#, x0 + 8.0, y0 + 18.0, chart.title);
    let values: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|s| rows.iter().filter_map(|r| r.get(&s.column).copied()))
        .chain(chart.target.map(|(v, _)| v))
        .filter(|v| v.is_finite() && (matches!(chart.scale, Scale::Linear) || *v > 0.0))
        .collect();
    let Some(max) = values.iter().copied().reduce(f64::max) else { return };
    let min = values.iter().copied().reduce(f64::min).unwrap_or(max);
    let y_of: Box<dyn Fn(f64) -> f64> = match chart.scale {
        Scale::Linear => {
            let top = nice_ceiling(max * 1.1);
            Box::new(move |v| py + plot_h * (1.0 - v / top))
        }
        Scale::Log => {
            let (lo, hi) = (min.log10().floor(), max.log10().ceil().max(min.log10().floor() + 1.0));
            Box::new(move |v| py + plot_h * (1.0 - (v.log10() - lo) / (hi - lo)))
        }
    };
    let (x_lo, x_hi) = (
        sizes.iter().copied().reduce(f64::min).unwrap_or(1.0).log10(),
        sizes.iter().copied().reduce(f64::max).unwrap_or(100.0).log10(),
    );
    let x_of = |accounts: f64| {
        let span = (x_hi - x_lo).max(1e-9);
        px + 10.0 + (plot_w - 20.0) * (accounts.log10() - x_lo) / span
    };
    // Frame, y ticks and x ticks.
    let _ =
        writeln!(out, r##"<rect x="{px}" y="{py}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#bbb"/>"##);
    for tick in y_ticks(chart.scale, min, max) {
        let y = y_of(tick);
        let _ = writeln!(
            out,
            r##"<line x1="{px}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end" fill="#444">{}</text>"##,
            px + plot_w,
            px - 4.0,
            y + 4.0,
            label(tick)
        );
    }
    for size in sizes {
        let x = x_of(*size);
        let _ = writeln!(
            out,
            r##"<text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#444">{}</text>"##,
            py + plot_h + 14.0,
            label(*size)
        );
    }
    if let Some((target, text)) = chart.target {
        let y = y_of(target);
        let _ = writeln!(
            out,
            r##"<line x1="{px}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#b91c1c" stroke-dasharray="4 3"/><text x="{}" y="{:.1}" text-anchor="end" fill="#b91c1c">{text}</text>"##,
            px + plot_w,
            px + plot_w - 2.0,
            y - 3.0
        );
    }
    // Each series: its points joined only between neighbouring measured sizes.
    for (n, series) in chart.series.iter().enumerate() {
        let points: Vec<Option<(f64, f64)>> =
            rows.iter().map(|r| Some((x_of(*r.get("accounts")?), y_of(*r.get(&series.column)?)))).collect();
        for pair in points.windows(2) {
            if let [Some((xa, ya)), Some((xb, yb))] = pair {
                let _ = writeln!(
                    out,
                    r#"<line x1="{xa:.1}" y1="{ya:.1}" x2="{xb:.1}" y2="{yb:.1}" stroke="{}" stroke-width="2"/>"#,
                    series.colour
                );
            }
        }
        for (x, y) in points.iter().flatten() {
            let _ = writeln!(out, r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{}"/>"#, series.colour);
        }
        if chart.series.len() > 1 {
            // Under the chart: two to a line when the labels are short, else one.
            let per_line = if chart.series.iter().all(|s| s.label.len() <= 12) { 2 } else { 1 };
            let (lx, ly) = (px + (n % per_line) as f64 * 130.0, py + plot_h + 28.0 + (n / per_line) as f64 * 13.0);
            let _ = writeln!(
                out,
                r#"<rect x="{lx:.1}" y="{:.1}" width="10" height="3" fill="{}"/><text x="{:.1}" y="{ly:.1}">{}</text>"#,
                ly - 4.0,
                series.colour,
                lx + 14.0,
                series.label
            );
        }
    }
}

/// A round number at or above `v` (1, 2 or 5 times a power of ten).
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|c| *c >= v).unwrap_or(10.0 * power)
}

fn y_ticks(scale: Scale, min: f64, max: f64) -> Vec<f64> {
    match scale {
        Scale::Linear => {
            let top = nice_ceiling(max * 1.1);
            (0..=4).map(|i| top * f64::from(i) / 4.0).collect()
        }
        Scale::Log => {
            let (lo, hi) = (min.log10().floor() as i32, max.log10().ceil().max(min.log10().floor() + 1.0) as i32);
            (lo..=hi).map(|e| 10f64.powi(e)).collect()
        }
    }
}

fn label(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v.abs() >= 1.0 && v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
