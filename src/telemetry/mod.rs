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

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
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

/// The id of one request, in its log lines and in the `x-request-id` response header.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

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
    let path = req.path().to_owned();
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = %request_id);

    let result = next.call(req).instrument(span.clone()).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let _entered = span.enter();
    match result {
        Ok(mut res) => {
            if let Some(metrics) = res.request().app_data::<web::Data<Metrics>>() {
                let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
                let labels = RouteLabels { route, method: method.to_string() };
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
