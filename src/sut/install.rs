//! Installing the reference schema, or checking a schema that already has the tables.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use pgrx::PgSqlErrorCode as Code;

use super::columns::{self, Presence};
use super::tenant;
use super::trgm::{trgm_status, Trgm};
use crate::errors::{raise, required, OrInternal};

const REFERENCE_SCHEMA: &str = include_str!("../../sql/reference_schema.sql");

/// Where the tables under test live, and how to name them in SQL.
#[derive(Debug, Clone)]
pub struct Target {
    /// The schema name as given ("public").
    pub schema: String,
    /// The schema as a quoted identifier, ready to splice before ".customers".
    pub schema_q: String,
    /// The plain role the tenant tests run as (sut::tenant): by the schema's owner.
    pub tenant_role: String,
    /// pg_trgm's schema, quoted; None on a server without pg_trgm (PostgreSQL 16 from
    /// the pgserver wheel): the trigram index is not created and tests that need
    /// pg_trgm are SKIP.
    pub trgm_schema_q: Option<String>,
}

impl Target {
    /// `schema.relation`, both quoted.
    pub fn rel(&self, relation: &str) -> String {
        format!("{}.{}", self.schema_q, quote_identifier(relation))
    }

    /// search_path under which the plan's unqualified SQL finds the tables and pg_trgm:
    /// pg_catalog first (nothing can shadow a built-in), pg_temp last (no temporary
    /// object can shadow a table).
    pub fn search_path(&self) -> String {
        match &self.trgm_schema_q {
            Some(trgm) => format!("pg_catalog, {}, {trgm}, pg_temp", self.schema_q),
            None => format!("pg_catalog, {}, pg_temp", self.schema_q),
        }
    }
}

/// The reference schema's trigger functions as the installer writes them into
/// `schema_q`: (name, body) where body is what pg_proc.prosrc holds. A schema whose
/// triggers are exactly these behaves as pg_perfsuite installed it.
pub fn reference_trigger_functions(schema_q: &str) -> Vec<(String, String)> {
    reference_functions(REFERENCE_SCHEMA)
        .into_iter()
        .map(|(name, body)| (name.to_string(), body.replace("@schema@", schema_q)))
        .collect()
}

/// `CREATE FUNCTION @schema@.name() RETURNS trigger ... AS $fn$body$fn$;` of `sql`.
fn reference_functions(sql: &str) -> Vec<(&str, &str)> {
    sql.split("CREATE FUNCTION @schema@.")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once("()")?;
            let (_, rest) = rest.split_once("$fn$")?;
            let (body, _) = rest.split_once("$fn$")?;
            Some((name, body))
        })
        .collect()
}

/// Check that `schema` exists; raise 3F000 otherwise.
fn check_schema_exists(schema: &str) {
    let exists = Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)",
        &[schema.into()],
    )
    .unwrap_or(Some(false))
    .unwrap_or(false);
    if !exists {
        raise(
            Code::ERRCODE_INVALID_SCHEMA_NAME,
            format!("target_schema \"{schema}\" does not exist"),
            Some(&format!(
                "Create it first (CREATE SCHEMA {}), or pass an existing schema such as 'public'.",
                quote_identifier(schema)
            )),
        );
    }
}

/// pg_trgm's schema, creating the extension in `schema` when it is available but not
/// installed; None (with a WARNING saying what is lost) when the server lacks it.
fn ensure_pg_trgm(schema: &str) -> Option<String> {
    match trgm_status() {
        Trgm::Installed(s) => Some(s),
        Trgm::Available => {
            Spi::run(&format!("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA {}", quote_identifier(schema)))
                .or_internal("CREATE EXTENSION pg_trgm");
            Some(schema.to_string())
        }
        Trgm::Missing => {
            warning!(
                "this server has no pg_trgm: the trigram index on customers.customer_name is not created and the fuzzy-search tests (2.1) are SKIP; install the server's contrib modules to run them"
            );
            None
        }
    }
}

/// Schemas a run never touches: PostgreSQL's own (every `pg_*` name: pg_catalog,
/// pg_toast, temporary schemas) and information_schema, and pg_perfsuite's own schema
/// unless that is `public` (where CREATE EXTENSION puts it by default, beside the
/// plan's tables).
pub fn refuse_system_schema(schema: &str) {
    let own = crate::pg::catalog::extension_schema_q("pg_perfsuite");
    let is_own = own.as_deref().is_some_and(|q| q == quote_identifier(schema)) && schema != "public";
    if schema.starts_with("pg_") || schema == "information_schema" || is_own {
        raise(
            Code::ERRCODE_RESERVED_NAME,
            format!(
                "target_schema \"{schema}\" is a system schema or pg_perfsuite's own; the plan's tables never go there"
            ),
            Some("Pass a schema of your own: CREATE SCHEMA perf_sut; then target_schema => 'perf_sut'."),
        );
    }
}

/// Everything `install_schema` would refuse, checked without changing anything.
pub fn check(schema: &str, trust: bool) {
    refuse_system_schema(schema);
    check_schema_exists(schema);
    super::gate::refuse_untrusted(schema, trust);
    match columns::presence(&relations_present(schema)) {
        Presence::All => check_columns(schema),
        Presence::Partial(present, missing) => refuse_partial(schema, &present, &missing),
        Presence::None => tenant::check_creatable(&tenant::role_for(schema)),
    }
}

fn refuse_partial(schema: &str, present: &[&str], missing: &[&str]) -> ! {
    raise(
        Code::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        format!(
            "schema \"{schema}\" has part of the customer-management schema (present: {}; missing: {}); pg_perfsuite will not add tables beside a user's own",
            present.join(", "),
            missing.join(", ")
        ),
        Some("Create the missing relations yourself, or install into an empty schema: SELECT perf_install_schema('perf_sut') after CREATE SCHEMA perf_sut."),
    )
}

/// Whether a role of this name exists.
pub fn role_exists(name: &str) -> bool {
    Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1)",
        &[name.into()],
    )
    .or_internal("role lookup")
    .unwrap_or(false)
}

fn relations_present(schema: &str) -> Vec<String> {
    let names: Vec<String> = columns::relation_names().iter().map(|s| s.to_string()).collect();
    Spi::connect(|c| {
        c.select(
            "SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = ANY($2) AND c.relkind IN ('r', 'p', 'm', 'v', 'f')",
            None,
            &[schema.into(), names.into()],
        )
        .map(|rows| rows.filter_map(|r| r.get::<String>(1).ok().flatten()).collect())
        .unwrap_or_default()
    })
}

fn columns_present(schema: &str) -> Vec<(String, String)> {
    let names: Vec<String> = columns::relation_names().iter().map(|s| s.to_string()).collect();
    Spi::connect(|c| {
        c.select(
            "SELECT c.relname::text, a.attname::text FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             WHERE n.nspname = $1 AND c.relname = ANY($2)",
            None,
            &[schema.into(), names.into()],
        )
        .map(|rows| rows.filter_map(|r| Some((r.get::<String>(1).ok()??, r.get::<String>(2).ok()??))).collect())
        .unwrap_or_default()
    })
}

/// What `install_schema` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    Created,
    AlreadyPresent,
}

/// Install the reference schema into `schema` unless all its relations already exist
/// there (then check their columns and change nothing). Refuses a partial set.
pub fn install_schema(schema: Option<&str>, trust: bool) -> (Target, Installed) {
    let schema = required(schema, "target_schema");
    refuse_system_schema(schema);
    check_schema_exists(schema);
    super::gate::refuse_untrusted(schema, trust);
    let trgm = ensure_pg_trgm(schema);
    let found = relations_present(schema);
    let target = Target {
        schema: schema.to_string(),
        schema_q: quote_identifier(schema),
        tenant_role: tenant::role_for(schema),
        trgm_schema_q: trgm.as_deref().map(quote_identifier),
    };
    match columns::presence(&found) {
        Presence::All => {
            check_columns(schema);
            (target, Installed::AlreadyPresent)
        }
        Presence::Partial(present, missing) => refuse_partial(schema, &present, &missing),
        Presence::None => {
            tenant::ensure(&target.tenant_role, &format!("schemas owned by the owner of {}", target.schema_q));
            let sql = match &target.trgm_schema_q {
                Some(trgm) => REFERENCE_SCHEMA.replace("@trgm@", trgm),
                // Without pg_trgm, the statements that need it (one line each) are left out.
                None => REFERENCE_SCHEMA.lines().filter(|l| !l.contains("@trgm@")).collect::<Vec<_>>().join("\n"),
            }
            .replace("@schema@", &target.schema_q)
            .replace("@tenant@", &quote_identifier(&target.tenant_role));
            Spi::run(&sql).or_internal("reference schema");
            Spi::run(&format!(
                "GRANT USAGE ON SCHEMA {} TO {}",
                target.schema_q,
                quote_identifier(&target.tenant_role)
            ))
            .or_internal("GRANT USAGE");
            (target, Installed::Created)
        }
    }
}

fn check_columns(schema: &str) {
    let missing = columns::missing_columns(&columns_present(schema));
    if !missing.is_empty() {
        raise(
            Code::ERRCODE_UNDEFINED_COLUMN,
            format!("the tables in schema \"{schema}\" lack columns the Phase 3B plan uses: {}", missing.join(", ")),
            Some("Add the columns, or run the plan against the reference schema in an empty schema."),
        );
    }
}

/// The target for a run: installs the reference schema when absent, else checks it.
pub fn ensure_schema(schema: Option<&str>, trust: bool) -> Target {
    install_schema(schema, trust).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reference_trigger_functions() {
        let f = reference_trigger_functions("\"s\"");
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "customers_keys_after_insert",
                "customers_keys_after_update",
                "matching_keys_direct_insert",
                "vc_usage_sync_customer"
            ]
        );
        assert!(f[0].1.starts_with("\nBEGIN\n") && f[0].1.ends_with("END\n"), "{:?}", f[0].1);
        assert!(f[0].1.contains("INSERT INTO \"s\".customer_matching_keys"));
        assert!(!f.iter().any(|(_, b)| b.contains("@schema@")));
    }
}
