//! A post's curves by age (reach, interactions) beside the account's typical curve for its
//! format: the median of the account's posts at each checkpoint age.

use chrono::{DateTime, Utc};

use super::Format;
use super::charts::{Chart, Line, Series};
use super::impact::{CHECKPOINT_HOURS, checkpoint_label};
use super::stats::median;

/// One snapshot's figures on a curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurvePoint {
    pub at: DateTime<Utc>,
    pub reach: Option<i64>,
    pub interactions: Option<i64>,
}

/// One earlier post's figures at a checkpoint: (checkpoint hours, reach, interactions).
pub type CheckpointPoint = (i32, Option<i64>, Option<i64>);

/// The typical post of one format at one checkpoint: the medians of the earlier posts' reach
/// and interactions there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TypicalPoint {
    pub format: Format,
    pub hours: i32,
    pub reach: Option<f64>,
    pub interactions: Option<f64>,
}

/// Each format's typical post at each checkpoint, from the checkpoint values of an account's
/// posts: a few dozen points however many posts, which is what a post page draws from (and
/// what is kept per account: at 100 accounts the values themselves were ten thousand rows an
/// account).
pub fn typical_points(points: &[(Format, CheckpointPoint)]) -> Vec<TypicalPoint> {
    let mut keys: Vec<(Format, i32)> = Vec::new();
    for (format, point) in points {
        if !keys.contains(&(*format, point.0)) {
            keys.push((*format, point.0));
        }
    }
    keys.into_iter()
        .map(|(format, hours)| {
            let at = || points.iter().filter(move |(f, p)| *f == format && p.0 == hours).map(|(_, p)| p);
            TypicalPoint {
                format,
                hours,
                reach: median(at().filter_map(|p| p.1).map(|v| v as f64)),
                interactions: median(at().filter_map(|p| p.2).map(|v| v as f64)),
            }
        })
        .collect()
}

/// A post's age at `at`, in hours (never negative).
pub fn age_hours(posted_at: DateTime<Utc>, at: DateTime<Utc>) -> f64 {
    ((at - posted_at).num_minutes() as f64 / 60.0).max(0.0)
}

/// An age as the pages read it: a checkpoint's own name, hours under three days, else days.
pub fn age_label(hours: f64) -> String {
    let whole = hours.round() as i64;
    if CHECKPOINT_HOURS.contains(&whole) && (hours - whole as f64).abs() < 0.01 {
        return checkpoint_label(whole);
    }
    if hours < 72.0 { format!("{hours:.1} h") } else { format!("{:.1} d", hours / 24.0) }
}

/// The reach and interactions charts of a post published at `posted_at`. The x axis holds
/// the age of every snapshot and the checkpoints up to half again the post's age.
pub fn post_curves(
    posted_at: DateTime<Utc>,
    format: Format,
    snapshots: &[CurvePoint],
    typical: &[TypicalPoint],
) -> Vec<Chart> {
    let age = |at: DateTime<Utc>| age_hours(posted_at, at);
    let mut xs: Vec<f64> = snapshots.iter().map(|s| age(s.at)).collect();
    let horizon = xs.last().copied().unwrap_or(0.0);
    xs.extend(CHECKPOINT_HOURS.into_iter().filter(|c| (*c as f64) <= horizon.max(1.0) * 1.5).map(|c| c as f64));
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let snapshot_at = |x: f64| snapshots.iter().find(|s| age(s.at) == x);
    let checkpoint_at = |x: f64| {
        let hours = x as i32;
        ((hours as f64) == x && CHECKPOINT_HOURS.contains(&i64::from(hours))).then_some(hours)
    };
    // Each curve has samples at some ages only: the others it passes by.
    let unsampled = |sampled: &dyn Fn(f64) -> bool| -> Vec<usize> {
        xs.iter().enumerate().filter(|(_, x)| !sampled(**x)).map(|(i, _)| i).collect()
    };
    let own_unsampled = unsampled(&|x| snapshot_at(x).is_some());
    let typical_unsampled = unsampled(&|x| checkpoint_at(x).is_some());
    let own = |pick: fn(&CurvePoint) -> Option<i64>| -> Vec<Option<f64>> {
        xs.iter().map(|x| snapshot_at(*x).and_then(pick).map(|v| v as f64)).collect()
    };
    let median_at = |pick: fn(&TypicalPoint) -> Option<f64>| -> Vec<Option<f64>> {
        xs.iter()
            .map(|x| {
                let hours = checkpoint_at(*x)?;
                typical.iter().find(|t| t.format == format && t.hours == hours).and_then(pick)
            })
            .collect()
    };
    let chart = |id: &str, title: &str, unit: &str, mine: Vec<Option<f64>>, usual: Vec<Option<f64>>| Chart {
        id: id.to_owned(),
        title: title.to_owned(),
        unit: unit.to_owned(),
        x_kind: "hours",
        // Ages at their own resolution (a snapshot at 2 h 30 min sits at 2.5), as in the CSV.
        x: xs.clone(),
        partial_from: None,
        series: vec![
            Series::new("this post", Line::Measured, mine).with_unsampled(own_unsampled.clone()),
            Series::new(format!("typical {}", format.to_string().to_lowercase()), Line::Typical, usual)
                .with_unsampled(typical_unsampled.clone()),
        ],
        x_labels: xs.iter().map(|x| age_label(*x)).collect(),
        x_csv: xs.iter().map(|x| format!("{x:.2}")).collect(),
        csv_href: String::new(),
        decimals: 0,
    };
    vec![
        chart("post-reach", "Reach by age", "accounts", own(|s| s.reach), median_at(|t| t.reach)),
        chart(
            "post-interactions",
            "Interactions by age",
            "interactions",
            own(|s| s.interactions),
            median_at(|t| t.interactions),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn the_curves_put_the_post_beside_the_median_of_earlier_posts_at_each_checkpoint() {
        let posted = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let snapshots = [
            CurvePoint { at: posted + Duration::hours(1), reach: Some(10), interactions: Some(1) },
            CurvePoint { at: posted + Duration::minutes(150), reach: Some(25), interactions: None },
        ];
        // A Reel's checkpoints are not an image's typical post.
        let typical = typical_points(&[
            (Format::Image, (1, Some(8), Some(2))),
            (Format::Image, (1, Some(12), Some(4))),
            (Format::Reel, (1, Some(900), Some(90))),
            (Format::Image, (3, Some(30), Some(5))),
        ]);
        let charts = post_curves(posted, Format::Image, &snapshots, &typical);
        let reach = &charts[0];
        // Ages: 1 h, 2.5 h and the 3 h checkpoint (within 1.5 × 2.5 h).
        assert_eq!(reach.x_csv, ["1.00", "2.50", "3.00"]);
        assert_eq!(reach.series[0].values, [Some(10.0), Some(25.0), None]);
        assert_eq!(reach.series[1].values, [Some(10.0), None, Some(30.0)], "median at checkpoints only");
        assert_eq!(charts[1].series[0].values, [Some(1.0), None, None], "not measured stays a gap");
        assert_eq!(reach.series[1].label, "typical image");
        assert_eq!(reach.series[0].unsampled, [2], "no snapshot at the 3 h checkpoint: passed by, not a gap");
        assert_eq!(reach.series[1].unsampled, [1], "no median at 2.5 h, which is no checkpoint");
        assert_eq!(reach.rows()[2].1, ["", "30"], "the table leaves what was never sampled blank");
        assert_eq!(charts[1].rows()[1].1, ["–", ""], "and says – where a figure was not measured");
        assert_eq!(reach.x, [1.0, 2.5, 3.0], "ages at their own resolution, as in the CSV");
    }

    #[test]
    fn ages_read_as_checkpoints_hours_or_days() {
        assert_eq!(age_label(24.0), checkpoint_label(24));
        assert_eq!(age_label(2.5), "2.5 h");
        assert_eq!(age_label(100.0), "4.2 d");
    }
}
