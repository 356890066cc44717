//! Probes for scripts, tests and orchestrators.

use std::time::Duration;

use actix_web::{HttpResponse, web};

use crate::db;
use crate::db::accounts::Account;
use crate::error::{AppError, AppResult};
use crate::metrics::{AccountLabels, PoolLabels};
use crate::startup::AppState;

/// The process is up and serving.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// The database answers and every migration this binary carries is applied.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let check = async {
        let mut conn = state.pool.get().await.map_err(|_| "database unreachable")?;
        match db::migrations_current(&mut conn, &state.migrations).await {
            Ok(true) => Ok(()),
            Ok(false) => Err("migrations pending"),
            Err(_) => Err("database unreachable"),
        }
    };
    match tokio::time::timeout(Duration::from_secs(3), check).await {
        Ok(Ok(())) => HttpResponse::Ok().content_type("text/plain").body("ready\n"),
        Ok(Err(reason)) => HttpResponse::ServiceUnavailable().content_type("text/plain").body(format!("{reason}\n")),
        Err(_) => HttpResponse::ServiceUnavailable().content_type("text/plain").body("database timed out\n"),
    }
}

/// Prometheus metrics: to loopback clients, or to anyone when configured.
pub async fn metrics(req: actix_web::HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let loopback = req.peer_addr().is_some_and(|addr| addr.ip().is_loopback());
    if !loopback && !state.metrics_public {
        return Err(AppError::Forbidden);
    }
    let metrics = &state.metrics;
    let now = state.sync.now();
    let status = state.pool.status();
    let gauge = |name: &str, value: usize| {
        metrics
            .pool_connections
            .get_or_create(&PoolLabels { state: name.to_owned() })
            .set(i64::try_from(value).unwrap_or(i64::MAX));
    };
    gauge("in_use", status.size.saturating_sub(status.available));
    gauge("idle", status.available);
    gauge("max", status.max_size);
    let mut conn = state.pool.get().await?;
    let usage: std::collections::HashMap<String, u32> = state.sync.graph.rates().all_usage().into_iter().collect();
    for account in Account::list(&mut conn).await? {
        let label = AccountLabels { account: account.id.to_string() };
        if let Some(expires) = account.token_expires_at {
            metrics.token_days_left.get_or_create(&label).set((expires - now).num_seconds() as f64 / 86_400.0);
        }
        if let Some(percent) = usage.get(&account.ig_user_id) {
            metrics.rate_limit_usage.get_or_create(&label).set(f64::from(*percent) / 100.0);
        }
    }
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(metrics.encode()))
}
