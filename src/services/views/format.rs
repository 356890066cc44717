//! How numbers and times read on the pages.

use chrono::{DateTime, Utc};

/// `12400` → `12,400`; a missing figure is a dash, never 0.
pub fn count(n: Option<i64>) -> String {
    let Some(n) = n else { return "–".to_owned() };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("−{out}") } else { out }
}

/// A moment, in UTC to the minute.
/// The start of a caption or comment on one line, at most `max` characters (an ellipsis marks a cut).
pub fn excerpt(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    format!("{}…", line.chars().take(max.saturating_sub(1)).collect::<String>())
}

pub fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "never".to_owned(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// A time in the operator's zone, named ("2026-11-30 19:08 CET"), for the pages.
pub fn when_in(at: Option<DateTime<Utc>>, tz: chrono_tz::Tz) -> String {
    at.map_or_else(|| "never".to_owned(), |t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
}

/// What the token's expiry means now, and whether it needs attention (a week or less).
pub fn token_expiry(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> (String, bool) {
    let Some(at) = expires_at else { return ("expiry unknown".to_owned(), false) };
    let left = at - now;
    if left.num_seconds() <= 0 {
        return (format!("expired on {}", at.format("%Y-%m-%d")), true);
    }
    let days = left.num_days();
    let text = match days {
        0 => format!("expires in {} hours", left.num_hours().max(1)),
        1 => "expires in 1 day".to_owned(),
        n => format!("expires in {n} days"),
    };
    (text, days < 7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators_and_missing_is_a_dash() {
        assert_eq!(count(Some(12_400)), "12,400");
        assert_eq!(count(Some(999)), "999");
        assert_eq!(count(Some(1_000_000)), "1,000,000");
        assert_eq!(count(Some(-4_500)), "−4,500");
        assert_eq!(count(Some(0)), "0");
        assert_eq!(count(None), "–");
    }

    #[test]
    fn token_expiry_warns_within_a_week() {
        let now = Utc::now();
        assert_eq!(token_expiry(Some(now + chrono::Duration::days(30)), now), ("expires in 30 days".into(), false));
        assert!(token_expiry(Some(now + chrono::Duration::days(3)), now).1);
        assert!(token_expiry(Some(now - chrono::Duration::days(1)), now).0.starts_with("expired"));
        assert_eq!(token_expiry(None, now), ("expiry unknown".into(), false));
    }
}
