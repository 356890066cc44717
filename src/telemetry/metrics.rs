//! Prometheus metrics (`/metrics`), named by Prometheus conventions: `tidemark_` prefix,
//! base units, `_total` for counters, `_seconds` for durations. Every label set is bounded:
//! routes are patterns, Graph endpoints a fixed list, accounts a handful; nothing per post,
//! and never a token or secret.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProblemLabels {
    pub what: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GraphLabels {
    pub endpoint: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AccountLabels {
    pub account: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: String,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub sync_runs: Family<OutcomeLabels, Counter>,
    /// What the sync could not record about itself (a run row, an account's new state).
    pub sync_problems: Family<ProblemLabels, Counter>,
    pub graph_calls: Family<GraphLabels, Counter>,
    pub snapshots_written: Counter,
    pub rate_limit_usage: Family<AccountLabels, Gauge<f64, AtomicU64>>,
    pub token_days_left: Family<AccountLabels, Gauge<f64, AtomicU64>>,
    pub pool_connections: Family<PoolLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION").to_owned() }).set(1);
        registry.register("tidemark_build_info", "Tidemark's version (always 1)", build);

        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "tidemark_http_requests",
            "HTTP requests by route pattern, method and status",
            http_requests.clone(),
        );
        let http_duration = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register_with_unit(
            "tidemark_http_request_duration",
            "Time to answer an HTTP request",
            Unit::Seconds,
            http_duration.clone(),
        );
        let sync_runs = Family::<OutcomeLabels, Counter>::default();
        registry.register("tidemark_sync_runs", "Account sync cycles by outcome", sync_runs.clone());
        let sync_problems = Family::<ProblemLabels, Counter>::default();
        registry.register(
            "tidemark_sync_bookkeeping_errors",
            "Sync records that could not be written (run rows, re-connect and pause states)",
            sync_problems.clone(),
        );
        let graph_calls = Family::<GraphLabels, Counter>::default();
        registry.register(
            "tidemark_graph_api_calls",
            "Graph API requests by endpoint and outcome",
            graph_calls.clone(),
        );
        let snapshots_written = Counter::default();
        registry.register("tidemark_snapshots_written", "Post metric snapshots written", snapshots_written.clone());
        let rate_limit_usage = Family::<AccountLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "tidemark_graph_rate_limit_usage_ratio",
            "Highest usage the Graph API last reported for the account (1 = limit)",
            rate_limit_usage.clone(),
        );
        let token_days_left = Family::<AccountLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "tidemark_token_expiry_days",
            "Days until the account's access token expires",
            token_days_left.clone(),
        );
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "tidemark_db_pool_connections",
            "Database pool connections by state",
            pool_connections.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            sync_runs,
            sync_problems,
            graph_calls,
            snapshots_written,
            rate_limit_usage,
            token_days_left,
            pool_connections,
        }
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub fn record_graph_call(&self, endpoint: &str, outcome: &str) {
        self.graph_calls
            .get_or_create(&GraphLabels { endpoint: endpoint.to_owned(), outcome: outcome.to_owned() })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_follow_prometheus_conventions() {
        let metrics = Metrics::new();
        metrics.snapshots_written.inc();
        metrics.record_graph_call("insights", "ok");
        metrics.http_duration.get_or_create(&RouteLabels { route: "/".into(), method: "GET".into() }).observe(0.002);
        let text = metrics.encode();
        assert!(text.contains("tidemark_build_info{version=\""));
        assert!(text.contains("tidemark_snapshots_written_total 1"));
        assert!(text.contains("tidemark_graph_api_calls_total{endpoint=\"insights\",outcome=\"ok\"} 1"));
        assert!(text.contains("# UNIT tidemark_http_request_duration_seconds seconds"), "{text}");
        assert!(
            text.contains("tidemark_http_request_duration_seconds_bucket{le=\"0.002\",route=\"/\",method=\"GET\"} 1")
                || text.contains("tidemark_http_request_duration_seconds_count{route=\"/\",method=\"GET\"} 1"),
            "{text}"
        );
    }
}
