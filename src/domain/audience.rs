//! Who follows an account, as Meta counts them: how many followers have each value of a
//! dimension (an age range, a gender, a country, a city, an hour online).

use chrono::NaiveDate;

use super::AudienceDimension;

/// How many followers have one value of a dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceFigure {
    pub dimension: AudienceDimension,
    /// The value (`25-34`, `F`, `GB`, `Falmouth, England`) or, for
    /// [`AudienceDimension::OnlineHour`], the UTC hour `0` to `23`.
    pub key: String,
    pub followers: i64,
}

/// The figures of one day's read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceRead {
    pub day: NaiveDate,
    pub figures: Vec<AudienceFigure>,
}

#[cfg(test)]
impl AudienceRead {
    /// A read of November 2026's day `day`, for the unit tests.
    pub fn sample(day: u32, figures: &[(AudienceDimension, &str, i64)]) -> AudienceRead {
        AudienceRead {
            day: NaiveDate::from_ymd_opt(2026, 11, day).expect("a November day"),
            figures: figures
                .iter()
                .map(|(dimension, key, followers)| AudienceFigure {
                    dimension: *dimension,
                    key: (*key).to_owned(),
                    followers: *followers,
                })
                .collect(),
        }
    }
}
