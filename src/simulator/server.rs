//! The simulator's HTTP answers.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::{Value, json};

use super::facts;
use super::world::{SimAccount, SimMedia, SimToken, token_text};
use super::{Inner, SimState, TOKEN_DAYS};

use crate::domain::Flavour;

/// An error answer in Meta's envelope.
struct ApiError {
    status: StatusCode,
    code: i64,
    subcode: Option<i64>,
    message: String,
    user_title: Option<&'static str>,
    transient: bool,
}

impl ApiError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            subcode: None,
            message: message.into(),
            user_title: None,
            transient: false,
        }
    }

    fn sub(mut self, subcode: i64) -> Self {
        self.subcode = Some(subcode);
        self
    }

    fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    fn body(&self, trace: u64) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "fbtrace_id": format!("A{trace:x}"),
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if let Some(title) = self.user_title {
            error["error_user_title"] = json!(title);
        }
        if self.transient {
            error["is_transient"] = json!(true);
        }
        json!({ "error": error })
    }
}

enum Fault {
    None,
    ServerError,
    Timeout,
    ProxyRefusal,
}

pub(super) async fn answer(req: HttpRequest, body: web::Bytes, state: web::Data<SimState>) -> HttpResponse {
    // The picture host needs no token, as Instagram's CDN does not.
    if let Some(name) = req.path().strip_prefix("/cdn/") {
        return super::pictures::serve(name, &state);
    }
    if let Some(response) = super::oauth::handle(&req, &body, &state) {
        return response;
    }
    // Meta reads parameters from the query string and from a form body alike.
    let mut query: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    if req.method() == actix_web::http::Method::POST {
        query.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    let (fault, latency, malformed, trace) = {
        let mut inner = state.lock();
        inner.requests += 1;
        let faults = inner.faults.clone();
        let fault = if inner.faults.fail_next > 0 {
            inner.faults.fail_next -= 1;
            Fault::ServerError
        } else if inner.rng.random_bool(faults.server_error_ratio.clamp(0.0, 1.0)) {
            Fault::ServerError
        } else if inner.rng.random_bool(faults.timeout_ratio.clamp(0.0, 1.0)) {
            Fault::Timeout
        } else if inner.rng.random_bool(faults.proxy_refusal_ratio.clamp(0.0, 1.0)) {
            Fault::ProxyRefusal
        } else {
            Fault::None
        };
        let malformed = inner.rng.random_bool(faults.malformed_ratio.clamp(0.0, 1.0));
        (fault, faults.latency, malformed, inner.rng.random::<u64>())
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::ServerError => {
            let mut error = ApiError::new(2, facts::TEMPORARY).status(StatusCode::INTERNAL_SERVER_ERROR);
            error.transient = true;
            return HttpResponse::build(error.status).json(error.body(trace));
        }
        Fault::Timeout => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            return HttpResponse::GatewayTimeout().finish();
        }
        Fault::ProxyRefusal => {
            let page = format!("<html><body>Request refused by policy: GET {}</body></html>", req.uri());
            return HttpResponse::Forbidden().content_type("text/html").body(page);
        }
        Fault::None => {}
    }

    let origin = format!("{}://{}", req.connection_info().scheme(), req.connection_info().host());
    let delete = req.method() == actix_web::http::Method::DELETE;
    let post = req.method() == actix_web::http::Method::POST;
    let request = Request { query: &query, path: req.path(), origin: &origin, delete, post };
    let mut inner = state.lock();
    let (mut result, usage) = request.handle(&state, &mut inner);
    let fetches = std::mem::take(&mut inner.fetch_queue);
    // A broken connection after the publish went through: the caller cannot tell it happened.
    if result.is_ok() && post && req.path().ends_with("/media_publish") && inner.faults.lost_publish_answers > 0 {
        inner.faults.lost_publish_answers -= 1;
        let mut error = ApiError::new(2, facts::TEMPORARY).status(StatusCode::INTERNAL_SERVER_ERROR);
        error.transient = true;
        result = Err(error);
    }
    drop(inner);
    for job in fetches {
        tokio::spawn(super::publish::fetch(state.clone().into_inner(), job));
    }
    let mut response = match result {
        Ok(body) => {
            let text = body.to_string();
            // Cut at a character boundary: captions hold emoji.
            let text = if malformed {
                let mut cut = text.len() / 2;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text[..cut].to_owned()
            } else {
                text
            };
            HttpResponse::Ok().content_type("application/json; charset=UTF-8").body(text)
        }
        Err(error) => HttpResponse::build(error.status).json(error.body(trace)),
    };
    if let Some(usage) = usage
        && let Ok(value) = usage.parse()
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::HeaderName::from_static("x-business-use-case-usage"), value);
    }
    response
}

struct Request<'a> {
    query: &'a [(String, String)],
    path: &'a str,
    origin: &'a str,
    delete: bool,
    post: bool,
}

type Answer = Result<Value, ApiError>;

impl Request<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Path segments without the version prefix.
    fn segments(&self) -> Vec<&str> {
        let mut segments: Vec<&str> = self.path.split('/').filter(|s| !s.is_empty()).collect();
        if segments.first().is_some_and(|s| s.starts_with('v') && s[1..].contains('.')) {
            segments.remove(0);
        }
        segments
    }

    fn handle(&self, state: &SimState, inner: &mut Inner) -> (Answer, Option<String>) {
        let segments = self.segments();
        let now = inner.now();
        // The FB exchange names the token to exchange in its own parameter.
        let token_param = if segments == ["oauth", "access_token"] { "fb_exchange_token" } else { "access_token" };
        let Some(token_text_given) = self.param(token_param).map(str::to_owned) else {
            return (Err(ApiError::new(104, "An access token is required to request this resource.")), None);
        };
        let Some(token_index) = inner.tokens.iter().position(|t| t.token == token_text_given) else {
            let flavour = Flavour::from_token(&token_text_given);
            let status =
                if flavour == Some(Flavour::Instagram) { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
            return (Err(ApiError::new(190, facts::CANNOT_PARSE_TOKEN).status(status)), None);
        };
        let token = inner.tokens[token_index].clone();
        if let Some(host) = host_only(&segments)
            && host != token.flavour
        {
            return (Err(ApiError::new(190, facts::CANNOT_PARSE_TOKEN)), None);
        }
        if let Some(subcode) = token.revoked {
            let message = if subcode == 460 { facts::PASSWORD_CHANGED } else { facts::INVALID_TOKEN };
            return (Err(ApiError::new(190, message).sub(subcode)), None);
        }
        if token.expires_at <= now {
            return (Err(ApiError::new(190, facts::expired_token_message(token.expires_at, now)).sub(463)), None);
        }

        let account_id = inner.accounts[token.account].ig_user_id.clone();
        let spent = {
            let t = &mut inner.tokens[token_index];
            t.calls += 1;
            t.calls > t.budget
        };
        let t = &inner.tokens[token_index];
        let percent = (t.calls.saturating_mul(100) / t.budget.max(1)).min(100);
        let regain = if spent { state.config.regain_minutes } else { 0 };
        let usage = json!({ account_id.clone(): [{
            "type": "instagram", "call_count": percent, "total_cputime": percent / 3,
            "total_time": percent / 2, "estimated_time_to_regain_access": regain
        }]})
        .to_string();
        if spent {
            return (Err(ApiError::new(80002, facts::BUDGET_SPENT)), Some(usage));
        }

        let answer = self.route(state, inner, &segments, &token, now);
        (answer, Some(usage))
    }

    fn route(
        &self,
        state: &SimState,
        inner: &mut Inner,
        segments: &[&str],
        token: &SimToken,
        now: DateTime<Utc>,
    ) -> Answer {
        // The account a path names, among those the token reads.
        let owned: Vec<usize> = std::iter::once(token.account).chain(token.also.iter().copied()).collect();
        let named = segments
            .first()
            .and_then(|id| owned.iter().copied().find(|&a| inner.accounts[a].ig_user_id == *id))
            .unwrap_or(token.account);
        let named_id = inner.accounts[named].ig_user_id.clone();
        // Publishing and commenting change the world: answered before it is borrowed for reading.
        let changed: Option<Answer> = match segments {
            [id, "media"] if self.post && *id == named_id => Some({
                if !may_publish(token) {
                    return Err(no_permission());
                }
                let processing = inner.video_processing;
                let param = |name: &str| self.param(name).map(str::to_owned);
                match inner.create_container(named, param, now, processing) {
                    Ok((body, fetch)) => {
                        inner.fetch_queue.extend(fetch);
                        Ok(body)
                    }
                    Err(refusal) => Err(refused(refusal)),
                }
            }),
            [id, "media_publish"] if self.post && *id == named_id => Some({
                if !may_publish(token) {
                    return Err(no_permission());
                }
                let creation_id = self.param("creation_id").unwrap_or_default().to_owned();
                let (processing, quota) = (inner.video_processing, inner.publish_quota);
                match inner.publish(named, &creation_id, now, processing, quota) {
                    Ok(id) => Ok(json!({ "id": id })),
                    Err(refusal) => Err(refused(refusal)),
                }
            }),
            [id, "content_publishing_limit"] if *id == named_id => Some({
                let used = inner.quota_used(named, now);
                Ok(json!({ "data": [{ "quota_usage": used,
                    "config": { "quota_total": inner.publish_quota, "quota_duration": 86_400 } }] }))
            }),
            [id, "comments"] if self.post => Some({
                if !may_manage_comments(token) {
                    return Err(no_permission());
                }
                let Some(account) = owned.iter().copied().find(|&a| find_media(&inner.accounts[a], id, now).is_some())
                else {
                    return Err(ApiError::new(100, facts::unsupported_get(id)).sub(33));
                };
                let Some(message) = self.param("message").filter(|m| !m.trim().is_empty()) else {
                    return Err(ApiError::new(100, "(#100) The parameter message is required"));
                };
                let owner = inner.accounts[account].spec.username.clone();
                let comment_id = inner.add_comment(account, id, &owner, message, None);
                Ok(json!({ "id": comment_id }))
            }),
            [id, "comments"] => Some({
                if !may_manage_comments(token) {
                    return Err(no_permission());
                }
                let fields = self.param("fields").unwrap_or("id,timestamp,text");
                let limit = self.param("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(25);
                let after = match self.param("after") {
                    Some(cursor) => Some(
                        super::comments::decode_cursor(cursor)
                            .ok_or_else(|| ApiError::new(100, "(#100) Invalid cursor"))?,
                    ),
                    None => None,
                };
                match inner.comment_page(id, &owned, fields, limit, after, now) {
                    Some((data, more, next_position)) => {
                        inner.comment_pages += 1;
                        let mut body = json!({ "data": data });
                        if more {
                            let cursor = super::comments::encode_cursor(next_position);
                            let mut next = url::Url::parse(&format!("{}{}", self.origin, self.path))
                                .map_err(|_| ApiError::new(1, facts::TEMPORARY))?;
                            next.query_pairs_mut()
                                .extend_pairs(self.query.iter().filter(|(k, _)| k != "after"))
                                .append_pair("after", &cursor);
                            body["paging"] = json!({ "cursors": { "after": cursor }, "next": next.as_str() });
                        }
                        Ok(body)
                    }
                    None => Err(ApiError::new(100, facts::unsupported_get(id)).sub(33)),
                }
            }),
            [id, "replies"] => Some({
                if !may_manage_comments(token) {
                    return Err(no_permission());
                }
                if self.post {
                    let Some(message) = self.param("message").filter(|m| !m.trim().is_empty()) else {
                        return Err(ApiError::new(100, "(#100) The parameter message is required"));
                    };
                    inner.reply(id, &owned, message).map(|id| json!({ "id": id })).map_err(comment_refusal)
                } else {
                    let fields = self.param("fields").unwrap_or("id,timestamp,text");
                    inner.read_comment(id, &owned, true, fields).map_err(comment_refusal)
                }
            }),
            [id] if inner.comments.iter().any(|c| c.id == *id) => Some({
                if !may_manage_comments(token) {
                    return Err(no_permission());
                }
                if self.delete {
                    inner.delete_comment(id, &owned).map(|()| json!({ "success": true })).map_err(comment_refusal)
                } else if self.post {
                    match self.param("hide") {
                        Some(hide @ ("true" | "false")) => inner
                            .set_hidden(id, &owned, hide == "true")
                            .map(|()| json!({ "success": true }))
                            .map_err(comment_refusal),
                        _ => Err(ApiError::new(100, "(#100) The parameter hide is required")),
                    }
                } else {
                    let fields = self.param("fields").unwrap_or("id,timestamp,text");
                    inner.read_comment(id, &owned, false, fields).map_err(comment_refusal)
                }
            }),
            [id] if *id == named_id
                && self.param("fields").is_some_and(|f| f.starts_with("mentioned_comment.comment_id(")) =>
            {
                Some({
                    if !may_manage_comments(token) {
                        return Err(no_permission());
                    }
                    let fields = self.param("fields").unwrap_or_default();
                    let inner_fields =
                        fields.split_once('{').map_or("", |(_, rest)| rest.strip_suffix('}').unwrap_or(rest));
                    let comment = fields
                        .trim_start_matches("mentioned_comment.comment_id(")
                        .split(')')
                        .next()
                        .unwrap_or_default();
                    inner
                        .mentioned_comment(named, comment, inner_fields)
                        .map(|value| json!({ "mentioned_comment": value, "id": named_id }))
                        .map_err(comment_refusal)
                })
            }
            [id, "mentions"] if self.post && *id == named_id => Some({
                if !may_manage_comments(token) {
                    return Err(no_permission());
                }
                let Some(message) = self.param("message").filter(|m| !m.trim().is_empty()) else {
                    return Err(ApiError::new(100, "(#100) The parameter message is required"));
                };
                let (media, comment) = (self.param("media_id").unwrap_or(""), self.param("comment_id").unwrap_or(""));
                inner
                    .reply_to_mention(named, media, comment, message)
                    .map(|id| json!({ "id": id }))
                    .map_err(comment_refusal)
            }),
            [id] if inner.containers.iter().any(|c| c.id == *id) => {
                Some(match inner.container_json(id, &owned, now, inner.video_processing) {
                    Some(body) => Ok(body),
                    None => Err(ApiError::new(100, facts::unsupported_get(id)).sub(33)),
                })
            }
            _ => None,
        };
        if let Some(answer) = changed {
            return answer;
        }
        let account = &inner.accounts[named];
        match segments {
            ["me"] => Ok(self.me(state, account, token.flavour, now)),
            ["me", "accounts"] => {
                let fields = self.param("fields").unwrap_or("id");
                let pages: Vec<Value> = owned
                    .iter()
                    .map(|&a| {
                        let account = &inner.accounts[a];
                        let mut page = json!({ "id": account.page_id, "name": format!("{} Page", account.spec.name) });
                        if let Some((_, sub)) =
                            split_fields(fields).into_iter().find(|(name, _)| *name == "instagram_business_account")
                        {
                            page["instagram_business_account"] =
                                user_json(state, account, sub.unwrap_or("id"), now, None);
                        }
                        page
                    })
                    .collect();
                Ok(json!({ "data": pages, "paging": { "cursors": { "before": "QVFIUj", "after": "QVFIUk" } } }))
            }
            ["me", "permissions"] if self.delete => {
                // Every token of this user for the app stops working (§8).
                let user = token.account;
                for t in inner.tokens.iter_mut().filter(|t| t.account == user && t.flavour == token.flavour) {
                    t.revoked = Some(458);
                }
                Ok(json!({ "success": true }))
            }
            ["me", "permissions"] => {
                let data: Vec<Value> =
                    token.scopes.iter().map(|s| json!({ "permission": s, "status": "granted" })).collect();
                Ok(json!({ "data": data }))
            }
            ["refresh_access_token"] => self.new_token(inner, token, now, true),
            ["access_token"] => {
                if !super::oauth::secret_matches(Flavour::Instagram, None, self.param("client_secret")) {
                    return Err(ApiError::new(101, "Error validating client secret."));
                }
                self.new_token(inner, token, now, false)
            }
            ["oauth", "access_token"] => {
                if !super::oauth::secret_matches(
                    Flavour::Facebook,
                    self.param("client_id"),
                    self.param("client_secret"),
                ) {
                    return Err(ApiError::new(1, "Error validating client secret."));
                }
                self.new_token(inner, token, now, false)
            }
            ["debug_token"] => Ok(self.debug_token(inner, now)),
            [id] if owned.iter().any(|&a| inner.accounts[a].ig_user_id == *id)
                && self.param("fields").is_some_and(|f| f.starts_with("business_discovery.")) =>
            {
                self.business_discovery(state, inner, id, token.flavour, now)
            }
            [id] if owned.iter().any(|&a| inner.accounts[a].ig_user_id == *id) => {
                Ok(user_json(state, account, self.param("fields").unwrap_or("id"), now, None))
            }
            [id, "media"] if *id == account.ig_user_id => self.media_list(state, account, now, false),
            [id, "stories"] if *id == account.ig_user_id => self.media_list(state, account, now, true),
            [id, "insights"] if *id == account.ig_user_id => self.account_insights(state, account, now),
            [id] => match owned.iter().find_map(|&a| find_media(&inner.accounts[a], id, now)) {
                Some(media) => Ok(media_json(media, self.param("fields").unwrap_or("id"), self.origin, now)),
                None => Err(ApiError::new(100, facts::unsupported_get(id)).sub(33)),
            },
            [id, "insights"] => match owned.iter().find_map(|&a| find_media(&inner.accounts[a], id, now)) {
                Some(media) => self.media_insights(media, token.flavour, &state.config.refuse, now),
                None => Err(ApiError::new(100, facts::unsupported_get(id)).sub(33)),
            },
            _ => Err(ApiError::new(100, facts::unsupported_get(segments.first().copied().unwrap_or(""))).sub(33)),
        }
    }

    /// Business Discovery: another professional account's public figures and posts, read
    /// through one of the app user's accounts; Facebook Login only (graph-api.md §1).
    fn business_discovery(
        &self,
        state: &SimState,
        inner: &Inner,
        asking: &str,
        flavour: Flavour,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        if flavour != Flavour::Facebook {
            // Instagram Login has no Business Discovery (graph-api.md §1); the message is the
            // Graph API's usual one for a field a node does not have.
            return Err(ApiError::new(100, facts::nonexisting_field("business_discovery", "User")));
        }
        let fields = self.param("fields").unwrap_or_default();
        let (field, sub) = split_fields(fields).into_iter().next().unwrap_or(("", None));
        let username = field.strip_prefix("business_discovery.username(").and_then(|r| r.strip_suffix(')'));
        let Some(username) = username.filter(|u| !u.is_empty()) else {
            return Err(ApiError::new(100, "(#100) Missing username in business_discovery"));
        };
        // An unknown and a personal account answer alike: code 110, subcode 2207013 ("Invalid
        // user id"), as clients in public code record it; Meta's reference does not list it.
        let target = inner
            .public
            .iter()
            .chain(inner.accounts.iter())
            .find(|a| a.spec.username.eq_ignore_ascii_case(username))
            .ok_or_else(|| ApiError::new(110, "Invalid user id").sub(2207013))?;
        let sub = sub.unwrap_or("id");
        let mut found = user_json(state, target, sub, now, None);
        let media = split_fields(sub).into_iter().find(|(f, _)| *f == "media" || f.starts_with("media.limit("));
        if let Some((edge, media_fields)) = media {
            let limit = edge
                .strip_prefix("media.limit(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(25);
            let listed: Vec<Value> = target
                .media
                .iter()
                .filter(|m| m.product != "STORY" && !m.deleted && m.posted_at <= now)
                .take(limit)
                .map(|m| media_json(m, media_fields.unwrap_or("id"), self.origin, now))
                .collect();
            found["media"] = json!({ "data": listed });
        }
        Ok(json!({ "business_discovery": found, "id": asking }))
    }

    fn me(&self, state: &SimState, account: &SimAccount, flavour: Flavour, now: DateTime<Utc>) -> Value {
        match flavour {
            Flavour::Facebook => {
                json!({ "id": format!("10{}", &account.page_id[1..]), "name": account.spec.name })
            }
            Flavour::Instagram => {
                let fields = self.param("fields").unwrap_or("id");
                let me = user_json(state, account, fields, now, Some(&account.app_scoped_id));
                if state.config.wrapped_me { json!({ "data": [me] }) } else { me }
            }
        }
    }

    fn new_token(&self, inner: &mut Inner, token: &SimToken, now: DateTime<Utc>, refresh: bool) -> Answer {
        // Meta: a token can be refreshed once it is at least 24 hours old. The error's
        // wording is not documented; this one is the simulator's.
        if refresh && now - token.issued_at < chrono::Duration::hours(24) {
            return Err(ApiError::new(
                100,
                "(#100) The access token is less than 24 hours old and cannot be refreshed yet",
            ));
        }
        let text = token_text(&mut inner.rng, token.flavour);
        inner.tokens.push(SimToken {
            token: text.clone(),
            issued_at: now,
            expires_at: now + chrono::Duration::days(TOKEN_DAYS),
            calls: 0,
            revoked: None,
            ..token.clone()
        });
        Ok(json!({ "access_token": text, "token_type": "bearer", "expires_in": TOKEN_DAYS * 86_400 - 56 }))
    }

    fn debug_token(&self, inner: &Inner, now: DateTime<Utc>) -> Value {
        let input = self.param("input_token").unwrap_or("");
        match inner.tokens.iter().find(|t| t.token == input) {
            Some(t) => {
                let valid = t.revoked.is_none() && t.expires_at > now;
                json!({ "data": {
                    "app_id": "1000000000000001", "type": "USER", "application": "Tidemark Simulator",
                    "data_access_expires_at": (t.expires_at + chrono::Duration::days(30)).timestamp(),
                    "expires_at": t.expires_at.timestamp(), "issued_at": t.issued_at.timestamp(),
                    "is_valid": valid,
                    "scopes": ["instagram_basic", "instagram_manage_insights", "pages_read_engagement", "pages_show_list"],
                    "user_id": format!("10{}", t.account)
                }})
            }
            None => {
                json!({ "data": { "is_valid": false, "error": { "code": 190, "message": facts::CANNOT_PARSE_TOKEN } } })
            }
        }
    }

    fn media_list(&self, state: &SimState, account: &SimAccount, now: DateTime<Utc>, stories: bool) -> Answer {
        let fields = self.param("fields").unwrap_or("id");
        let limit = self.param("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(25).clamp(1, 100);
        let (anchor, page_no) = match self.param("after") {
            Some(cursor) => decode_cursor(cursor).ok_or_else(|| ApiError::new(100, "(#100) Invalid cursor"))?,
            None => (None, 0),
        };
        let visible: Vec<&SimMedia> = account
            .media
            .iter()
            .filter(|m| !m.deleted && m.posted_at <= now)
            .filter(|m| {
                if stories {
                    m.product == "STORY" && now - m.posted_at < chrono::Duration::hours(24)
                } else {
                    m.product != "STORY"
                }
            })
            .filter(|m| anchor.as_ref().is_none_or(|(t, id)| (m.posted_at, m.id.as_str()) < (*t, id.as_str())))
            .collect();
        // Privacy filtering makes some pages short; nothing is lost, the cursor moves on.
        let take = if state.config.short_pages && page_no % 2 == 1 {
            limit.saturating_sub(1 + (page_no % 3) as usize).max(1)
        } else {
            limit
        };
        let page: Vec<&SimMedia> = visible.iter().take(take).copied().collect();
        let mut body =
            json!({ "data": page.iter().map(|m| media_json(m, fields, self.origin, now)).collect::<Vec<_>>() });
        if let (Some(first), Some(last)) = (page.first(), page.last()) {
            let after = encode_cursor(last, page_no + 1);
            let mut paging = json!({ "cursors": { "before": encode_cursor(first, page_no), "after": after } });
            if visible.len() > page.len() {
                let mut next = url::Url::parse(&format!("{}{}", self.origin, self.path))
                    .map_err(|_| ApiError::new(1, facts::TEMPORARY))?;
                next.query_pairs_mut()
                    .extend_pairs(self.query.iter().filter(|(k, _)| k != "after"))
                    .append_pair("after", &after);
                paging["next"] = json!(next.as_str());
            }
            if page_no > 0 {
                paging["previous"] =
                    json!(format!("{}{}?before={}", self.origin, self.path, encode_cursor(first, page_no)));
            }
            body["paging"] = paging;
        }
        Ok(body)
    }

    fn media_insights(
        &self,
        media: &SimMedia,
        flavour: Flavour,
        refused: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Answer {
        let Some(metric) = self.param("metric") else {
            return Err(ApiError::new(100, "(#100) The parameter metric is required"));
        };
        let metrics: Vec<&str> = metric.split(',').map(str::trim).filter(|m| !m.is_empty()).collect();
        if let Some(message) =
            facts::media_metrics_error(&metrics, media.product, media.media_type, flavour == Flavour::Facebook)
        {
            return Err(ApiError::new(100, message));
        }
        if let Some(metric) = metrics.iter().find(|m| refused.iter().any(|(p, r)| p == media.product && r == *m)) {
            return Err(ApiError::new(100, format!("(#100) The metric {metric} is not supported for this media type")));
        }
        if media.pre_conversion {
            let mut error = ApiError::new(100, "(#100) Media posted before business account conversion").sub(2_108_006);
            error.user_title = Some("Media posted before business account conversion");
            return Err(error);
        }
        let values = media.metrics_at(now);
        if media.product == "STORY" && values.get("reach").copied().unwrap_or(0.0) < 5.0 {
            return Err(ApiError::new(10, facts::NOT_ENOUGH_VIEWERS));
        }
        // Insights lag behind a brand-new post: for its first minutes there is no data at all.
        if now - media.posted_at < chrono::Duration::minutes(10) {
            return Ok(json!({ "data": [] }));
        }
        let data: Vec<Value> = metrics
            .iter()
            .map(|name| {
                json!({
                    "name": name, "period": "lifetime",
                    "values": [{ "value": number(values.get(name).copied().unwrap_or(0.0)) }],
                    "title": title(name), "description": format!("Simulated {name}"),
                    "id": format!("{}/insights/{name}/lifetime", media.id)
                })
            })
            .collect();
        Ok(json!({ "data": data }))
    }

    fn account_insights(&self, state: &SimState, account: &SimAccount, now: DateTime<Utc>) -> Answer {
        let Some(metric) = self.param("metric") else {
            return Err(ApiError::new(100, "(#100) The parameter metric is required"));
        };
        let metrics: Vec<&str> = metric.split(',').map(str::trim).filter(|m| !m.is_empty()).collect();
        if metrics.contains(&"impressions") {
            return Err(ApiError::new(
                100,
                "(#100) Starting from version 22 and above, the impressions metric is no longer supported for the queried user. Please refer to the documentation at https://developers.facebook.com/docs/instagram-api/reference/ig-user/insights for a list of supported metrics.",
            ));
        }
        let refused = |m: &str| state.config.refuse.iter().any(|(p, r)| p == "ACCOUNT" && r == m);
        if let Some(index) = metrics.iter().position(|m| !facts::KNOWN_ACCOUNT_METRICS.contains(m) || refused(m)) {
            return Err(ApiError::new(
                100,
                format!(
                    "(#100) metric[{index}] must be one of the following values: {}",
                    facts::KNOWN_ACCOUNT_METRICS.iter().filter(|m| !refused(m)).copied().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let Some(period) = self.param("period") else {
            return Err(ApiError::new(100, "(#100) The parameter period is required"));
        };
        let lifetime_only = |m: &&str| LIFETIME_ACCOUNT_METRICS.contains(m);
        if metrics.iter().any(lifetime_only) {
            if period != "lifetime" || !metrics.iter().all(lifetime_only) {
                return Err(ApiError::new(
                    100,
                    "(#100) If requesting multiple metrics, they must all have the same compatible period",
                ));
            }
            return self.audience_insights(state, account, &metrics, now);
        }
        let time = |name: &str| {
            self.param(name).and_then(|v| v.parse::<i64>().ok()).and_then(|t| DateTime::from_timestamp(t, 0))
        };
        let until = time("until").unwrap_or(now);
        let since = time("since").unwrap_or(until - chrono::Duration::hours(24));
        if until - since > chrono::Duration::days(30) {
            return Err(ApiError::new(
                100,
                "(#100) There cannot be more than 30 days (2592000 s) between since and until",
            ));
        }
        let series = self.param("metric_type") == Some("time_series");
        if !series && metrics.contains(&"follower_count") {
            return Err(ApiError::new(
                100,
                "(#100) The metric follower_count does not support metric_type total_value",
            ));
        }
        let first_day = (since - state.epoch).num_seconds().div_euclid(86_400);
        let last_day = (until - state.epoch).num_seconds().div_euclid(86_400);
        let days: Vec<i64> = (first_day..last_day.max(first_day + 1)).collect();
        let data: Vec<Value> = metrics
            .iter()
            .filter(|name| !(**name == "follower_count" && account.spec.followers < 100))
            .map(|name| {
                let id = format!("{}/insights/{name}/{period}", account.ig_user_id);
                if series {
                    let values: Vec<Value> = days
                        .iter()
                        .map(|d| {
                            let end = state.epoch + chrono::Duration::days(d + 1);
                            json!({ "value": number(account.day_metrics(*d).get(name).copied().unwrap_or(0.0)),
                                    "end_time": end.format("%Y-%m-%dT%H:%M:%S+0000").to_string() })
                        })
                        .collect();
                    json!({ "name": name, "period": period, "values": values, "title": title(name), "id": id })
                } else {
                    let total: f64 = days.iter().map(|d| account.day_metrics(*d).get(name).copied().unwrap_or(0.0)).sum();
                    json!({ "name": name, "period": period, "total_value": { "value": number(total) }, "title": title(name), "id": id })
                }
            })
            .collect();
        Ok(json!({ "data": data }))
    }

    /// Demographics (one breakdown, this week's or this month's followers) and followers
    /// online by hour, one day's hours per day asked (within the last 30). Nothing at all for
    /// an account below 100 followers (graph-api.md §4).
    fn audience_insights(
        &self,
        state: &SimState,
        account: &SimAccount,
        metrics: &[&str],
        now: DateTime<Utc>,
    ) -> Answer {
        let followers = account.followers_at(state.epoch, now);
        let today = (now - state.epoch).num_seconds().div_euclid(86_400);
        let mut data = Vec::new();
        for name in metrics {
            let id = format!("{}/insights/{name}/lifetime", account.ig_user_id);
            if *name == "online_followers" {
                let time = |name: &str| {
                    self.param(name).and_then(|v| v.parse::<i64>().ok()).and_then(|t| DateTime::from_timestamp(t, 0))
                };
                let until = time("until").unwrap_or(now).min(now);
                let since =
                    time("since").unwrap_or(until - chrono::Duration::days(1)).max(now - chrono::Duration::days(30));
                let first = (since - state.epoch).num_seconds().div_euclid(86_400);
                let last = (until - state.epoch).num_seconds().div_euclid(86_400);
                let values: Vec<Value> = (first..last)
                    .map(|day| {
                        let end = state.epoch + chrono::Duration::days(day + 1);
                        json!({ "value": account.online_followers(followers, day),
                                "end_time": end.format("%Y-%m-%dT%H:%M:%S+0000").to_string() })
                    })
                    .collect();
                if followers >= 100 {
                    data.push(
                        json!({ "name": name, "period": "lifetime", "values": values, "title": title(name), "id": id }),
                    );
                }
                continue;
            }
            if !matches!(self.param("timeframe"), Some("this_week" | "this_month")) {
                return Err(ApiError::new(
                    100,
                    "(#100) The parameter timeframe is required for demographic metrics and must be this_week or this_month",
                ));
            }
            let Some(breakdown) = self.param("breakdown").filter(|b| ["age", "gender", "country", "city"].contains(b))
            else {
                return Err(ApiError::new(
                    100,
                    "(#100) The parameter breakdown must be one of age, city, country, gender",
                ));
            };
            if followers < 100 {
                continue;
            }
            let results: Vec<Value> = account
                .demographics(breakdown, followers, today)
                .into_iter()
                .map(|(key, n)| json!({ "dimension_values": [key], "value": number(n) }))
                .collect();
            data.push(json!({
                "name": name, "period": "lifetime", "title": title(name), "id": id,
                "total_value": { "breakdowns": [{ "dimension_keys": [breakdown], "results": results }] },
            }));
        }
        Ok(json!({ "data": data }))
    }
}

/// Account metrics read with `period=lifetime` only (graph-api.md §4).
const LIFETIME_ACCOUNT_METRICS: &[&str] =
    &["online_followers", "follower_demographics", "engaged_audience_demographics", "reached_audience_demographics"];

/// Endpoints that exist on one host only.
/// Whether the token was granted the content-publishing permission of its login.
fn may_manage_comments(token: &SimToken) -> bool {
    token.scopes.iter().any(|s| s == "instagram_business_manage_comments" || s == "instagram_manage_comments")
}

fn no_permission() -> ApiError {
    ApiError::new(10, "(#10) Application does not have permission for this action")
}

fn comment_refusal((code, subcode, message): super::comments::Refusal) -> ApiError {
    let mut error = ApiError::new(code, message);
    error.subcode = subcode;
    error
}

fn may_publish(token: &SimToken) -> bool {
    token.scopes.iter().any(|s| s == "instagram_business_content_publish" || s == "instagram_content_publish")
}

fn refused((code, subcode, message): super::publish::Refusal) -> ApiError {
    let mut error = ApiError::new(code, message);
    error.subcode = subcode;
    error
}

fn host_only(segments: &[&str]) -> Option<Flavour> {
    match segments {
        ["me", "accounts"] | ["me", "permissions"] | ["debug_token"] | ["oauth", "access_token"] => {
            Some(Flavour::Facebook)
        }
        ["refresh_access_token"] | ["access_token"] => Some(Flavour::Instagram),
        _ => None,
    }
}

fn find_media<'a>(account: &'a SimAccount, id: &str, now: DateTime<Utc>) -> Option<&'a SimMedia> {
    account.media.iter().find(|m| m.id == id && !m.deleted && m.posted_at <= now)
}

/// `a,b,c{x,y},d` → `[("a",None),("b",None),("c",Some("x,y")),("d",None)]`
pub(super) fn split_fields(fields: &str) -> Vec<(&str, Option<&str>)> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    let bytes = fields.as_bytes();
    for i in 0..=bytes.len() {
        let c = bytes.get(i).copied();
        match c {
            Some(b'{') => depth += 1,
            Some(b'}') => depth = depth.saturating_sub(1),
            Some(b',') | None if depth == 0 => {
                let part = fields[start..i].trim();
                if !part.is_empty() {
                    // One closing brace belongs to this field; inner ones stay with its sub-fields.
                    out.push(match part.find('{') {
                        Some(open) => {
                            (&part[..open], Some(part[open + 1..].strip_suffix('}').unwrap_or(&part[open + 1..])))
                        }
                        None => (part, None),
                    });
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}

fn user_json(
    state: &SimState,
    account: &SimAccount,
    fields: &str,
    now: DateTime<Utc>,
    app_scoped_id: Option<&str>,
) -> Value {
    let mut out = serde_json::Map::new();
    for (field, _) in split_fields(fields) {
        let value = match field {
            // Instagram Login's `/me` sends the professional id unquoted, beyond 2^53.
            "user_id" => json!(account.ig_user_id.parse::<u64>().unwrap_or(0)),
            "username" => json!(account.spec.username),
            "name" => json!(account.spec.name),
            "profile_picture_url" => json!(format!("https://scontent.cdninstagram.com/v/{}.jpg", account.ig_user_id)),
            "followers_count" => json!(account.followers_at(state.epoch, now)),
            "follows_count" => json!(account.follows),
            "media_count" => {
                json!(account.media.iter().filter(|m| m.product != "STORY" && !m.deleted && m.posted_at <= now).count())
            }
            "account_type" => json!("Business"),
            _ => continue,
        };
        out.insert(field.to_owned(), value);
    }
    out.insert("id".to_owned(), json!(app_scoped_id.unwrap_or(&account.ig_user_id)));
    Value::Object(out)
}

fn media_json(media: &SimMedia, fields: &str, origin: &str, now: DateTime<Utc>) -> Value {
    let metrics = media.metrics_at(now);
    let mut out = serde_json::Map::new();
    out.insert("id".to_owned(), json!(media.id));
    for (field, sub) in split_fields(fields) {
        let value = match field {
            "caption" => match &media.caption {
                Some(caption) => json!(caption),
                None => continue,
            },
            "media_type" => json!(media.media_type),
            "media_product_type" => json!(media.product),
            "permalink" => json!(media.permalink),
            "timestamp" => json!(media.posted_at.format("%Y-%m-%dT%H:%M:%S+0000").to_string()),
            "like_count" if media.likes_hidden => continue,
            "like_count" => json!(number(metrics.get("likes").copied().unwrap_or(0.0))),
            "comments_count" => json!(number(metrics.get("comments").copied().unwrap_or(0.0))),
            "children" if media.children.is_empty() => continue,
            "children" => {
                let with_url = sub.is_some_and(|s| s.split(',').any(|f| f == "media_url"));
                let child = |id: &String| {
                    let mut child = json!({ "id": id, "media_type": "IMAGE" });
                    if with_url {
                        child["media_url"] = json!(super::pictures::url(origin, id));
                    }
                    child
                };
                json!({ "data": media.children.iter().map(child).collect::<Vec<_>>() })
            }
            // An album's own address is left to its children, as the reference lists it (§8).
            "media_url" if media.media_type == "CAROUSEL_ALBUM" => continue,
            "media_url" if media.media_type == "VIDEO" => json!(format!("{origin}/cdn/{}.mp4", media.id)),
            "media_url" => json!(super::pictures::url(origin, &media.id)),
            "thumbnail_url" if media.media_type == "VIDEO" => json!(super::pictures::url(origin, &media.id)),
            _ => continue,
        };
        out.insert(field.to_owned(), value);
    }
    Value::Object(out)
}

/// Whole numbers as JSON integers, the rest (skip rates) as decimals.
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 { json!(value as i64) } else { json!(value) }
}

fn title(metric: &str) -> String {
    let mut chars = metric.replace('_', " ").chars().collect::<Vec<_>>();
    if let Some(first) = chars.first_mut() {
        *first = first.to_ascii_uppercase();
    }
    chars.into_iter().collect()
}

fn encode_cursor(media: &SimMedia, page_no: u32) -> String {
    URL_SAFE_NO_PAD.encode(format!("{page_no}:{}:{}", media.posted_at.timestamp_micros(), media.id))
}

type Anchor = (Option<(DateTime<Utc>, String)>, u32);

fn decode_cursor(cursor: &str) -> Option<Anchor> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let mut parts = text.splitn(3, ':');
    let page_no = parts.next()?.parse().ok()?;
    let at = DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)?;
    let id = parts.next()?.to_owned();
    Some((Some((at, id)), page_no))
}

#[cfg(test)]
mod tests {
    use super::split_fields;

    #[test]
    fn nested_fields_are_split_at_the_top_level() {
        assert_eq!(
            split_fields("id,caption,children{id,media_type},timestamp"),
            vec![("id", None), ("caption", None), ("children", Some("id,media_type")), ("timestamp", None)]
        );
        // Business Discovery nests two levels: the inner edge keeps its own braces.
        let outer = split_fields("business_discovery.username(x){followers_count,media.limit(5){id,like_count}}");
        assert_eq!(
            outer,
            vec![("business_discovery.username(x)", Some("followers_count,media.limit(5){id,like_count}"))]
        );
        assert_eq!(
            split_fields(outer[0].1.unwrap()),
            vec![("followers_count", None), ("media.limit(5)", Some("id,like_count"))]
        );
    }
}
