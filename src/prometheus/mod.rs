//! The one Prometheus HTTP client: `/api/v1/query_range` asked over a span at a step, with a timeout (and an
//! optional cap on the answer's size), its matrix answer read into a [`Series`](crate::source::Series), and
//! its failures as [`QueryError`]. Used by `verify CONDITION` steps (`actions::prom`), by `simulate
//! --from-prometheus` ([`history`]) and by `watch`.
//!
//! - `client`: [`query_range`], [`RangeQuery`], [`Limits`], [`QueryError`].
//! - `matrix`: reading a `query_range` answer ([`parse_matrix`]).
//! - `history`: a runbook's history over a simulated period, fetched in chunks.
//!
//! INVARIANT: nothing here imports `actions`, `source`'s readers, `watch`, `cli` or `interpret`; this module
//! sits on `plan`, `eval` (what conditions read, the lookback) and `source::Series` only.

mod client;
mod history;
mod matrix;

pub use client::{Limits, MAX_POINTS_PER_REQUEST, QueryError, RangeQuery, query_range};
pub use history::{HistoryPlan, fetch_history, history_plan};
pub use matrix::parse_matrix;
