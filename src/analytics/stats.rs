//! Medians and percentile ranks. Values that were not measured never get here.

/// The median, or `None` for no values. An even count takes the mean of the middle two.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut sorted: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) { (sorted[mid - 1] + sorted[mid]) / 2.0 } else { sorted[mid] })
}

/// 100 × (number below + half the number equal) ÷ size; `None` for an empty cohort.
pub fn percentile_rank(value: f64, cohort: &[f64]) -> Option<f64> {
    if cohort.is_empty() {
        return None;
    }
    let below = cohort.iter().filter(|c| **c < value).count() as f64;
    let equal = cohort.iter().filter(|c| **c == value).count() as f64;
    Some(100.0 * (below + 0.5 * equal) / cohort.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_follow_the_worked_examples() {
        assert_eq!(median([2.0, 4.0, 10.0]), Some(4.0));
        assert_eq!(median([2.0, 4.0]), Some(3.0));
        assert_eq!(median([7.0]), Some(7.0));
        assert_eq!(median(Vec::new()), None);
    }

    #[test]
    fn percentile_ranks_count_ties_as_half() {
        let reaches = [1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0];
        let rank = percentile_rank(3000.0, &reaches).unwrap();
        assert!((rank - 41.666).abs() < 0.01);
        assert_eq!(percentile_rank(9000.0, &reaches), Some(100.0));
        assert_eq!(percentile_rank(10.0, &reaches), Some(0.0));
        assert_eq!(percentile_rank(1.0, &[]), None);
    }
}
