//! Posts: filtered and sorted as on the pages, in cursor pages; one post with its snapshots.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiId, ApiQuery, NotFound, ReadProblems, TokenProblems, read, read_cursor, write_cursor};
use crate::analytics::{EngagementDefinition, Format};
use crate::db::reports::{After, PostFilter, PostRow, SnapshotRow, Sort};
use crate::domain::{AccountId, PostId};
use crate::error::Problem;
use crate::services::Views;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;
/// A caption search longer than this is refused (the pages cut it at the same length).
const MAX_SEARCH_CHARS: usize = 100;

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortParam {
    #[default]
    Newest,
    Oldest,
    Impact,
    Rate,
    Reach,
    Views,
}

impl SortParam {
    fn sort(self) -> Sort {
        match self {
            SortParam::Newest => Sort::Newest,
            SortParam::Oldest => Sort::Oldest,
            SortParam::Impact => Sort::Impact,
            SortParam::Rate => Sort::Rate,
            SortParam::Reach => Sort::Reach,
            SortParam::Views => Sort::Views,
        }
    }
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FormatParam {
    Image,
    Carousel,
    Video,
    Reel,
    Story,
}

impl FormatParam {
    fn format(self) -> Format {
        match self {
            FormatParam::Image => Format::Image,
            FormatParam::Carousel => Format::Carousel,
            FormatParam::Video => Format::Video,
            FormatParam::Reel => Format::Reel,
            FormatParam::Story => Format::Story,
        }
    }
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DefinitionParam {
    /// Interactions ÷ reach.
    Reach,
    /// Interactions ÷ followers when published.
    Followers,
    /// Interactions ÷ views.
    Views,
}

impl DefinitionParam {
    fn definition(self) -> EngagementDefinition {
        match self {
            DefinitionParam::Reach => EngagementDefinition::Reach,
            DefinitionParam::Followers => EngagementDefinition::Followers,
            DefinitionParam::Views => EngagementDefinition::Views,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PostsQuery {
    /// Only this account's posts.
    pub account: Option<i64>,
    pub format: Option<FormatParam>,
    /// Published at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Published before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Newest first by default; a figure sorts highest first, posts without it last.
    pub sort: Option<SortParam>,
    /// Which engagement rate `rate` sorts by and `engagement_rate` holds; the operator's
    /// choice in Settings by default.
    pub definition: Option<DefinitionParam>,
    /// Only posts whose caption contains this text (any case).
    pub q: Option<String>,
    /// Only posts published from Tidemark.
    pub from_tidemark: Option<bool>,
    /// Posts per page, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, with the same filters and sort.
    pub cursor: Option<String>,
}

/// A post and its latest figures. A figure is `null` when Instagram did not give it.
#[derive(Serialize, ToSchema)]
pub struct PostRecord {
    /// Tidemark's id of the post.
    pub id: i64,
    pub account_id: i64,
    pub username: String,
    /// Instagram's id of the post.
    pub media_id: String,
    pub caption: Option<String>,
    /// `image`, `carousel`, `video`, `reel` or `story`.
    pub format: String,
    pub permalink: Option<String>,
    pub published_at: DateTime<Utc>,
    /// When Tidemark saw it gone from Instagram.
    pub removed_at: Option<DateTime<Utc>>,
    pub hashtags: Vec<String>,
    /// Why Instagram gives no insights for it, if it does not.
    pub insights_unavailable: Option<String>,
    /// When the figures below were measured.
    pub measured_at: Option<DateTime<Utc>>,
    pub reach: Option<i64>,
    pub views: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub saved: Option<i64>,
    pub shares: Option<i64>,
    pub interactions: Option<i64>,
    pub followers_at_posting: Option<i64>,
    /// By the definition asked for, in percent (5.0 is 5 %).
    pub engagement_rate: Option<f64>,
    /// How the post does against the account's own posts of its format at the same age,
    /// 0 to 100 (50 is typical).
    pub impact: Option<i16>,
    /// How many posts that comparison rests on.
    pub impact_cohort: Option<i32>,
}

impl PostRecord {
    fn new(row: &PostRow, definition: EngagementDefinition) -> Self {
        PostRecord {
            id: row.id.0,
            account_id: row.account_id.0,
            username: row.username.clone(),
            media_id: row.media_id.clone(),
            caption: row.caption.clone(),
            format: row.format().key().to_owned(),
            permalink: row.permalink.clone(),
            published_at: row.posted_at,
            removed_at: row.removed_at,
            hashtags: row.tags(),
            insights_unavailable: row.insights_unavailable.clone(),
            measured_at: row.latest_captured_at,
            reach: row.reach,
            views: row.views,
            likes: row.likes,
            comments: row.comments,
            saved: row.saved,
            shares: row.shares,
            interactions: row.interactions,
            followers_at_posting: row.followers_at_posting,
            engagement_rate: row.rate(definition),
            impact: row.impact,
            impact_cohort: row.impact_cohort,
        }
    }
}

/// One page of posts.
#[derive(Serialize, ToSchema)]
pub struct PostPage {
    pub items: Vec<PostRecord>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// What a cursor holds: the order it belongs to and the last post of its page.
#[derive(Serialize, Deserialize)]
struct Cursor {
    sort: SortParam,
    definition: DefinitionParam,
    after: After,
}

fn definition_param(definition: EngagementDefinition) -> DefinitionParam {
    match definition {
        EngagementDefinition::Reach => DefinitionParam::Reach,
        EngagementDefinition::Followers => DefinitionParam::Followers,
        EngagementDefinition::Views => DefinitionParam::Views,
    }
}

/// The place a cursor names, if it was made for this sort and definition.
fn place(text: &str, sort: SortParam, definition: DefinitionParam) -> Result<After, Problem> {
    read_cursor::<Cursor>(text)
        .filter(|c| c.sort == sort && c.definition == definition && c.after.fits(sort.sort()))
        .map(|c| c.after)
        .ok_or_else(|| Problem::bad_request("The cursor is not one this API gave, or it was made for another sort."))
}

/// Posts, newest first unless sorted otherwise, in pages. In time order the pages never
/// repeat or skip a post however the data changes meanwhile; in a figure's order a post whose
/// figure changed between two pages can move across the cursor.
#[utoipa::path(
    get,
    path = "/api/v1/posts",
    tag = "posts",
    params(PostsQuery),
    responses((status = 200, body = PostPage), ReadProblems, TokenProblems)
)]
pub async fn list_posts(
    req: HttpRequest,
    query: ApiQuery<PostsQuery>,
    views: web::Data<Views>,
) -> Result<HttpResponse, Problem> {
    let query = query.0;
    read(&req, &views, async |basis| {
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Problem::bad_request(format!("`limit` is 1 to {MAX_LIMIT}.")));
        }
        let search = query.q.map(|q| q.replace('\0', "")).filter(|q| !q.trim().is_empty());
        if search.as_ref().is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS) {
            return Err(Problem::bad_request(format!("`q` is at most {MAX_SEARCH_CHARS} characters.")));
        }
        let sort = query.sort.unwrap_or_default();
        let definition = query.definition.unwrap_or_else(|| definition_param(basis.definition()));
        let cursor = query.cursor.as_deref().filter(|cursor| !cursor.is_empty());
        let after = cursor.map(|cursor| place(cursor, sort, definition)).transpose()?;
        let filter = PostFilter {
            account: query.account.map(AccountId),
            format: query.format.map(FormatParam::format),
            from: query.from,
            until: query.until,
            sort: sort.sort(),
            definition: definition.definition(),
            // One more than asked tells whether another page follows.
            limit: Some(limit + 1),
            offset: 0,
            from_tidemark: query.from_tidemark.unwrap_or(false),
            search,
            after,
        };
        let mut rows = views.post_rows(&filter).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next_cursor = match rows.last() {
            Some(last) if more => {
                write_cursor(&Cursor { sort, definition, after: After::of(last, filter.sort, filter.definition) })
            }
            _ => None,
        };
        let items = rows.iter().map(|row| PostRecord::new(row, filter.definition)).collect();
        Ok(PostPage { items, next_cursor })
    })
    .await
}

/// One measurement of a post. A figure is `null` when Instagram did not give it.
#[derive(Serialize, ToSchema)]
pub struct SnapshotRecord {
    pub measured_at: DateTime<Utc>,
    pub views: Option<i64>,
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub saved: Option<i64>,
    pub shares: Option<i64>,
    pub interactions: Option<i64>,
}

impl From<&SnapshotRow> for SnapshotRecord {
    fn from(row: &SnapshotRow) -> Self {
        SnapshotRecord {
            measured_at: row.captured_at,
            views: row.views,
            reach: row.reach,
            likes: row.likes,
            comments: row.comments,
            saved: row.saved,
            shares: row.shares,
            interactions: row.total_interactions,
        }
    }
}

/// A post with every measurement Tidemark kept of it, oldest first.
#[derive(Serialize, ToSchema)]
pub struct PostDetail {
    pub post: PostRecord,
    pub snapshots: Vec<SnapshotRecord>,
}

/// One post, its latest figures and scores, and its history.
#[utoipa::path(
    get,
    path = "/api/v1/posts/{id}",
    tag = "posts",
    params(("id" = i64, Path, description = "Tidemark's id of the post")),
    responses((status = 200, body = PostDetail), ReadProblems, NotFound, TokenProblems)
)]
pub async fn show_post(req: HttpRequest, id: ApiId, views: web::Data<Views>) -> Result<HttpResponse, Problem> {
    read(&req, &views, async |basis| {
        let (row, snapshots) = views
            .post_record(PostId(id.0))
            .await?
            .ok_or_else(|| Problem::not_found("There is no post with this id."))?;
        Ok(PostDetail {
            post: PostRecord::new(&row, basis.definition()),
            snapshots: snapshots.iter().map(SnapshotRecord::from).collect(),
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_only_for_its_own_sort_and_definition() {
        let after = After::Count(Some(120), PostId(7));
        let cursor =
            write_cursor(&Cursor { sort: SortParam::Reach, definition: DefinitionParam::Reach, after }).unwrap();
        assert_eq!(place(&cursor, SortParam::Reach, DefinitionParam::Reach).unwrap(), after);
        assert!(place(&cursor, SortParam::Views, DefinitionParam::Reach).is_err());
        assert!(place(&cursor, SortParam::Reach, DefinitionParam::Views).is_err());
        assert!(place("not a cursor", SortParam::Reach, DefinitionParam::Reach).is_err());
        let forged =
            write_cursor(&serde_json::json!({"sort": "newest", "definition": "reach", "after": {"Rate": [0.1, 3]}}));
        assert!(
            place(&forged.unwrap(), SortParam::Newest, DefinitionParam::Reach).is_err(),
            "a rate place in time order"
        );
    }
}
