//! What has worked: hashtags and weekday-hour slots, by median engagement.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiQuery, ReadProblems, TokenProblems, read};
use crate::analytics::groups::{self, Outcome, Placement, Summary};
use crate::db::reports::PostFilter;
use crate::domain::AccountId;
use crate::error::Problem;
use crate::services::Views;
use crate::services::views::Basis;

const DEFAULT_DAYS: i64 = 90;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InsightsQuery {
    /// Only this account's posts.
    pub account: Option<i64>,
    /// Posts published at or after this time (RFC 3339); 90 days before `until` by default.
    pub from: Option<DateTime<Utc>>,
    /// Posts published before this time (RFC 3339); now by default.
    pub until: Option<DateTime<Utc>>,
}

impl InsightsQuery {
    fn filter(&self, basis: &Basis) -> Result<PostFilter, Problem> {
        let until = self.until.unwrap_or(basis.now);
        let from = match self.from {
            Some(from) => from,
            // Checked: RFC 3339 years stop at 0000, yet a bad default must never panic.
            None => until
                .checked_sub_signed(Duration::days(DEFAULT_DAYS))
                .ok_or_else(|| Problem::bad_request("`until` is outside the range this API serves."))?,
        };
        if from >= until {
            return Err(Problem::bad_request("`from` is not before `until`."));
        }
        Ok(PostFilter {
            account: self.account.map(AccountId),
            from: Some(from),
            until: Some(until),
            definition: basis.definition(),
            ..PostFilter::default()
        })
    }
}

/// A group of posts: how many, and their medians.
#[derive(Serialize, ToSchema)]
pub struct GroupFigures {
    pub posts: usize,
    /// Median engagement rate of the posts that have one, in percent, by the operator's
    /// definition.
    pub median_engagement_rate: Option<f64>,
    pub median_reach: Option<f64>,
}

impl From<&Summary> for GroupFigures {
    fn from(summary: &Summary) -> Self {
        GroupFigures {
            posts: summary.posts,
            median_engagement_rate: summary.median_rate,
            median_reach: summary.median_reach,
        }
    }
}

/// A hashtag and the posts that carried it.
#[derive(Serialize, ToSchema)]
pub struct HashtagRecord {
    pub tag: String,
    /// Ranked once it is on 3 posts; rarer tags are listed after, unranked.
    pub ranked: bool,
    #[serde(flatten)]
    pub figures: GroupFigures,
}

/// Hashtags of the period's posts: ranked ones best median engagement first, then the rarer.
#[utoipa::path(
    get,
    path = "/api/v1/hashtags",
    tag = "insights",
    params(InsightsQuery),
    responses((status = 200, body = Vec<HashtagRecord>), ReadProblems, TokenProblems)
)]
pub async fn hashtags(
    req: HttpRequest,
    query: ApiQuery<InsightsQuery>,
    views: web::Data<Views>,
) -> Result<HttpResponse, Problem> {
    read(&req, &views, async |basis| {
        let outcomes = views.outcomes(basis, &query.0.filter(basis)?).await?;
        let (ranked, rare) = groups::hashtags(&outcomes);
        let record = |ranked: bool| {
            move |(tag, summary): &(String, Summary)| HashtagRecord {
                tag: tag.clone(),
                ranked,
                figures: GroupFigures::from(summary),
            }
        };
        Ok(ranked.iter().map(record(true)).chain(rare.iter().map(record(false))).collect::<Vec<_>>())
    })
    .await
}

/// One weekday and hour, in the operator's time zone.
#[derive(Serialize, ToSchema)]
pub struct SlotRecord {
    /// 0 is Monday, 6 Sunday.
    pub weekday: u32,
    /// 0 to 23.
    pub hour: u32,
    /// 1 to 3 for the three best slots; `null` otherwise.
    pub rank: Option<usize>,
    /// Whether it rests on enough posts (2) to be ranked.
    pub ranked: bool,
    #[serde(flatten)]
    pub figures: GroupFigures,
}

/// The weekday-hour slots of one placement.
#[derive(Serialize, ToSchema)]
pub struct PlacementRecord {
    /// `feed_and_reels` or `stories` (as in the best-time CSV).
    pub placement: String,
    /// The slots that had posts, Monday 0:00 first.
    pub slots: Vec<SlotRecord>,
}

/// When the period's posts did best.
#[derive(Serialize, ToSchema)]
pub struct BestTime {
    /// The IANA time zone of the weekdays and hours (the operator's, from Settings).
    pub time_zone: String,
    pub placements: Vec<PlacementRecord>,
}

/// When posts did best, by weekday and hour, for feed posts and Reels and for Stories apart.
#[utoipa::path(
    get,
    path = "/api/v1/best-time",
    tag = "insights",
    params(InsightsQuery),
    responses((status = 200, body = BestTime), ReadProblems, TokenProblems)
)]
pub async fn best_time(
    req: HttpRequest,
    query: ApiQuery<InsightsQuery>,
    views: web::Data<Views>,
) -> Result<HttpResponse, Problem> {
    read(&req, &views, async |basis| {
        let outcomes = views.outcomes(basis, &query.0.filter(basis)?).await?;
        let placements =
            Placement::ALL.into_iter().map(|placement| placement_record(&outcomes, placement, basis)).collect();
        Ok(BestTime { time_zone: basis.tz().name().to_owned(), placements })
    })
    .await
}

/// The slots of one placement, the best three ranked.
fn placement_record(outcomes: &[Outcome], placement: Placement, basis: &Basis) -> PlacementRecord {
    let cells = groups::best_time(outcomes, basis.tz(), placement);
    let best: Vec<(u32, u32)> =
        groups::ranked_cells(&cells).iter().take(groups::BEST_SLOTS).map(|(cell, _)| *cell).collect();
    let slots = cells
        .iter()
        .map(|(&(weekday, hour), summary)| SlotRecord {
            weekday,
            hour,
            rank: best.iter().position(|cell| *cell == (weekday, hour)).map(|i| i + 1),
            ranked: summary.posts >= groups::MIN_CELL_POSTS,
            figures: GroupFigures::from(summary),
        })
        .collect();
    PlacementRecord { placement: placement.key().to_owned(), slots }
}
