//! Logging: tracing to stderr as text or JSON, and one line per HTTP request; the
//! Prometheus metrics are in [`metrics`].

pub mod metrics;

use std::io::IsTerminal;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use rand::RngCore;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use self::metrics::{HttpLabels, Metrics, RouteLabels};
use crate::auth::extract::ActiveSession;
use crate::config::LogFormat;

/// The log filter: `RUST_LOG` (default `info`), except that the database driver never logs
/// below warnings, at any level asked for: at debug it writes every statement's bound
/// parameters, password hashes included.
pub fn log_filter(rust_log: Option<&str>) -> EnvFilter {
    let filter = rust_log.and_then(|spec| EnvFilter::try_new(spec).ok()).unwrap_or_else(|| EnvFilter::new("info"));
    ["tokio_postgres=warn", "tokio_postgres::query=warn", "tokio_postgres::prepare=warn", "diesel=warn"]
        .into_iter()
        .filter_map(|directive| directive.parse().ok())
        .fold(filter, EnvFilter::add_directive)
}

pub fn init(format: LogFormat) {
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // A second init (tests spawn many apps in one process) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// A bounded metrics label for the method: made-up methods must not mint new series.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The id of one request, in its log lines and in the `x-request-id` response header.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Paths whose last segment is a secret that opens something by itself (a read-only link).
const SECRET_PATHS: &[&str] = &["/shared/"];

/// The path as the log may hold it: a secret segment is replaced by `…`.
fn loggable_path(path: &str) -> String {
    match SECRET_PATHS.iter().find(|prefix| path.starts_with(*prefix)) {
        Some(prefix) => format!("{prefix}…"),
        None => path.to_owned(),
    }
}

pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    let request_id = hex::encode(bytes);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().clone();
    // The path only: query strings may carry things that do not belong in logs.
    let path = loggable_path(req.path());
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = %request_id);

    let result = next.call(req).instrument(span.clone()).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let _entered = span.enter();
    match result {
        Ok(mut res) => {
            if let Some(metrics) = res.request().app_data::<web::Data<Metrics>>() {
                let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
                let labels = RouteLabels { route, method: method_label(&method).to_owned() };
                metrics.http_duration.get_or_create(&labels).observe(latency_ms / 1000.0);
                let status = res.status().as_u16();
                metrics
                    .http_requests
                    .get_or_create(&HttpLabels { route: labels.route, method: labels.method, status })
                    .inc();
            }
            let user_id = res.request().extensions().get::<ActiveSession>().map(|s| s.user.id.0);
            tracing::info!(%method, %path, status = res.status().as_u16(), latency_ms, user_id, "request");
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                res.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
            }
            Ok(res)
        }
        Err(err) => {
            let status = err.as_response_error().status_code().as_u16();
            tracing::info!(%method, %path, status, latency_ms, "request");
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn a_shared_links_secret_never_reaches_the_log() {
        assert_eq!(loggable_path("/shared/q3Zl1mN2xYk8vB7cD4eF5gH6iJ0kL9mN8oP7qR6sT5u"), "/shared/…");
        assert_eq!(loggable_path("/accounts/5"), "/accounts/5");
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_database_driver_never_logs_bound_parameters_whatever_rust_log_asks() {
        for spec in ["debug", "trace", "tokio_postgres=trace", "tokio_postgres::query=debug,info"] {
            let captured = Captured::default();
            let writer = captured.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(log_filter(Some(spec)))
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::with_default(subscriber, || {
                tracing::debug!(target: "tokio_postgres::query", "executing statement s1 with parameters: [\"$2b$12$hash\"]");
                tracing::debug!(target: "tidemark::sync", "an ordinary debug line");
            });
            let logs =
                String::from_utf8(captured.0.lock().unwrap_or_else(|p| p.into_inner()).clone()).unwrap_or_default();
            assert!(!logs.contains("$2b$12$hash"), "{spec}: {logs}");
            if spec == "debug" || spec == "trace" {
                assert!(logs.contains("an ordinary debug line"), "{spec}: the rest still logs");
            }
        }
    }
}
