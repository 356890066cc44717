//! The impact score: a post against the same account's earlier posts of the same format at
//! the same age (`docs/metrics.md`, Impact score).

use chrono::Duration;

use super::stats::percentile_rank;

/// Ages at which posts are compared.
pub const CHECKPOINT_HOURS: [i64; 10] = [1, 3, 6, 12, 24, 48, 72, 168, 336, 720];
/// Fewer earlier posts than this give "not enough history".
pub const MIN_COHORT: usize = 5;

/// The checkpoints a snapshot taken at `age` may stand for: `c ≤ age < 1.5 c`.
pub fn checkpoints_at(age: Duration) -> impl Iterator<Item = i64> {
    let minutes = age.num_minutes();
    CHECKPOINT_HOURS.into_iter().filter(move |c| c * 60 <= minutes && minutes * 2 < c * 60 * 3)
}

/// "48 h", "3 d".
pub fn checkpoint_label(hours: i64) -> String {
    if hours < 72 { format!("{hours} h") } else { format!("{} d", hours / 24) }
}

/// A post's figures at one checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AtCheckpoint {
    pub reach: Option<i64>,
    pub interactions: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Impact {
    Score {
        score: u8,
        cohort: usize,
        checkpoint_hours: i64,
    },
    NotEnoughHistory {
        cohort: usize,
        checkpoint_hours: i64,
    },
    /// Neither reach nor interactions were measured at the checkpoint (or no checkpoint yet).
    Unmeasured,
}

impl Impact {
    pub fn score(&self) -> Option<u8> {
        match self {
            Impact::Score { score, .. } => Some(*score),
            _ => None,
        }
    }
}

/// Scores `post` against `cohort` (earlier posts, same account and format, at `checkpoint_hours`).
pub fn impact(post: AtCheckpoint, cohort: &[AtCheckpoint], checkpoint_hours: i64) -> Impact {
    if post.reach.is_none() && post.interactions.is_none() {
        return Impact::Unmeasured;
    }
    if cohort.len() < MIN_COHORT {
        return Impact::NotEnoughHistory { cohort: cohort.len(), checkpoint_hours };
    }
    let rank = |value: Option<i64>, pick: fn(&AtCheckpoint) -> Option<i64>| {
        let others: Vec<f64> = cohort.iter().filter_map(pick).map(|v| v as f64).collect();
        value.and_then(|v| percentile_rank(v as f64, &others))
    };
    let parts: Vec<f64> =
        [rank(post.reach, |c| c.reach), rank(post.interactions, |c| c.interactions)].into_iter().flatten().collect();
    if parts.is_empty() {
        return Impact::Unmeasured;
    }
    let mean = parts.iter().sum::<f64>() / parts.len() as f64;
    Impact::Score { score: mean.round().clamp(0.0, 100.0) as u8, cohort: cohort.len(), checkpoint_hours }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(reach: i64, interactions: i64) -> AtCheckpoint {
        AtCheckpoint { reach: Some(reach), interactions: Some(interactions) }
    }

    #[test]
    fn the_worked_example_scores_54_against_six_reels() {
        let cohort = [at(1000, 50), at(2000, 100), at(3000, 120), at(4000, 140), at(5000, 160), at(6000, 200)];
        assert_eq!(impact(at(3000, 150), &cohort, 48), Impact::Score { score: 54, cohort: 6, checkpoint_hours: 48 });
    }

    #[test]
    fn four_earlier_posts_are_not_enough_history() {
        let cohort = [at(1, 1), at(2, 2), at(3, 3), at(4, 4)];
        assert_eq!(impact(at(3, 3), &cohort, 24), Impact::NotEnoughHistory { cohort: 4, checkpoint_hours: 24 });
    }

    #[test]
    fn one_measured_figure_scores_alone_and_none_gives_no_score() {
        let cohort = [at(1, 1), at(2, 2), at(3, 3), at(4, 4), at(5, 5)];
        let reach_only = AtCheckpoint { reach: Some(6), interactions: None };
        assert_eq!(impact(reach_only, &cohort, 6).score(), Some(100));
        assert_eq!(impact(AtCheckpoint::default(), &cohort, 6), Impact::Unmeasured);
    }

    #[test]
    fn a_snapshot_stands_for_a_checkpoint_only_until_one_and_a_half_times_its_age() {
        assert_eq!(checkpoints_at(Duration::minutes(65)).collect::<Vec<_>>(), vec![1]);
        assert_eq!(checkpoints_at(Duration::minutes(95)).count(), 0, "too late for 1 h, too early for 3 h");
        assert_eq!(checkpoints_at(Duration::hours(50)).collect::<Vec<_>>(), vec![48]);
        assert_eq!(checkpoints_at(Duration::days(8)).collect::<Vec<_>>(), vec![168]);
        assert_eq!(checkpoint_label(48), "48 h");
        assert_eq!(checkpoint_label(168), "7 d");
    }
}
