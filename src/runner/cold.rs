//! Cold-cache figures (`SET pg_perfsuite.cold_cache = on`): after a timed query's warm
//! measurement, a few more executions, each preceded by evicting the tables and
//! indexes its plan reads from shared buffers (pg_buffercache's evict functions,
//! PostgreSQL 17 and later) and from the operating system's page cache
//! (pg::oscache). What was evicted is recorded with the figures. Where shared buffers
//! cannot be evicted (15, 16, or no pg_buffercache), no cold figure is made: a
//! measurement that read from shared buffers would not be cold, whatever it is called.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use serde::Serialize;

use crate::errors::{raise, OrInternal, SqlError};
use crate::pg::oscache::{self, Dropped};
use crate::pg::subxact::{in_subtransaction, OnSuccess};
use crate::runner::{context, timed};
use crate::suite::model::TestDef;
use crate::sut::Target;

/// At most this many cold executions per test: each one evicts and re-reads its data.
pub const MAX_COLD_ITERATIONS: i32 = 10;

/// How shared buffers are evicted on this server: pg_buffercache's functions, in the
/// schema `schema_q` (quoted).
#[derive(Debug, Clone)]
pub struct Evictor {
    pub schema_q: String,
    /// pg_buffercache 1.6 (PostgreSQL 18) has pg_buffercache_evict_relation(regclass);
    /// 1.5 (PostgreSQL 17) only pg_buffercache_evict(bufferid), called per buffer.
    pub per_relation: bool,
}

#[derive(Debug, Clone)]
pub enum Capability {
    Cold(Evictor),
    /// Why no figure of this run can be cold.
    Impossible(String),
}

/// Refuse a cold run to a role that is not a superuser: the evict functions are
/// superuser-only, and dropping the OS cache of relations slows other sessions.
pub fn require_superuser() {
    if !crate::pg::roles::is_superuser() {
        raise(
            Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "pg_perfsuite.cold_cache needs a superuser: evicting shared buffers (pg_buffercache) is superuser-only",
            Some("RESET pg_perfsuite.cold_cache for a warm run, or run as a superuser."),
        );
    }
}

/// What this server can do. Installs pg_buffercache when the server has it and this
/// database does not (like pg_trgm for the search tests; DROP EXTENSION removes it).
pub fn detect() -> Capability {
    let version = Spi::get_one::<i32>("SELECT pg_catalog.current_setting('server_version_num')::int")
        .or_internal("server_version_num")
        .unwrap_or(0);
    if version < 170_000 {
        return Capability::Impossible(format!(
            "PostgreSQL {} cannot evict shared buffers (pg_buffercache's evict functions need 17 or later)",
            version / 10_000
        ));
    }
    let installed = || {
        Spi::get_one::<String>(
            "SELECT (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_buffercache')",
        )
        .or_internal("pg_buffercache version")
    };
    if installed().is_none() {
        let available = Spi::get_one::<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_buffercache')",
        )
        .or_internal("pg_available_extensions")
        .unwrap_or(false);
        if !available {
            return Capability::Impossible(
                "this server has no pg_buffercache extension (PostgreSQL contrib) to evict shared buffers with".into(),
            );
        }
        // Into pg_perfsuite's own schema: the search_path here starts with pg_catalog,
        // where an extension may not put its objects.
        let schema_q = crate::pg::catalog::own_schema_q();
        Spi::run(&format!("CREATE EXTENSION pg_buffercache WITH SCHEMA {schema_q}"))
            .or_internal("CREATE EXTENSION pg_buffercache");
        notice!(
            "pg_buffercache installed in schema {schema_q} for cold-cache figures (DROP EXTENSION pg_buffercache removes it)"
        );
    }
    let v = installed().unwrap_or_default();
    let schema_q = crate::pg::catalog::extension_schema_q("pg_buffercache").unwrap_or_default();
    match v.as_str() {
        "1.0" | "1.1" | "1.2" | "1.3" | "1.4" => Capability::Impossible(format!(
            "pg_buffercache {v} has no evict function; ALTER EXTENSION pg_buffercache UPDATE brings it"
        )),
        "1.5" => Capability::Cold(Evictor { schema_q, per_relation: false }),
        _ => Capability::Cold(Evictor { schema_q, per_relation: true }),
    }
}

/// What one eviction did, summed over the relations of a plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Eviction {
    pub relations: Vec<String>,
    pub shared_buffers_evicted: i64,
    /// Buffers of those relations still in shared buffers afterwards (pinned by
    /// another session): 0 means fully cold.
    pub shared_buffers_left: i64,
    pub os: Dropped,
    pub problems: Vec<String>,
}

/// Evict the relations named in a plan (resolved in the target schema).
fn evict(ev: &Evictor, target: &Target, names: &[String]) -> Eviction {
    let mut out = Eviction::default();
    for name in names {
        let found = Spi::get_two_with_args::<pg_sys::Oid, String>(
            "SELECT c.oid, pg_catalog.pg_relation_filepath(c.oid) FROM pg_catalog.pg_class c \
              WHERE c.relname = $1 AND c.relnamespace = $2::pg_catalog.regnamespace",
            &[name.as_str().into(), target.schema.as_str().into()],
        );
        let Ok((Some(oid), Some(path))) = found else {
            out.problems.push(format!("{name}: not a relation of schema {}", target.schema));
            continue;
        };
        let schema_q = &ev.schema_q;
        let evict_sql = if ev.per_relation {
            format!("SELECT buffers_evicted::int8 FROM {schema_q}.pg_buffercache_evict_relation($1)")
        } else {
            format!(
                "SELECT pg_catalog.count(*) FILTER (WHERE {schema_q}.pg_buffercache_evict(b.bufferid)) \
                   FROM {schema_q}.pg_buffercache b {BUFFERS_OF}"
            )
        };
        match Spi::get_one_with_args::<i64>(&evict_sql, &[oid.into()]) {
            Ok(n) => out.shared_buffers_evicted += n.unwrap_or(0),
            Err(e) => out.problems.push(format!("{name}: shared buffers not evicted: {e}")),
        }
        out.shared_buffers_left += Spi::get_one_with_args::<i64>(
            &format!("SELECT pg_catalog.count(*) FROM {schema_q}.pg_buffercache b {BUFFERS_OF}"),
            &[oid.into()],
        )
        .or_internal("buffers left")
        .unwrap_or(0);
        match oscache::drop_relation(&path) {
            Ok(d) => out.os += d,
            Err(e) => out.problems.push(format!("{name}: OS cache not dropped: {e}")),
        }
        out.relations.push(name.clone());
    }
    out
}

/// pg_buffercache rows of relation $1 in this database.
const BUFFERS_OF: &str = "WHERE b.reldatabase = (SELECT oid FROM pg_catalog.pg_database \
                                                  WHERE datname = pg_catalog.current_database()) \
                            AND b.relfilenode = pg_catalog.pg_relation_filenode($1)";

/// Cold executions of a timed query and what each eviction did.
pub struct ColdMeasurement {
    pub samples_ms: Vec<f64>,
    /// The eviction before the first cold execution (later ones evict the same).
    pub eviction: Eviction,
}

/// Up to MAX_COLD_ITERATIONS executions of `t.sql`, each after evicting the relations
/// its plan read. Evicting runs with the run's rights (superuser); the query with the
/// test's (tenant, author), as in the warm measurement. Rolled back like it.
pub fn measure(
    ev: &Evictor,
    t: &TestDef,
    target: &Target,
    ctx: &context::Context,
    relations: &[String],
    iterations: i32,
) -> Result<ColdMeasurement, SqlError> {
    in_subtransaction(OnSuccess::Rollback, || {
        let mut samples_ms = Vec::new();
        let mut first = None;
        for _ in 0..iterations.clamp(1, MAX_COLD_ITERATIONS) {
            let e = evict(ev, target, relations);
            first.get_or_insert(e);
            samples_ms.push(ctx.run(|| timed::time_statement(None, &t.sql)).0);
            crate::pg::timeout::check_deadline();
        }
        ColdMeasurement { samples_ms, eviction: first.unwrap_or_default() }
    })
}
