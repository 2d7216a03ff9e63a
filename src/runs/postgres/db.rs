//! The connection to PostgreSQL: one thread of its own runs a current-thread tokio runtime with one
//! tokio-postgres client, and works through jobs one at a time. The store's methods are synchronous and are
//! called from plain threads and from tokio's workers alike (watch's API handlers, the interpreter's
//! runtime): they send a job and wait on a std channel, so no runtime is ever entered or nested.
//!
//! A job that cannot reach the server fails with [`DbError::Unavailable`] (the connection is dropped and made
//! again for the next job, at most once per [`RECONNECT_PAUSE`]); one the server refuses with
//! [`DbError::Query`]. Every job is bounded by the operation timeout. Each new connection checks the schema
//! (`schema.rs`) before it takes a job.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use tokio_postgres::{Client, Config};

/// How long a failed connection attempt keeps the next job from trying again (it fails at once).
const RECONNECT_PAUSE: Duration = Duration::from_millis(300);

/// Why a job failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum DbError {
    /// The server could not be reached, or did not answer in time (the sentence says which).
    Unavailable(String),
    /// The server answered with an error, or the job refused what it found (the sentence says why).
    Query(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Unavailable(s) => write!(f, "PostgreSQL is unreachable: {s}"),
            DbError::Query(s) => f.write_str(s),
        }
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> DbError {
        match e.as_db_error() {
            Some(db) => DbError::Query(format!("PostgreSQL refused: {}", db.message())),
            None => DbError::Unavailable(describe(&e)),
        }
    }
}

/// An error and its causes in one line.
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = s.source();
    }
    text
}

type Job = Box<dyn for<'a> FnOnce(Result<&'a mut Client, DbError>) -> BoxFuture<'a, bool> + Send>;

/// The connection thread's door; cheap to share.
pub(super) struct Db {
    jobs: tokio::sync::mpsc::UnboundedSender<Job>,
    /// Whether the last job reached the server, and why not.
    health: Arc<Mutex<Result<(), String>>>,
    timeout: Duration,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

impl Db {
    /// Starts the connection thread for `config` (connecting on the first job).
    pub(super) fn start(config: Config, timeout: Duration) -> Result<Db, String> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let health = Arc::new(Mutex::new(Ok(())));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the store's runtime: {e}"))?;
        let tls = tls()?;
        std::thread::Builder::new()
            .name("ripcord-store".into())
            .spawn(move || {
                rt.block_on(async move {
                    let mut client: Option<Client> = None;
                    let mut failed_at: Option<(Instant, DbError)> = None;
                    while let Some(job) = rx.recv().await {
                        if client.as_ref().is_some_and(Client::is_closed) {
                            client = None;
                        }
                        if client.is_none() {
                            match &failed_at {
                                Some((at, e)) if at.elapsed() < RECONNECT_PAUSE => {
                                    job(Err(e.clone())).await;
                                    continue;
                                }
                                _ => {}
                            }
                            match connect(&config, tls.clone(), timeout).await {
                                Ok(c) => {
                                    client = Some(c);
                                    failed_at = None;
                                }
                                Err(e) => {
                                    failed_at = Some((Instant::now(), e.clone()));
                                    job(Err(e)).await;
                                    continue;
                                }
                            }
                        }
                        if let Some(c) = client.as_mut()
                            && job(Ok(c)).await
                        {
                            client = None;
                        }
                    }
                });
            })
            .map_err(|e| format!("cannot start the store's thread: {e}"))?;
        Ok(Db { jobs: tx, health, timeout })
    }

    /// Runs `f` on the connection and waits for its answer (at most the operation timeout, plus the time
    /// the jobs before it take).
    pub(super) fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Client) -> BoxFuture<'a, Result<T, DbError>> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        let timeout = self.timeout;
        let job: Job = Box::new(move |c| {
            Box::pin(async move {
                let out = match c {
                    Err(e) => Err(e),
                    Ok(c) => match tokio::time::timeout(timeout, f(c)).await {
                        Ok(r) => r,
                        Err(_) => Err(DbError::Unavailable(format!(
                            "no answer within {}",
                            humantime::format_duration(timeout)
                        ))),
                    },
                };
                let drop_connection = matches!(out, Err(DbError::Unavailable(_)));
                let _ = tx.send(out);
                drop_connection
            })
        });
        if self.jobs.send(job).is_err() {
            return Err(DbError::Unavailable("the store's thread has stopped".into()));
        }
        let out = rx.recv().unwrap_or_else(|_| Err(DbError::Unavailable("the store's thread has stopped".into())));
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        match &out {
            Err(DbError::Unavailable(e)) => *health = Err(e.clone()),
            _ => *health = Ok(()),
        }
        out
    }

    /// Whether the last job reached the server.
    pub(super) fn health(&self) -> Result<(), String> {
        self.health.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// TLS for `sslmode=prefer|require` (rustls with the ring provider, the platform's roots); `sslmode=disable`
/// never uses it.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    use rustls_platform_verifier::ConfigVerifierExt;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config =
        rustls::ClientConfig::with_platform_verifier().map_err(|e| format!("cannot set up TLS for the store: {e}"))?;
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// A new connection, its schema checked (and created or upgraded: `schema.rs`).
async fn connect(
    config: &Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    timeout: Duration,
) -> Result<Client, DbError> {
    let connecting = async {
        let (mut client, connection) = config.connect(tls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        super::schema::migrate(&mut client).await?;
        Ok::<Client, DbError>(client)
    };
    match tokio::time::timeout(timeout, connecting).await {
        Ok(r) => r,
        Err(_) => Err(DbError::Unavailable(format!("no connection within {}", humantime::format_duration(timeout)))),
    }
}
