//! The one Prometheus HTTP client: `/api/v1/query_range` asked over a span at a step, with a timeout over the
//! whole exchange and a cap on the answer's size (64 MiB unless told otherwise), its matrix answer read into
//! one [`Samples`] per series (with its labels, without the metric name), its failures as [`QueryError`];
//! and Prometheus's lookback, which `eval` follows too. Used by `verify CONDITION` steps (`actions::prom`),
//! `simulate --from-prometheus` (`source::prometheus`) and `watch` (`watch::queries`), which turn the samples
//! into their series.
//!
//! - `client`: [`query_range`], [`RangeQuery`], [`Limits`] (with [`DEFAULT_MAX_ANSWER_BYTES`]), [`QueryError`].
//! - `buildinfo`: [`build_info`], which version a server runs (for `watch`).
//! - `matrix`: reading a `query_range` answer ([`parse_matrix`], [`Samples`]).
//!
//! INVARIANT: nothing here imports anything of the crate but `net`: this module sits below `source`,
//! `eval`, `actions`, `watch`, `cli` and `interpret`, which all may use it.

mod buildinfo;
mod client;
mod matrix;

pub use buildinfo::{BuildInfo, build_info};
pub use client::{DEFAULT_MAX_ANSWER_BYTES, Limits, MAX_POINTS_PER_REQUEST, QueryError, RangeQuery, query_range};
pub use matrix::{Samples, parse_matrix};

/// Prometheus's default lookback delta (`--query.lookback-delta`), 5 minutes: an instant value at `t` is
/// the newest sample in `[t - 5m, t]` (Prometheus 2) or `(t - 5m, t]` (Prometheus 3). A fetch reaches this far before the earliest time a condition reads.
pub const LOOKBACK_MS: i64 = 300_000;
