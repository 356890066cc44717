//! Tidemark: a self-hosted Instagram analytics service.

pub mod analytics;
pub mod auth;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod graph;
pub mod mail;
pub mod publishing;
pub mod routes;
pub mod services;
pub mod simulator;
pub mod startup;
pub mod sync;
pub mod telemetry;
