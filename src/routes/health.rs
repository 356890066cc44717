//! Probes for scripts, tests and orchestrators.

use actix_web::{HttpResponse, web};

use crate::error::{AppError, AppResult};
use crate::services::Health;

/// Who may read `/metrics` besides loopback clients.
#[derive(Debug, Clone, Copy)]
pub struct MetricsAccess {
    /// Serve `/metrics` to any address, not only loopback.
    pub public: bool,
}

/// The process is up and serving.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// The database answers and every migration this binary carries is applied.
pub async fn readyz(health: web::Data<Health>) -> HttpResponse {
    match health.ready().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready\n"),
        Err(not_ready) => {
            HttpResponse::ServiceUnavailable().content_type("text/plain").body(format!("{}\n", not_ready.reason()))
        }
    }
}

/// Prometheus metrics: to loopback clients, or to anyone when configured.
pub async fn metrics(
    req: actix_web::HttpRequest,
    health: web::Data<Health>,
    access: web::Data<MetricsAccess>,
) -> AppResult<HttpResponse> {
    let loopback = req.peer_addr().is_some_and(|addr| addr.ip().is_loopback());
    if !loopback && !access.public {
        return Err(AppError::Forbidden);
    }
    let text = health.metrics_text().await?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}
