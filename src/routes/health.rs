//! Probes for scripts, tests and orchestrators.

use std::time::Duration;

use actix_web::{HttpResponse, web};

use crate::db;
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
