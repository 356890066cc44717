//! Tidemark: a self-hosted Instagram analytics service.

pub mod accounts;
pub mod analytics;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod error;
pub mod graph;
pub mod metrics;
pub mod routes;
pub mod simulator;
pub mod startup;
pub mod sync;
pub mod telemetry;
