//! `ripcord watch`: evaluates runbooks' triggers against a live Prometheus, per series, and starts one run
//! of a trigger's level per firing series, carrying the series' labels, through the interpreter
//! (`interpret::claim`, the same journal, locks, approvals and cooldowns as `ripcord run`).
//!
//! - `state`: the live state every part shares ([`WatchState`](state::WatchState)): watched runbooks, their
//!   triggers' machines per series, the series waiting for room, the runs started.
//! - `reload`: finding, reading and compiling runbook files; hot reload over a directory watch.
//! - `queries`: one `query_range` (through `crate::prometheus`) per distinct declared query per evaluation.
//! - `evaluate`: one evaluation: queries, conditions per series, the triggers'
//!   [`SeriesMachines`](crate::eval::SeriesMachines), notifications, the series' runs queued.
//! - `persist`: each runbook's trigger state saved to the store after an evaluation, and restored under
//!   Prometheus's rules when the runbook goes live after a restart.
//! - `start`: starting a level for a label set (through `interpret::claim`), and the series waiting for
//!   room in their level (`max parallel`).
//! - `webhook`: the Alertmanager webhook body read ([`parse_webhook`](webhook::parse_webhook)) and the
//!   bounded memory of the firings already answered.
//! - `api`: the HTTP API and the status page (axum), bearer-token auth on every POST.
//! - `metrics`: `/metrics` (prometheus-client, `ripcord_` prefix).
//! - `service`: start-up, the evaluation loop, shutdown.
//!
//! Arrows: `api`, `evaluate`, `start`, `reload`, `persist` and `service` use `state`; `reload` and
//! `persist` use each other; `evaluate` uses `persist`; `evaluate` and `api` use `start`; `api` and `state`
//! use `webhook`; nothing uses `api` but `service`.
//!
//! See docs/watch.md.

pub mod api;
pub mod evaluate;
pub mod metrics;
mod persist;
pub mod queries;
pub mod reload;
pub mod service;
pub mod start;
pub mod state;
pub mod webhook;

pub use service::{Options, run};
pub use state::RestoreRules;
