//! The store's tables, created and upgraded by ripcord: `ripcord_schema` holds one row with the schema's
//! version; [`MIGRATIONS`] run in order, each in the transaction that records its version, under an
//! advisory lock, so that replicas starting together migrate once. A schema newer than this binary knows is
//! refused: an older ripcord must not write to tables it does not understand.

use tokio_postgres::Client;

use super::db::DbError;

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i32 = 2;

/// The advisory lock key migrations hold (any fixed number; "ripc" in ASCII).
const MIGRATION_LOCK: i64 = 0x7269_7063;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: runs, their journals, leases (locks held by a replica under an epoch), decisions, start keys.
    "CREATE TABLE ripcord_runs (
        run_id text PRIMARY KEY,
        created_ms bigint NOT NULL,
        ended boolean NOT NULL DEFAULT false
    );
    CREATE TABLE ripcord_journal (
        run_id text NOT NULL REFERENCES ripcord_runs (run_id),
        seq bigint NOT NULL,
        rid text NOT NULL UNIQUE,
        record text NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE ripcord_leases (
        runbook text NOT NULL,
        labels text NOT NULL,
        run_id text NOT NULL,
        level integer,
        holder text NOT NULL,
        epoch bigint NOT NULL,
        expires_at timestamptz NOT NULL,
        takeover boolean NOT NULL,
        start_key text,
        PRIMARY KEY (runbook, labels)
    );
    CREATE INDEX ripcord_leases_run ON ripcord_leases (run_id);
    CREATE INDEX ripcord_leases_holder ON ripcord_leases (holder);
    CREATE TABLE ripcord_decisions (
        run_id text NOT NULL,
        level integer NOT NULL,
        decision text NOT NULL,
        PRIMARY KEY (run_id, level)
    );
    CREATE TABLE ripcord_step_decisions (
        run_id text NOT NULL,
        step text NOT NULL,
        decision text NOT NULL,
        PRIMARY KEY (run_id, step)
    );
    CREATE TABLE ripcord_starts (
        start_key text PRIMARY KEY,
        kind text NOT NULL,
        run_id text NOT NULL,
        created_ms bigint NOT NULL
    );",
    // 2: each runbook's trigger state (`runs::SavedTriggers`), which replicas and restarts continue from.
    "CREATE TABLE ripcord_triggers (
        runbook text PRIMARY KEY,
        evaluated_at_ms bigint NOT NULL,
        state text NOT NULL
    );",
];

/// Creates or upgrades the schema to [`SCHEMA_VERSION`]; refuses a newer one.
pub(super) async fn migrate(client: &mut Client) -> Result<(), DbError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS ripcord_schema (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)",
    )
    .await?;
    let found: i32 =
        tx.query_opt("SELECT version FROM ripcord_schema WHERE id = 1", &[]).await?.map_or(0, |r| r.get(0));
    if found > SCHEMA_VERSION {
        return Err(DbError::Query(format!(
            "the store's schema is version {found}, newer than this ripcord knows (version {SCHEMA_VERSION}); \
             it was upgraded by a newer ripcord: run that version (or newer) against this store"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)) {
        tx.batch_execute(sql)
            .await
            .map_err(|e| DbError::Query(format!("cannot upgrade the store's schema to version {}: {e}", i + 1)))?;
    }
    if found < SCHEMA_VERSION {
        tx.execute(
            "INSERT INTO ripcord_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = $1",
            &[&SCHEMA_VERSION],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
