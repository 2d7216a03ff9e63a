//! Stopping a run. Under `ripcord run` and `resume`, the first SIGINT or SIGTERM interrupts it: running
//! steps end at once (their process groups are killed), no new step starts, and the run is journalled
//! `interrupted` for `ripcord resume`. A caller that handles signals itself (`watch`) holds an
//! [`Interrupter`] instead, which can also let running steps finish (drain).

use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::{Interpreter, mutex};

/// How a caller that handles signals itself (`watch`) stops the runs it started, instead of the run's own
/// SIGINT/SIGTERM handler. [`Interrupter::drain`] lets the running steps end and starts no new one (the run is
/// journalled `interrupted` after them, for `ripcord resume`); [`Interrupter::interrupt`] also ends the running
/// steps at once, as a signal does under `ripcord run`. Clones share one state.
#[derive(Clone, Debug)]
pub struct Interrupter {
    inner: Arc<InterrupterInner>,
}

#[derive(Debug)]
struct InterrupterInner {
    draining: Mutex<Option<&'static str>>,
    tx: watch::Sender<Option<&'static str>>,
}

impl Default for Interrupter {
    fn default() -> Self {
        Interrupter { inner: Arc::new(InterrupterInner { draining: Mutex::new(None), tx: watch::Sender::new(None) }) }
    }
}

impl Interrupter {
    pub fn new() -> Self {
        Self::default()
    }

    /// No step starts any more; running steps end on their own. `why` is journalled (e.g. "SIGTERM").
    pub fn drain(&self, why: &'static str) {
        mutex(&self.inner.draining).get_or_insert(why);
    }

    /// Running steps are ended at once, as by a signal under `ripcord run`.
    pub fn interrupt(&self, why: &'static str) {
        self.drain(why);
        self.inner.tx.send_if_modified(|v| {
            if v.is_none() {
                *v = Some(why);
                true
            } else {
                false
            }
        });
    }

    fn draining(&self) -> Option<&'static str> {
        *mutex(&self.inner.draining)
    }
}

/// What tells the run it is interrupted: `interrupter`'s, when the caller stops the run itself; otherwise
/// a handler of this process's SIGINT and SIGTERM.
pub(super) fn receiver(interrupter: Option<&Interrupter>) -> Result<watch::Receiver<Option<&'static str>>, String> {
    match interrupter {
        Some(i) => Ok(i.inner.tx.subscribe()),
        None => {
            let (tx, rx) = watch::channel(None);
            listen_for_signals(tx)?;
            Ok(rx)
        }
    }
}

/// Listens for SIGINT and SIGTERM; the first one interrupts the run.
fn listen_for_signals(tx: watch::Sender<Option<&'static str>>) -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("cannot listen for SIGINT: {e}"))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        };
        let _ = tx.send(Some(name));
        // Keep the sender (and the handlers) alive so later signals do not kill the process mid-journal.
        loop {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
    });
    Ok(())
}

impl Interpreter {
    /// Resolves when the run is interrupted, with what interrupted it.
    pub(super) async fn interrupted(&self) -> &'static str {
        let mut rx = self.interrupt.clone();
        match rx.wait_for(|v| v.is_some()).await {
            Ok(v) => v.unwrap_or("signal"),
            Err(_) => std::future::pending().await,
        }
    }

    fn is_interrupted(&self) -> bool {
        self.interrupt.borrow().is_some()
    }

    /// Whether no new step may start: interrupted, or drained by the caller.
    pub(super) fn stops_new_steps(&self) -> bool {
        self.is_interrupted() || self.interrupter.as_ref().is_some_and(|i| i.draining().is_some())
    }

    /// What stopped the run, for the journal.
    pub(super) fn stop_reason(&self) -> &'static str {
        (*self.interrupt.borrow())
            .or_else(|| self.interrupter.as_ref().and_then(Interrupter::draining))
            .unwrap_or("signal")
    }
}

/// What stops a run whose lease was taken (a shared store), as [`Interrupter::interrupt`] does.
pub(super) const LEASE_LOST: &str = "lease lost";

/// `rx`, which also turns to [`LEASE_LOST`] when `lost` does: a run whose lease another replica took stops
/// at once (its running steps' process groups are ended), as if interrupted. Spawned on the run's runtime.
pub(super) fn or_lease_lost(
    rx: watch::Receiver<Option<&'static str>>,
    lost: Option<watch::Receiver<Option<String>>>,
) -> watch::Receiver<Option<&'static str>> {
    let Some(mut lost) = lost else { return rx };
    let (tx, out) = watch::channel(*rx.borrow());
    let mut base = rx;
    tokio::spawn(async move {
        let (mut base_open, mut lost_open) = (true, true);
        while base_open || lost_open {
            tokio::select! {
                r = base.wait_for(|v| v.is_some()), if base_open => match r {
                    Ok(v) => {
                        let v = *v;
                        tx.send_replace(v);
                        break;
                    }
                    Err(_) => base_open = false,
                },
                r = lost.wait_for(|v| v.is_some()), if lost_open => match r {
                    Ok(_) => {
                        tx.send_replace(Some(LEASE_LOST));
                        break;
                    }
                    Err(_) => lost_open = false,
                },
            }
        }
        // The sender lives as long as the run: a closed channel would read as "never interrupted".
        std::future::pending::<()>().await;
    });
    out
}
