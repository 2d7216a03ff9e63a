//! `ripcord watch`: evaluates runbooks' triggers against a live Prometheus and starts their levels through
//! the interpreter (`interpret::start`, the same journal, locks, approvals and cooldowns as `ripcord run`).
//!
//! - `state`: the live state every part shares ([`WatchState`](state::WatchState)): watched runbooks, their
//!   trigger machines, the runs started.
//! - `reload`: finding, reading and compiling runbook files; hot reload over a directory watch.
//! - `queries`: one `query_range` (through `crate::prometheus`) per distinct declared query per evaluation.
//! - `evaluate`: one evaluation: queries, conditions, the [`TriggerMachine`](crate::eval::TriggerMachine)s,
//!   notifications, starting levels.
//! - `webhook`: the Alertmanager webhook body read ([`parse_webhook`](webhook::parse_webhook)) and the
//!   bounded memory of the firings already answered.
//! - `api`: the HTTP API and the status page (axum), bearer-token auth on every POST.
//! - `metrics`: `/metrics` (prometheus-client, `ripcord_` prefix).
//! - `service`: start-up, the evaluation loop, shutdown.
//!
//! Arrows: `api`, `evaluate`, `reload` and `service` use `state`; `api` and `state` use `webhook`; nothing
//! uses `api` but `service`.
//!
//! See docs/watch.md.

pub mod api;
pub mod evaluate;
pub mod metrics;
pub mod queries;
pub mod reload;
pub mod service;
pub mod state;
pub mod webhook;

pub use service::{Options, run};
