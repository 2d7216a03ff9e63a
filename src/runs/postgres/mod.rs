//! The run store in PostgreSQL (`--store postgres://...`), shared by any number of `watch` replicas and
//! run commands. Same records, same commands as the state dir; what sharing adds: leases with fencing and
//! takeover (`lease.rs`), a journal append checked against the lease in its own transaction
//! (`journal.rs`), run starts decided once by a unique start key, decisions kept in tables where the
//! first one wins, and the schema created and versioned by ripcord (`schema.rs`). The connection lives on
//! a thread of its own (`db.rs`).
//!
//! Tables: `ripcord_schema` (the version), `ripcord_runs`, `ripcord_journal` (run_id, seq, record JSON),
//! `ripcord_leases` (runbook and labels, run, level, holder, epoch, expiry), `ripcord_decisions` and
//! `ripcord_step_decisions` (first wins, by primary key), `ripcord_starts` (start keys: trigger firings,
//! API idempotency keys, Alertmanager fingerprints with `startsAt`), `ripcord_triggers` (each runbook's
//! trigger state, which a restarted or another replica continues from). Snapshot copies and the files
//! `restore` replaced stay in the state dir of the machine that ran the step.

mod db;
mod journal;
mod lease;
mod schema;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use db::{Db, DbError};
use journal::PgJournal;
use lease::Held;
pub use schema::SCHEMA_VERSION;

use super::record::{self, Event, Record};
use super::{
    Claim, DecideError, Decision, Lease, LeaseSettings, LockError, RunJournal, RunStore, RunbookLock, SavedTriggers,
    StateDir, StepDecision, TakenRun, UnreadableRun, now_ms,
};
use crate::plan::Labels;

/// The PostgreSQL store; clones share one connection and one set of leases.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgStore({})", self.inner.location)
    }
}

pub(super) struct Inner {
    db: Db,
    /// Who this process is to the other replicas (`--replica-id`).
    replica: String,
    lease: LeaseSettings,
    /// Whether runs started here may be taken over by another replica when this one is lost.
    takeover: bool,
    /// The leases this process holds, by run id.
    held: Mutex<HashMap<String, Held>>,
    /// Snapshot copies and replaced files (files of this machine).
    files: StateDir,
    /// The URL without its password, for messages.
    location: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A time for people (UTC, seconds).
fn rfc3339(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

impl PgStore {
    /// Connects to `url` and makes the schema current (or refuses a newer one). `files` keeps snapshot
    /// copies and replaced files; `replica` names this process in leases and journals.
    pub fn open(
        url: &str,
        files: StateDir,
        replica: String,
        lease: LeaseSettings,
        takeover: bool,
    ) -> Result<PgStore, String> {
        let config: tokio_postgres::Config =
            url.parse().map_err(|e| format!("--store: `{}` is not a PostgreSQL URL: {e}", shown(url)))?;
        let mut config = config;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(3));
        }
        if config.get_application_name().is_none() {
            config.application_name(format!("ripcord {replica}"));
        }
        let timeout = Duration::from_secs(5).max(lease.heartbeat);
        let db = Db::start(config, timeout)?;
        let inner = Arc::new(Inner {
            db,
            replica,
            lease,
            takeover,
            held: Mutex::new(HashMap::new()),
            files,
            location: shown(url),
        });
        inner.db.run(|_| Box::pin(async { Ok(()) })).map_err(|e| format!("store `{}`: {e}", inner.location))?;
        lease::heartbeat(Arc::downgrade(&inner), lease.heartbeat);
        Ok(PgStore { inner })
    }

    /// This process's name in leases (`--replica-id`).
    pub fn replica(&self) -> &str {
        &self.inner.replica
    }

    fn journal(&self, run_id: &str) -> PgJournal {
        let fence =
            lock(&self.inner.held).get(run_id).map(|h| (h.epoch, h.lost.subscribe(), Arc::clone(&h.valid_until)));
        PgJournal { inner: Arc::clone(&self.inner), run_id: run_id.to_string(), fence }
    }

    fn query<T: Send + 'static>(
        &self,
        f: impl for<'a> FnOnce(&'a mut tokio_postgres::Client) -> futures_util::future::BoxFuture<'a, Result<T, DbError>>
        + Send
        + 'static,
    ) -> Result<T, String> {
        self.inner.db.run(f).map_err(|e| e.to_string())
    }
}

/// A URL without its password.
fn shown(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = &url[scheme + 3..at];
            let user = user.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

fn parse_records(run_id: &str, lines: &[String]) -> Result<Vec<Record>, String> {
    let mut text = lines.join("\n");
    text.push('\n');
    record::parse(&text).map_err(|e| format!("the journal of `{run_id}` in the store: {e}"))
}

impl RunStore for PgStore {
    fn location(&self) -> String {
        self.inner.location.clone()
    }

    fn prepare(&self) -> Result<(), String> {
        self.inner.db.run(|_| Box::pin(async { Ok(()) })).map_err(|e| e.to_string())
    }

    fn journal_location(&self, run_id: &str) -> String {
        format!("{} (run {run_id})", self.inner.location)
    }

    fn create_run(&self, run_id: &str) -> Result<Box<dyn RunJournal>, String> {
        let id = run_id.to_string();
        let created = self.query(move |c| {
            Box::pin(async move {
                Ok(c.execute(
                    "INSERT INTO ripcord_runs (run_id, created_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&id, &now_ms()],
                )
                .await?)
            })
        })?;
        if created == 0 {
            return Err(format!("cannot create the journal of `{run_id}`: the run id is taken"));
        }
        Ok(Box::new(self.journal(run_id)))
    }

    fn reopen_run(&self, run_id: &str) -> Result<Box<dyn RunJournal>, String> {
        self.read_run(run_id)?;
        Ok(Box::new(self.journal(run_id)))
    }

    fn read_run(&self, run_id: &str) -> Result<Vec<Record>, String> {
        let id = run_id.to_string();
        let (exists, lines) = self.query(move |c| {
            Box::pin(async move {
                let exists = c.query_opt("SELECT 1 FROM ripcord_runs WHERE run_id = $1", &[&id]).await?.is_some();
                let rows = c.query("SELECT record FROM ripcord_journal WHERE run_id = $1 ORDER BY seq", &[&id]).await?;
                Ok((exists, rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<String>>()))
            })
        })?;
        if !exists {
            return Err(format!("no run `{run_id}` in `{}` (see `ripcord runs`)", self.inner.location));
        }
        parse_records(run_id, &lines)
    }

    fn list_runs(&self) -> Vec<Result<Vec<Record>, UnreadableRun>> {
        let rows = self.query(|c| {
            Box::pin(async move {
                let rows = c.query("SELECT run_id, record FROM ripcord_journal ORDER BY run_id, seq", &[]).await?;
                Ok(rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, String>(1))).collect::<Vec<_>>())
            })
        });
        let rows = match rows {
            Ok(rows) => rows,
            Err(error) => return vec![Err(UnreadableRun { id: "(store)".into(), error })],
        };
        let mut by_run: Vec<(String, Vec<String>)> = Vec::new();
        for (id, line) in rows {
            match by_run.last_mut() {
                Some((last, lines)) if *last == id => lines.push(line),
                _ => by_run.push((id, vec![line])),
            }
        }
        by_run
            .into_iter()
            .map(|(id, lines)| {
                parse_records(&id, &lines)
                    .and_then(|records| match records.first().map(|r| &r.event) {
                        Some(Event::Start { .. }) => Ok(records),
                        _ => Err(format!("the journal of `{id}` has no start record")),
                    })
                    .map_err(|error| UnreadableRun { id, error })
            })
            .collect()
    }

    fn lock_run(&self, claim: &Claim<'_>) -> Result<RunbookLock, LockError> {
        self.inner.take(claim)
    }

    fn lock_holder(&self, runbook: &str, labels: &Labels) -> Option<String> {
        let (runbook, labels) = (runbook.to_string(), labels.to_string());
        self.query(move |c| {
            Box::pin(async move {
                let row = c
                    .query_opt(
                        "SELECT run_id FROM ripcord_leases WHERE runbook = $1 AND labels = $2 AND expires_at > now()",
                        &[&runbook, &labels],
                    )
                    .await?;
                Ok(row.map(|r| r.get::<_, String>(0)))
            })
        })
        .ok()
        .flatten()
    }

    fn write_decision(&self, run_id: &str, decision: &Decision) -> Result<(), DecideError> {
        let body = serde_json::to_string(decision).map_err(|e| DecideError::Store(e.to_string()))?;
        let (id, level) = (run_id.to_string(), i32::try_from(decision.level).unwrap_or(i32::MAX));
        let won = self
            .query(move |c| {
                Box::pin(async move {
                    let n = c
                        .execute(
                            "INSERT INTO ripcord_decisions (run_id, level, decision) VALUES ($1, $2, $3)
                             ON CONFLICT DO NOTHING",
                            &[&id, &level, &body],
                        )
                        .await?;
                    Ok(n == 1)
                })
            })
            .map_err(DecideError::Store)?;
        if won {
            return Ok(());
        }
        match self.read_decision(run_id, decision.level) {
            Some(first) => Err(DecideError::AlreadyDecided(Box::new(first))),
            None => Err(DecideError::Store("the decision that came first cannot be read".into())),
        }
    }

    fn read_decision(&self, run_id: &str, level: u32) -> Option<Decision> {
        let (id, level) = (run_id.to_string(), i32::try_from(level).unwrap_or(i32::MAX));
        let body: Option<String> = self
            .query(move |c| {
                Box::pin(async move {
                    let row = c
                        .query_opt(
                            "SELECT decision FROM ripcord_decisions WHERE run_id = $1 AND level = $2",
                            &[&id, &level],
                        )
                        .await?;
                    Ok(row.map(|r| r.get(0)))
                })
            })
            .ok()
            .flatten();
        body.and_then(|b| serde_json::from_str(&b).ok())
    }

    fn snapshots(&self) -> PathBuf {
        self.inner.files.snapshots()
    }

    fn kept(&self, run_id: &str) -> PathBuf {
        self.inner.files.kept(run_id)
    }

    fn save_triggers(&self, saved: &SavedTriggers) -> Result<(), String> {
        let body = serde_json::to_string(saved).map_err(|e| format!("cannot save the trigger state: {e}"))?;
        let (runbook, at) = (saved.runbook.clone(), saved.evaluated_at_ms);
        self.query(move |c| {
            Box::pin(async move {
                // Replicas save the same runbook's state after each of their evaluations: the latest wins.
                c.execute(
                    "INSERT INTO ripcord_triggers (runbook, evaluated_at_ms, state) VALUES ($1, $2, $3)
                     ON CONFLICT (runbook) DO UPDATE SET evaluated_at_ms = $2, state = $3
                     WHERE ripcord_triggers.evaluated_at_ms <= $2",
                    &[&runbook, &at, &body],
                )
                .await?;
                Ok(())
            })
        })
        .map_err(|e| format!("cannot save the trigger state of `{}`: {e}", saved.runbook))
    }

    fn load_triggers(&self, runbook: &str) -> Result<Option<SavedTriggers>, String> {
        let name = runbook.to_string();
        let body: Option<String> = self
            .query(move |c| {
                Box::pin(async move {
                    let row = c.query_opt("SELECT state FROM ripcord_triggers WHERE runbook = $1", &[&name]).await?;
                    Ok(row.map(|r| r.get(0)))
                })
            })
            .map_err(|e| format!("cannot read the trigger state of `{runbook}`: {e}"))?;
        match body {
            None => Ok(None),
            Some(text) => super::triggers::decode(&text)
                .map(Some)
                .map_err(|e| format!("the trigger state of `{runbook}` in the store: {e}")),
        }
    }

    fn shared(&self) -> bool {
        true
    }

    fn health(&self) -> Result<(), String> {
        self.inner.db.health()
    }

    fn take_over(&self) -> Vec<TakenRun> {
        self.inner.take_over()
    }

    fn write_step_decision(&self, run_id: &str, decision: &StepDecision) -> Result<(), DecideError> {
        let body = serde_json::to_string(decision).map_err(|e| DecideError::Store(e.to_string()))?;
        let (id, step) = (run_id.to_string(), decision.step.clone());
        let won = self
            .query(move |c| {
                Box::pin(async move {
                    let n = c
                        .execute(
                            "INSERT INTO ripcord_step_decisions (run_id, step, decision) VALUES ($1, $2, $3)
                             ON CONFLICT DO NOTHING",
                            &[&id, &step, &body],
                        )
                        .await?;
                    Ok(n == 1)
                })
            })
            .map_err(DecideError::Store)?;
        if won {
            return Ok(());
        }
        match self.read_step_decision(run_id, &decision.step) {
            Some(first) => Err(DecideError::Store(format!(
                "too late: step {} was already decided ({}) by {}; this decision was not recorded",
                first.step,
                first.choice.word(),
                first.operator
            ))),
            None => Err(DecideError::Store("the decision that came first cannot be read".into())),
        }
    }

    fn read_step_decision(&self, run_id: &str, step: &str) -> Option<StepDecision> {
        let (id, step) = (run_id.to_string(), step.to_string());
        let body: Option<String> = self
            .query(move |c| {
                Box::pin(async move {
                    let row = c
                        .query_opt(
                            "SELECT decision FROM ripcord_step_decisions WHERE run_id = $1 AND step = $2",
                            &[&id, &step],
                        )
                        .await?;
                    Ok(row.map(|r| r.get(0)))
                })
            })
            .ok()
            .flatten();
        body.and_then(|b| serde_json::from_str(&b).ok())
    }

    fn lease_of(&self, run_id: &str) -> Option<Lease> {
        let id = run_id.to_string();
        self.query(move |c| {
            Box::pin(async move {
                let row = c
                    .query_opt(
                        "SELECT holder, epoch, (extract(epoch from expires_at) * 1000)::bigint FROM ripcord_leases
                         WHERE run_id = $1 AND expires_at > now()",
                        &[&id],
                    )
                    .await?;
                Ok(row.map(|r| Lease { run_id: id.clone(), holder: r.get(0), epoch: r.get(1), expires_ms: r.get(2) }))
            })
        })
        .ok()
        .flatten()
    }
}
