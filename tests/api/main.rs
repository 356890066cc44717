//! Integration tests: the real server over HTTP, a fresh PostgreSQL database per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod accounts;
mod analytics;
mod architecture;
mod archive;
mod auth;
mod browser;
mod connect;
mod csrf;
mod demo;
mod graph;
mod health;
mod helpers;
mod input;
mod meta;
mod migrations;
mod planner;
mod publishing;
mod retention;
mod second_factor;
mod security;
mod simulator;
mod sync;
mod users;
mod webhooks;
