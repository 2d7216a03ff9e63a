//! `ripcord watch`: evaluates runbooks' triggers against a live Prometheus and starts their levels through
//! the interpreter (`interpret::start`, the same journal, locks, approvals and cooldowns as `ripcord run`).
//!
//! - `prom`: one `query_range` per distinct declared query per evaluation, concurrently, with a timeout.
//! - `engine`: the loaded runbooks, their [`TriggerMachine`](crate::eval::TriggerMachine)s, hot reload.
//! - `api`: the HTTP API and the status page (axum), bearer-token auth on every POST.
//! - `metrics`: `/metrics` (prometheus-client, `ripcord_` prefix).
//!
//! See docs/watch.md.

pub mod api;
pub mod engine;
pub mod metrics;
pub mod prom;

pub use engine::{Options, run};
