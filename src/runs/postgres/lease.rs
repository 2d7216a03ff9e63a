//! Leases: the lock of a runbook and label set is a row of `ripcord_leases`, held by one replica for one
//! run under an epoch and an expiry. The holder renews every lease it holds each heartbeat (one UPDATE); a
//! lease it finds gone or bumped is lost, and the run it carries is told at once (see [`Held`]). Another
//! replica takes over a lease that expired (a new epoch), and every journal append checks the epoch in
//! its own transaction (`journal.rs`): a holder that was paused, partitioned or slow past its expiry writes
//! nothing once its run was taken.
//!
//! Taking a lock is one transaction under an advisory lock per runbook: the start key (a firing, a request,
//! an alert) inserted, whose unique constraint decides which replica starts the run, the lease row checked,
//! the level's `max parallel` counted, and the lease row written; any refusal rolls it all back.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::Inner;
use super::db::DbError;
use crate::runs::{Claim, LockError, RunbookLock, START_KEYS_KEPT, TakenRun, now_ms};

/// What this process knows of a lease it holds.
pub(super) struct Held {
    pub(super) epoch: i64,
    /// Turns to `Some(why)` when the lease is lost.
    pub(super) lost: watch::Sender<Option<String>>,
    /// Until when the lease surely holds by this process's clock: the last renewal that succeeded, from
    /// when it was sent, plus the expiry. Past it, another replica may have taken the run.
    pub(super) valid_until: Arc<Mutex<Instant>>,
}

/// A held lease, released (its row deleted, if still ours) when dropped.
struct Guard {
    inner: Arc<Inner>,
    run_id: String,
    epoch: i64,
}

impl Drop for Guard {
    /// An ended run's lease is deleted; a run that stops without ending (interrupted, its lease lost by this
    /// process's clock) has its lease expire now, so that another replica takes it over at once (or, for a
    /// run started by `ripcord run`, `ripcord resume` continues it). A lease taken over is not touched.
    fn drop(&mut self) {
        self.inner.forget(&self.run_id, self.epoch);
        let (run_id, epoch, me) = (self.run_id.clone(), self.epoch, self.inner.replica.clone());
        let _ = self.inner.db.run(move |c| {
            Box::pin(async move {
                c.execute(
                    "DELETE FROM ripcord_leases l WHERE l.run_id = $1 AND l.epoch = $2 AND l.holder = $3
                       AND (NOT EXISTS (SELECT 1 FROM ripcord_runs r WHERE r.run_id = l.run_id)
                            OR EXISTS (SELECT 1 FROM ripcord_runs r WHERE r.run_id = l.run_id AND r.ended))",
                    &[&run_id, &epoch, &me],
                )
                .await?;
                c.execute(
                    "UPDATE ripcord_leases SET expires_at = least(expires_at, now())
                     WHERE run_id = $1 AND epoch = $2 AND holder = $3",
                    &[&run_id, &epoch, &me],
                )
                .await?;
                Ok(())
            })
        });
    }
}

impl Inner {
    fn remember(self: &Arc<Self>, run_id: &str, epoch: i64, taken_at: Instant) -> RunbookLock {
        let (lost, _) = watch::channel(None);
        let valid_until = Arc::new(Mutex::new(taken_at + self.lease.expiry));
        crate::runs::postgres::lock(&self.held).insert(run_id.to_string(), Held { epoch, lost, valid_until });
        RunbookLock::new(Guard { inner: Arc::clone(self), run_id: run_id.to_string(), epoch })
    }

    fn forget(&self, run_id: &str, epoch: i64) {
        let mut held = crate::runs::postgres::lock(&self.held);
        if held.get(run_id).is_some_and(|h| h.epoch == epoch) {
            held.remove(run_id);
        }
    }

    /// Tells the run of `run_id` that its lease is lost, and forgets it.
    pub(super) fn lose(&self, run_id: &str, why: &str) {
        if let Some(h) = crate::runs::postgres::lock(&self.held).remove(run_id) {
            h.lost.send_replace(Some(why.to_string()));
        }
    }

    /// Takes `claim`'s lock (see the module's comment).
    pub(super) fn take(self: &Arc<Self>, claim: &Claim<'_>) -> Result<RunbookLock, LockError> {
        let runbook = claim.runbook.to_string();
        let labels = claim.labels.to_string();
        let shown = if claim.labels.is_empty() { String::new() } else { format!(" for {}", claim.labels) };
        let run_id = claim.run_id.to_string();
        let level = claim.level.map(|s| i32::try_from(s.level).unwrap_or(i32::MAX));
        let max_parallel = claim.level.map_or(0, |s| i64::from(s.max_parallel));
        let start_key = claim.start_key.map(str::to_string);
        let first = match claim.start {
            Some(e) => Some(
                crate::runs::record::encode(e.clone())
                    .map_err(|e| LockError::Store(format!("cannot write the start record: {e}")))?
                    .trim_end()
                    .to_string(),
            ),
            None => None,
        };
        let rid = format!("{}-start", claim.run_id);
        let (me, takeover, expiry) = (self.replica.clone(), self.takeover, self.expiry_ms());
        let for_series = shown.clone();
        let asked = Instant::now();
        let outcome = self.db.run(move |c| {
            Box::pin(async move {
                let tx = c.transaction().await?;
                tx.execute("SELECT pg_advisory_xact_lock(hashtext('ripcord_runbook:' || $1))", &[&runbook]).await?;
                // The start key first: a start already made is a duplicate, whatever else holds.
                if let Some(key) = &start_key {
                    let kind = key.split(':').next().unwrap_or_default().to_string();
                    let inserted = tx
                        .execute(
                            "INSERT INTO ripcord_starts (start_key, kind, run_id, created_ms) VALUES ($1, $2, $3, $4)
                             ON CONFLICT (start_key) DO NOTHING",
                            &[key, &kind, &run_id, &now_ms()],
                        )
                        .await?;
                    if inserted == 0 {
                        let first: String = tx
                            .query_opt("SELECT run_id FROM ripcord_starts WHERE start_key = $1", &[key])
                            .await?
                            .map_or_else(String::new, |r| r.get(0));
                        return Ok(Err(LockError::Duplicate(first)));
                    }
                }
                let row = tx
                    .query_opt(
                        "SELECT l.run_id, l.holder, l.epoch, l.expires_at < now(), l.takeover,
                                coalesce(r.ended, false), (extract(epoch from l.expires_at) * 1000)::bigint
                         FROM ripcord_leases l LEFT JOIN ripcord_runs r ON r.run_id = l.run_id
                         WHERE l.runbook = $1 AND l.labels = $2 FOR UPDATE OF l",
                        &[&runbook, &labels],
                    )
                    .await?;
                let mut epoch = 1i64;
                if let Some(row) = row {
                    let (held_by, holder, old_epoch): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
                    let (expired, may_take_over, ended): (bool, bool, bool) = (row.get(3), row.get(4), row.get(5));
                    let expires_ms: i64 = row.get(6);
                    if held_by == run_id && (expired || holder == me) {
                        // The same run, resumed here: its lease passes on under a new epoch.
                        epoch = old_epoch + 1;
                    } else if !ended && !expired {
                        return Ok(Err(LockError::Held(format!(
                            "runbook `{runbook}` is already running{for_series} (run {held_by}, held by {holder} until \
                             {}); one run per label set at a time (see `ripcord runs`)",
                            crate::runs::postgres::rfc3339(expires_ms)
                        ))));
                    } else if !ended && may_take_over {
                        return Ok(Err(LockError::Held(format!(
                            "runbook `{runbook}` has a run{for_series} whose replica was lost (run {held_by}, lease of \
                             {holder} expired): a watch replica takes it over, or `ripcord resume {held_by}`"
                        ))));
                    } else {
                        epoch = old_epoch + 1;
                    }
                    tx.execute("DELETE FROM ripcord_leases WHERE runbook = $1 AND labels = $2", &[&runbook, &labels])
                        .await?;
                }
                if let Some(level) = level {
                    let others = tx
                        .query(
                            "SELECT l.run_id, l.labels FROM ripcord_leases l
                             LEFT JOIN ripcord_runs r ON r.run_id = l.run_id
                             WHERE l.runbook = $1 AND l.level = $2 AND l.run_id <> $3
                               AND NOT coalesce(r.ended, false) AND (l.expires_at > now() OR l.takeover)
                             ORDER BY l.labels",
                            &[&runbook, &level, &run_id],
                        )
                        .await?;
                    if others.len() as i64 >= max_parallel {
                        let names: Vec<String> = others
                            .iter()
                            .map(|r| {
                                let (id, l): (String, String) = (r.get(0), r.get(1));
                                if l == "{}" { format!("run {id}") } else { format!("run {id} for {l}") }
                            })
                            .collect();
                        return Ok(Err(LockError::LevelFull(format!(
                            "level {level} of `{runbook}` already has {} run{} going (`max parallel {max_parallel}`): {}",
                            others.len(),
                            if others.len() == 1 { "" } else { "s" },
                            names.join(", ")
                        ))));
                    }
                }
                tx.execute(
                    "INSERT INTO ripcord_leases (runbook, labels, run_id, level, holder, epoch, expires_at, takeover, start_key)
                     VALUES ($1, $2, $3, $4, $5, $6, now() + $7::bigint * interval '1 millisecond', $8, $9)",
                    &[&runbook, &labels, &run_id, &level, &me, &epoch, &expiry, &takeover, &start_key],
                )
                .await?;
                if let Some(first) = &first {
                    let created = tx
                        .execute(
                            "INSERT INTO ripcord_runs (run_id, created_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                            &[&run_id, &now_ms()],
                        )
                        .await?;
                    if created == 0 {
                        return Ok(Err(LockError::Store(format!("the run id `{run_id}` is taken"))));
                    }
                    tx.execute(
                        "INSERT INTO ripcord_journal (run_id, seq, rid, record) VALUES ($1, 1, $2, $3)",
                        &[&run_id, &rid, first],
                    )
                    .await?;
                }
                tx.commit().await?;
                Ok(Ok(epoch))
            })
        });
        match outcome {
            Ok(Ok(epoch)) => Ok(self.remember(claim.run_id, epoch, asked)),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(LockError::Store(format!("cannot take the lock of `{}`{shown}: {e}", claim.runbook))),
        }
    }

    pub(super) fn expiry_ms(&self) -> i64 {
        i64::try_from(self.lease.expiry.as_millis()).unwrap_or(i64::MAX)
    }

    /// Renews every lease this process holds; tells the runs whose lease is gone. `Err` when the store
    /// did not answer (nothing is lost then: the next renewal decides).
    pub(super) fn renew(&self) -> Result<(), DbError> {
        let (me, expiry) = (self.replica.clone(), self.expiry_ms());
        let mine: Vec<String> = crate::runs::postgres::lock(&self.held).keys().cloned().collect();
        let sent = Instant::now();
        let kept: Vec<(String, i64)> = self.db.run(move |c| {
            Box::pin(async move {
                let rows = c
                    .query(
                        "UPDATE ripcord_leases SET expires_at = now() + $2::bigint * interval '1 millisecond'
                         WHERE holder = $1 AND run_id = ANY($3) RETURNING run_id, epoch",
                        &[&me, &expiry, &mine],
                    )
                    .await?;
                Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
            })
        })?;
        for (id, h) in crate::runs::postgres::lock(&self.held).iter() {
            if kept.iter().any(|(k, e)| k == id && *e == h.epoch) {
                *crate::runs::postgres::lock(&h.valid_until) = sent + self.lease.expiry;
            }
        }
        let lost: Vec<String> = crate::runs::postgres::lock(&self.held)
            .iter()
            .filter(|(id, h)| !kept.iter().any(|(k, e)| k == *id && *e == h.epoch))
            .map(|(id, _)| id.clone())
            .collect();
        for id in lost {
            self.lose(&id, "its lease was taken over by another replica");
        }
        Ok(())
    }

    /// Takes over the runs whose lease expired (see [`crate::runs::RunStore::take_over`]).
    pub(super) fn take_over(self: &Arc<Self>) -> Vec<TakenRun> {
        let (me, expiry) = (self.replica.clone(), self.expiry_ms());
        let asked = Instant::now();
        let taken = self.db.run(move |c| {
            Box::pin(async move {
                let stale = c
                    .query(
                        "SELECT runbook, labels, epoch FROM ripcord_leases
                         WHERE takeover AND expires_at < now() AND holder <> $1 ORDER BY expires_at LIMIT 20",
                        &[&me],
                    )
                    .await?;
                let mut out = Vec::new();
                for row in stale {
                    let (runbook, labels, epoch): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
                    let tx = c.transaction().await?;
                    let bumped = tx
                        .query_opt(
                            "UPDATE ripcord_leases l SET holder = $4, epoch = l.epoch + 1,
                                    expires_at = now() + $5::bigint * interval '1 millisecond'
                             FROM ripcord_leases old
                             WHERE l.runbook = $1 AND l.labels = $2 AND l.epoch = $3 AND l.expires_at < now()
                               AND old.runbook = l.runbook AND old.labels = l.labels
                             RETURNING l.run_id, l.epoch, old.holder,
                                       (extract(epoch from old.expires_at) * 1000)::bigint, l.start_key",
                            &[&runbook, &labels, &epoch, &me, &expiry],
                        )
                        .await?;
                    let Some(b) = bumped else {
                        tx.rollback().await?;
                        continue;
                    };
                    let (run_id, new_epoch, from, expired_ms): (String, i64, String, i64) =
                        (b.get(0), b.get(1), b.get(2), b.get(3));
                    let start_key: Option<String> = b.get(4);
                    let state = tx
                        .query_opt(
                            "SELECT r.ended, EXISTS (SELECT 1 FROM ripcord_journal j WHERE j.run_id = r.run_id)
                             FROM ripcord_runs r WHERE r.run_id = $1",
                            &[&run_id],
                        )
                        .await?;
                    let (ended, journalled) = state.map_or((false, false), |r| (r.get(0), r.get(1)));
                    if ended || !journalled {
                        // Nothing to continue: a stale lock, or a run lost before its first record (its
                        // start key is given back, so that the next evaluation starts it).
                        tx.execute("DELETE FROM ripcord_leases WHERE run_id = $1", &[&run_id]).await?;
                        if !journalled && let Some(key) = &start_key {
                            tx.execute("DELETE FROM ripcord_starts WHERE start_key = $1", &[key]).await?;
                        }
                        tx.commit().await?;
                        continue;
                    }
                    tx.commit().await?;
                    out.push((run_id, new_epoch, from, expired_ms));
                }
                Ok(out)
            })
        });
        taken
            .unwrap_or_default()
            .into_iter()
            .map(|(run_id, epoch, from, expired_ms)| TakenRun {
                lock: self.remember(&run_id, epoch, asked),
                run_id,
                from,
                epoch,
                expired_ms,
            })
            .collect()
    }
}

/// Renews this process's leases every heartbeat for as long as the store lives; prunes start keys older
/// than [`START_KEYS_KEPT`] now and then.
pub(super) fn heartbeat(inner: Weak<Inner>, every: Duration) {
    let _ = std::thread::Builder::new().name("ripcord-lease".into()).spawn(move || {
        let mut beats = 0u64;
        loop {
            std::thread::sleep(every);
            let Some(inner) = inner.upgrade() else { return };
            let _ = inner.renew();
            beats += 1;
            if beats % 720 == 1 {
                let oldest = now_ms() - START_KEYS_KEPT.as_millis() as i64;
                let _ = inner.db.run(move |c| {
                    Box::pin(async move {
                        c.execute("DELETE FROM ripcord_starts WHERE created_ms < $1", &[&oldest]).await?;
                        Ok(())
                    })
                });
            }
        }
    });
}
