//! `ripcord watch PATH... --prometheus URL`: evaluate runbooks' triggers live and start their levels
//! (docs/watch.md). Exit codes: 0 stopped by SIGTERM/SIGINT, 1 could not start, 2 usage.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Runbook files, or directories searched for `*.runbook`.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Prometheus base URL (e.g. http://127.0.0.1:9090).
    #[arg(long, value_name = "URL")]
    pub prometheus: String,
    /// Where the HTTP API and status page listen (loopback unless a token file is given).
    #[arg(long, default_value = "127.0.0.1:9977", value_name = "ADDR")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub state: super::run::StateArgs,
    /// A file holding the bearer token every POST must carry (trimmed).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// How long one Prometheus query may take, its answer read to the end included.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub query_timeout: Duration,
    #[command(flatten)]
    pub answers: super::AnswerLimitArgs,
    /// How long SIGTERM waits for runs in flight.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub grace: Duration,
    /// Evaluate as this Prometheus major version does: 2 (as 2.42) or 3 (as 3.5) [default: the server's,
    /// from `/api/v1/status/buildinfo`].
    #[arg(long = "prometheus-version", value_name = "2|3", value_parser = clap::value_parser!(crate::eval::PromVersion))]
    pub prometheus_version: Option<crate::eval::PromVersion>,
    /// Trigger state saved longer ago than this is not restored at start (Prometheus's
    /// `--rules.alert.for-outage-tolerance`; docs/watch.md, "Restarts").
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub outage_tolerance: Duration,
    /// A pending `for` restored at start fires no sooner than this after it (Prometheus's
    /// `--rules.alert.for-grace-period`, 10m there; 0 here: docs/watch.md, "Restarts", says why).
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub for_grace_period: Duration,
}

pub fn run(args: &WatchArgs) -> u8 {
    let token = match &args.token_file {
        None => None,
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
            Ok(_) => {
                eprintln!("error: the token file `{}` is empty", path.display());
                return 1;
            }
            Err(e) => {
                eprintln!("error: cannot read the token file `{}`: {e}", path.display());
                return 1;
            }
        },
    };
    crate::watch::run(crate::watch::Options {
        paths: args.paths.clone(),
        prometheus: args.prometheus.clone(),
        listen: args.listen,
        store: args.state.options(true),
        token,
        query_timeout: args.query_timeout,
        max_answer_bytes: args.answers.max_answer_bytes,
        grace: args.grace,
        debounce: Duration::from_millis(50),
        prometheus_version: args.prometheus_version,
        restore: crate::watch::RestoreRules {
            outage_tolerance_ms: u64::try_from(args.outage_tolerance.as_millis()).unwrap_or(u64::MAX),
            grace_ms: u64::try_from(args.for_grace_period.as_millis()).unwrap_or(u64::MAX),
        },
    })
}
