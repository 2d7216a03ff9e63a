//! `/metrics`: what `watch` counts, in the Prometheus text format, every name prefixed `ripcord_`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

pub struct Metrics {
    registry: Registry,
    pub evaluations: Family<Labels, Counter>,
    pub evaluation_duration: Histogram,
    pub query_errors: Counter,
    /// Per trigger, how many series are pending and how many firing (`state`); never a series' own labels.
    pub trigger_series: Family<Labels, Gauge>,
    /// Evaluations of a trigger's condition that failed (PromQL would refuse them), per trigger.
    pub evaluation_errors: Family<Labels, Counter>,
    /// Evaluations in which a trigger held for more series than `max series` (every series dropped).
    pub series_limit_exceeded: Family<Labels, Counter>,
    pub runs: Family<Labels, Counter>,
    /// Step durations of the runs `watch` started, by runbook, step kind and outcome.
    pub step_duration: Family<Labels, Histogram>,
    pub reloads: Counter,
    pub reload_failures: Counter,
    /// 1 while the run store answers, 0 while it cannot be reached (a shared store).
    pub store_up: Gauge,
    /// Runs this replica took over from a lost one.
    pub takeovers: Counter,
    /// Starts refused because their firing, request or alert already started a run (another replica's).
    pub duplicate_starts: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("ripcord");
        let evaluations = Family::<Labels, Counter>::default();
        let evaluation_duration = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        let query_errors = Counter::default();
        let trigger_series = Family::<Labels, Gauge>::default();
        let evaluation_errors = Family::<Labels, Counter>::default();
        let series_limit_exceeded = Family::<Labels, Counter>::default();
        let runs = Family::<Labels, Counter>::default();
        let step_duration = Family::<Labels, Histogram>::new_with_constructor(step_buckets as fn() -> Histogram);
        let reloads = Counter::default();
        let reload_failures = Counter::default();
        let store_up = Gauge::default();
        let takeovers = Counter::default();
        let duplicate_starts = Counter::default();
        registry.register("store_up", "Whether the run store answers (1) or cannot be reached (0)", store_up.clone());
        registry.register("takeovers", "Runs taken over from a replica whose lease expired", takeovers.clone());
        registry.register(
            "duplicate_starts",
            "Starts not made because their firing, request or alert already started a run",
            duplicate_starts.clone(),
        );
        registry.register("evaluations", "Evaluations of a runbook's triggers", evaluations.clone());
        registry.register(
            "evaluation_duration_seconds",
            "Time an evaluation took, queries included",
            evaluation_duration.clone(),
        );
        registry.register("query_errors", "Prometheus queries that failed or were ambiguous", query_errors.clone());
        registry.register(
            "trigger_series",
            "Series of a trigger that are pending or firing, by state",
            trigger_series.clone(),
        );
        registry.register(
            "evaluation_errors",
            "Evaluations of a trigger's condition that failed (its series kept their state)",
            evaluation_errors.clone(),
        );
        registry.register(
            "trigger_series_limit_exceeded",
            "Evaluations in which a trigger held for more series than `max series` (every series dropped)",
            series_limit_exceeded.clone(),
        );
        registry.register("runs", "Runs started by watch, by runbook, level and outcome", runs.clone());
        registry.register(
            "step_duration_seconds",
            "How long the steps of runs started by watch took, by runbook, step kind and outcome",
            step_duration.clone(),
        );
        registry.register("reloads", "Runbook reloads that went live", reloads.clone());
        registry.register(
            "reload_failures",
            "Runbook reloads refused (the old version stayed live)",
            reload_failures.clone(),
        );
        Metrics {
            registry,
            evaluations,
            evaluation_duration,
            query_errors,
            trigger_series,
            evaluation_errors,
            series_limit_exceeded,
            step_duration,
            runs,
            reloads,
            reload_failures,
            store_up,
            takeovers,
            duplicate_starts,
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
}

/// Steps take from milliseconds (a notify) to an hour (a database restore).
fn step_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 3.0, 12))
}
