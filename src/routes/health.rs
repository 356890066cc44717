//! Probes for scripts, tests and orchestrators.

use actix_web::{HttpResponse, web};

use crate::error::{AppError, AppResult};
use crate::services::Health;

/// Who may read `/metrics` besides direct loopback clients.
#[derive(Clone)]
pub struct MetricsAccess {
    /// Serve `/metrics` to any address, not only loopback.
    pub public: bool,
    /// `Authorization: Bearer <token>` opens it from anywhere.
    pub token: Option<String>,
}

impl MetricsAccess {
    /// A loopback peer without forwarding headers (a proxy on the same host forwards the
    /// world), a matching bearer token (compared in constant time), or a public setting.
    fn allows(&self, req: &actix_web::HttpRequest) -> bool {
        let headers = req.headers();
        let proxied = ["x-forwarded-for", "forwarded", "x-real-ip"].iter().any(|h| headers.contains_key(*h));
        let loopback = req.peer_addr().is_some_and(|addr| addr.ip().is_loopback());
        let bearer = headers
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let token_ok = match (&self.token, bearer) {
            (Some(expected), Some(given)) => {
                use subtle::ConstantTimeEq;
                expected.as_bytes().ct_eq(given.trim().as_bytes()).into()
            }
            _ => false,
        };
        self.public || token_ok || (loopback && !proxied)
    }
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
    if !access.allows(&req) {
        return Err(AppError::Forbidden);
    }
    let text = health.metrics_text().await?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}
