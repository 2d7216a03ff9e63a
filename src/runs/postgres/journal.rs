//! A run's journal in `ripcord_journal`: one row per record (its JSON, the same text as a state dir's
//! line), numbered in order. An append is one transaction: the run's advisory lock, then the fence (the
//! holder's lease row at its epoch, locked `FOR UPDATE`, so a takeover waits for it or it sees the
//! takeover), then the record. A process that holds no lease on the run may append only while nobody holds
//! a live one (an `undo`, a leftover ended by another run).
//!
//! While PostgreSQL cannot be reached, an append is tried again until it is back or the lease is known
//! lost: the step that ran has ended and its end record must not be lost. Each record carries an id of its
//! own, so a try whose answer was lost is not written twice.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::Inner;
use super::db::DbError;
use crate::runs::RunJournal;
use crate::runs::record::{self, Event};

/// How long an append waits between tries while the store is unreachable.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

pub(super) struct PgJournal {
    pub(super) inner: Arc<Inner>,
    pub(super) run_id: String,
    /// This process's lease on the run: its epoch, what turns when it is lost, and until when it surely
    /// holds by this process's clock.
    pub(super) fence: Option<Fence>,
}

/// A held lease as a journal sees it: its epoch, what turns when it is lost, and until when it surely holds.
pub(super) type Fence = (i64, watch::Receiver<Option<String>>, Arc<Mutex<Instant>>);

/// An id no other record has: this process, now, and a counter.
fn record_id() -> String {
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}-{}-{}",
        std::process::id(),
        crate::runs::now_ms(),
        SERIAL.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
    )
}

impl PgJournal {
    fn lost(&self) -> Option<String> {
        self.fence.as_ref().and_then(|(_, rx, _)| rx.borrow().clone())
    }

    fn try_append(&self, rid: &str, line: &str, ended: bool) -> Result<(), DbError> {
        let (run_id, rid, line) = (self.run_id.clone(), rid.to_string(), line.to_string());
        let fence = self.fence.as_ref().map(|(e, _, _)| *e);
        let me = self.inner.replica.clone();
        self.inner.db.run(move |c| {
            Box::pin(async move {
                let tx = c.transaction().await?;
                tx.execute("SELECT pg_advisory_xact_lock(hashtext('ripcord_run:' || $1))", &[&run_id]).await?;
                match fence {
                    Some(epoch) => {
                        let mine = tx
                            .query_opt(
                                "SELECT 1 FROM ripcord_leases WHERE run_id = $1 AND holder = $2 AND epoch = $3 FOR UPDATE",
                                &[&run_id, &me, &epoch],
                            )
                            .await?;
                        if mine.is_none() {
                            return Err(DbError::Query(FENCED.into()));
                        }
                    }
                    None => {
                        let held = tx
                            .query_opt(
                                "SELECT holder FROM ripcord_leases WHERE run_id = $1 AND expires_at > now() FOR UPDATE",
                                &[&run_id],
                            )
                            .await?;
                        if let Some(h) = held {
                            let holder: String = h.get(0);
                            return Err(DbError::Query(format!("{FENCED} (held by {holder})")));
                        }
                    }
                }
                tx.execute(
                    "INSERT INTO ripcord_journal (run_id, seq, rid, record)
                     SELECT $1, coalesce(max(seq), 0) + 1, $2, $3 FROM ripcord_journal WHERE run_id = $1
                     ON CONFLICT (rid) DO NOTHING",
                    &[&run_id, &rid, &line],
                )
                .await?;
                if ended {
                    tx.execute("UPDATE ripcord_runs SET ended = true WHERE run_id = $1", &[&run_id]).await?;
                }
                tx.commit().await?;
                Ok(())
            })
        })
    }
}

/// What a refused append says.
const FENCED: &str = "the run's lease is held by another process: this one may not write to its journal";

impl RunJournal for PgJournal {
    fn append(&mut self, event: Event) -> io::Result<()> {
        let ended = matches!(event, Event::End { .. });
        let line = record::encode(event)?;
        let line = line.trim_end_matches('\n');
        let rid = record_id();
        loop {
            match self.try_append(&rid, line, ended) {
                Ok(()) => return Ok(()),
                Err(DbError::Query(e)) if e.starts_with(FENCED) => {
                    self.inner.lose(&self.run_id, "another replica took the run over (a journal append was refused)");
                    return Err(io::Error::new(io::ErrorKind::PermissionDenied, e));
                }
                Err(DbError::Query(e)) => return Err(io::Error::other(e)),
                Err(e @ DbError::Unavailable(_)) => {
                    if let Some(why) = self.lost() {
                        return Err(io::Error::new(io::ErrorKind::PermissionDenied, format!("{e}; {why}")));
                    }
                    if self.fence.is_none() {
                        return Err(io::Error::other(e.to_string()));
                    }
                    std::thread::sleep(RETRY_PAUSE);
                }
            }
        }
    }

    fn lease_lost(&self) -> Option<watch::Receiver<Option<String>>> {
        self.fence.as_ref().map(|(_, rx, _)| rx.clone())
    }

    fn check_lease(&self) -> io::Result<()> {
        let Some((_, _, valid_until)) = &self.fence else { return Ok(()) };
        if let Some(why) = self.lost() {
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, why));
        }
        if Instant::now() >= *super::lock(valid_until) {
            let why = "the run's lease was not renewed within its expiry (this process was paused, or cut off \
                       from the store): another replica may hold it now";
            self.inner.lose(&self.run_id, why);
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, why));
        }
        Ok(())
    }
}
