//! Foreign keys of generated child rows checked once per batch instead of once per row.
//!
//! PostgreSQL checks a foreign key with one trigger call per inserted row: an SPI query
//! with its own executor start-up, about 5 µs. At the plan's scenario-5 volume the
//! conversations and events are 115k of the ~160k rows, with two or three keys each,
//! so those per-row checks were ~40 % of the generator's time (measured with `perf`).
//! Their parents are few and known: the company, its user, and the customers the same
//! batch has just inserted. So for a child table whose *only* per-row work on INSERT is
//! those checks, the generator inserts with `session_replication_role = replica` for
//! that statement (which skips origin-enabled triggers, the checks among them) and then
//! performs each check once for the whole batch with the checks' own semantics: every
//! parent row is locked `FOR KEY SHARE` until the transaction ends (so no one can delete
//! it before we commit) and a missing parent is the usual 23503 error.
//!
//! When the table has anything else that replica mode would skip or change (a user
//! trigger that could fire for our rows, a rule, a trigger enabled ALWAYS/REPLICA that
//! might write elsewhere, a foreign key on a column we do not fill with a known uuid),
//! or the current role is not a superuser (needed to set the parameter, and the checks
//! must see parents the way RI does, past row-level security), the table keeps the
//! per-row checks. The decision and its reason are pure logic, tested below.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::OrInternal;
use crate::sut::Target;

/// One INSERT trigger of the child table, as the catalog describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerFact {
    pub name: String,
    /// pg_trigger.tgenabled: 'O' origin/local, 'A' always, 'R' replica ('D' are not listed).
    pub enabled: char,
    /// A foreign-key check trigger (RI_FKey_check_ins).
    pub is_fk_check: bool,
    /// pg_get_triggerdef(), to read a WHEN clause.
    pub definition: String,
}

/// One foreign key of the child table.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKeyFact {
    pub name: String,
    /// The referencing columns, in key order.
    pub columns: Vec<String>,
    /// Every column on both sides is uuid.
    pub uuid_typed: bool,
    /// `ONLY schema.parent` (or without ONLY for a partitioned parent), quoted.
    pub parent_rel: String,
    pub parent_table: String,
    /// The referenced columns, in key order.
    pub parent_columns: Vec<String>,
}

/// What the catalog says about one child table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableFacts {
    pub superuser: bool,
    pub plain_table: bool,
    pub insert_rules: i64,
    pub triggers: Vec<TriggerFact>,
    pub foreign_keys: Vec<ForeignKeyFact>,
}

/// A check to perform once per batch: the values written to `columns` must exist
/// together in the parent's `parent_columns`.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchCheck {
    pub constraint: String,
    pub columns: Vec<String>,
    pub parent_rel: String,
    pub parent_table: String,
    pub parent_columns: Vec<String>,
}

/// Decide whether `facts`' table can skip per-row checks. `uuid_columns` are the
/// columns the generator fills with known uuids (the checks' inputs); `never_null` the
/// columns it always fills. Ok: the checks to run per batch; Err: why not.
pub fn decide(facts: &TableFacts, uuid_columns: &[&str], never_null: &[&str]) -> Result<Vec<BatchCheck>, String> {
    // Nothing per row to skip (a bulk load has set the keys and triggers aside).
    if facts.foreign_keys.is_empty() && facts.triggers.is_empty() && facts.insert_rules == 0 {
        return Ok(Vec::new());
    }
    if !facts.superuser {
        return Err("the current role is not a superuser".into());
    }
    if !facts.plain_table {
        return Err("not a plain table".into());
    }
    if facts.insert_rules > 0 {
        return Err("it has INSERT rules".into());
    }
    for t in &facts.triggers {
        match t.enabled {
            'O' if t.is_fk_check => {}
            'O' => match inert_when_column(&t.definition) {
                Some(col) if never_null.contains(&col) => {}
                _ => return Err(format!("trigger {} must fire for every row", t.name)),
            },
            _ => return Err(format!("trigger {} is enabled ALWAYS or REPLICA", t.name)),
        }
    }
    facts
        .foreign_keys
        .iter()
        .map(|fk| {
            let filled = !fk.columns.is_empty() && fk.columns.iter().all(|c| uuid_columns.contains(&c.as_str()));
            if fk.uuid_typed && filled {
                Ok(BatchCheck {
                    constraint: fk.name.clone(),
                    columns: fk.columns.clone(),
                    parent_rel: fk.parent_rel.clone(),
                    parent_table: fk.parent_table.clone(),
                    parent_columns: fk.parent_columns.clone(),
                })
            } else {
                Err(format!("foreign key {} is not on uuid columns the generator fills", fk.name))
            }
        })
        .collect()
}

/// The column of a row trigger whose whole condition is `WHEN (NEW.col IS NULL)`: such
/// a trigger cannot fire for rows that always carry `col` (the reference schema's
/// conversation auto-sync is one).
pub fn inert_when_column(definition: &str) -> Option<&str> {
    let (_, rest) = definition.split_once(" FOR EACH ROW WHEN ((new.")?;
    let (column, rest) = rest.split_once(' ')?;
    let simple = !column.is_empty() && column.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (simple && rest.starts_with("IS NULL)) EXECUTE ")).then_some(column)
}

/// Read the catalog facts for `table` of `target`.
pub fn facts(target: &Target, table: &str) -> TableFacts {
    let rel = target.rel(table);
    let (superuser, plain_table, insert_rules) = Spi::connect(|c| {
        let row = c
            .select(
                "SELECT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), \
                        (SELECT relkind = 'r' FROM pg_catalog.pg_class WHERE oid = $1::regclass), \
                        (SELECT pg_catalog.count(*) FROM pg_catalog.pg_rewrite WHERE ev_class = $1::regclass AND ev_type = '3')",
                None,
                &[rel.as_str().into()],
            )?
            .first();
        Ok::<_, pgrx::spi::Error>((
            row.get::<bool>(1)?.unwrap_or(false),
            row.get::<bool>(2)?.unwrap_or(false),
            row.get::<i64>(3)?.unwrap_or(0),
        ))
    })
    .or_internal("table facts");
    let triggers = Spi::connect(|c| {
        c.select(
            "SELECT tgname::text, tgenabled::text, tgfoid = 'pg_catalog.\"RI_FKey_check_ins\"'::regproc, \
                    pg_catalog.pg_get_triggerdef(oid) \
               FROM pg_catalog.pg_trigger \
              WHERE tgrelid = $1::regclass AND tgenabled <> 'D' AND (tgtype & 4) <> 0",
            None,
            &[rel.as_str().into()],
        )?
        .map(|r| {
            Ok(TriggerFact {
                name: r.get::<String>(1)?.unwrap_or_default(),
                enabled: r.get::<String>(2)?.and_then(|s| s.chars().next()).unwrap_or('O'),
                is_fk_check: r.get::<bool>(3)?.unwrap_or(false),
                definition: r.get::<String>(4)?.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("trigger facts");
    let foreign_keys = Spi::connect(|c| {
        c.select(
            "SELECT c.conname::text, \
                    ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY k(n, i) \
                            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i), \
                    NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(c.conkey) n JOIN pg_catalog.pg_attribute a \
                                  ON a.attrelid = c.conrelid AND a.attnum = n WHERE a.atttypid <> 'uuid'::regtype) \
                    AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(c.confkey) n JOIN pg_catalog.pg_attribute a \
                                  ON a.attrelid = c.confrelid AND a.attnum = n WHERE a.atttypid <> 'uuid'::regtype), \
                    CASE WHEN p.relkind = 'p' THEN '' ELSE 'ONLY ' END \
                      || pg_catalog.quote_ident(pn.nspname) || '.' || pg_catalog.quote_ident(p.relname), \
                    p.relname::text, \
                    ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(c.confkey) WITH ORDINALITY k(n, i) \
                            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) \
               FROM pg_catalog.pg_constraint c \
               JOIN pg_catalog.pg_class p ON p.oid = c.confrelid \
               JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace \
              WHERE c.conrelid = $1::regclass AND c.contype = 'f' \
              ORDER BY c.conname",
            None,
            &[rel.as_str().into()],
        )?
        .map(|r| {
            Ok(ForeignKeyFact {
                name: r.get::<String>(1)?.unwrap_or_default(),
                columns: r.get::<Vec<String>>(2)?.unwrap_or_default(),
                uuid_typed: r.get::<bool>(3)?.unwrap_or(false),
                parent_rel: r.get::<String>(4)?.unwrap_or_default(),
                parent_table: r.get::<String>(5)?.unwrap_or_default(),
                parent_columns: r.get::<Vec<String>>(6)?.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("foreign key facts");
    TableFacts { superuser, plain_table, insert_rules, triggers, foreign_keys }
}

/// Lock the parents of the batch FOR KEY SHARE, as each per-row check would have; raise
/// 23503 naming the first missing one. `values` holds, per column of the key, the
/// distinct non-NULL values written to it; the batch's keys are every combination of
/// them (the writer fills all but one key column with a value fixed for the call, the
/// company or its user). The referenced columns are unique, so each combination present
/// matches one parent row: all are present when the count equals the product.
pub fn check(c: &mut pgrx::spi::SpiClient<'_>, table: &str, check: &BatchCheck, values: &[Vec<pgrx::Uuid>]) {
    let q = pgrx::spi::quote_identifier;
    let wanted: i64 = values.iter().map(|v| v.len() as i64).product();
    let matching = check
        .parent_columns
        .iter()
        .enumerate()
        .map(|(i, col)| format!("p.{} OPERATOR(pg_catalog.=) ANY (${}::pg_catalog.uuid[])", q(col), i + 1))
        .collect::<Vec<_>>()
        .join(" AND ");
    let args = || values.iter().map(|v| v.clone().into()).collect::<Vec<pgrx::datum::DatumWithOid>>();
    let locked = c
        .update(
            &format!(
                "SELECT pg_catalog.count(*) FROM (SELECT 1 FROM {} p WHERE {matching} FOR KEY SHARE OF p) x",
                check.parent_rel
            ),
            None,
            &args(),
        )
        .and_then(|t| t.first().get::<i64>(1))
        .or_internal("batch foreign-key check")
        .unwrap_or(0);
    if locked == wanted {
        return;
    }
    let sources: Vec<String> =
        (1..=values.len()).map(|i| format!("pg_catalog.unnest(${i}::pg_catalog.uuid[]) v{i}")).collect();
    let shown: Vec<String> = (1..=values.len()).map(|i| format!("v{i}::text")).collect();
    let joined: Vec<String> = check
        .parent_columns
        .iter()
        .enumerate()
        .map(|(i, col)| format!("p.{} OPERATOR(pg_catalog.=) v{}", q(col), i + 1))
        .collect();
    let missing = c
        .select(
            &format!(
                "SELECT pg_catalog.concat_ws(', ', {}) FROM {} WHERE NOT EXISTS (SELECT 1 FROM {} p WHERE {}) LIMIT 1",
                shown.join(", "),
                sources.join(" CROSS JOIN "),
                check.parent_rel,
                joined.join(" AND ")
            ),
            None,
            &args(),
        )
        .and_then(|t| t.first().get::<String>(1))
        .or_internal("missing parent")
        .unwrap_or_default();
    pgrx::pg_sys::panic::ErrorReport::new(
        Code::ERRCODE_FOREIGN_KEY_VIOLATION,
        format!("insert or update on table \"{table}\" violates foreign key constraint \"{}\"", check.constraint),
        "pg_perfsuite",
    )
    .set_detail(format!(
        "Key ({})=({missing}) is not present in table \"{}\".",
        check.columns.join(", "),
        check.parent_table
    ))
    .report(pgrx::PgLogLevel::ERROR);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(name: &str, enabled: char, fk: bool, def: &str) -> TriggerFact {
        TriggerFact { name: name.into(), enabled, is_fk_check: fk, definition: def.into() }
    }

    fn fk(name: &str, columns: &[&str], uuid: bool) -> ForeignKeyFact {
        ForeignKeyFact {
            name: name.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            uuid_typed: uuid,
            parent_rel: "ONLY public.customers".into(),
            parent_table: "customers".into(),
            parent_columns: if columns.len() == 2 { vec!["company_id".into(), "id".into()] } else { vec!["id".into()] },
        }
    }

    const SYNC: &str = "CREATE TRIGGER vc_usage_sync_customer BEFORE INSERT ON public.\"VC Usage\" FOR EACH ROW WHEN ((new.customer_id IS NULL)) EXECUTE FUNCTION vc_usage_sync_customer()";

    fn reference() -> TableFacts {
        TableFacts {
            superuser: true,
            plain_table: true,
            insert_rules: 0,
            triggers: vec![
                trigger("RI_ConstraintTrigger_c_1", 'O', true, ""),
                trigger("vc_usage_sync_customer", 'O', false, SYNC),
            ],
            foreign_keys: vec![fk("VC Usage_company_id_customer_id_fkey", &["company_id", "customer_id"], true)],
        }
    }

    #[test]
    fn reference_conversations_qualify() {
        let checks = decide(&reference(), &["company_id", "customer_id"], &["customer_id"]).unwrap();
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].columns, ["company_id", "customer_id"]);
        assert_eq!(checks[0].parent_columns, ["company_id", "id"]);
    }

    #[test]
    fn anything_else_replica_mode_would_skip_keeps_per_row_checks() {
        let mut t = reference();
        t.triggers.push(trigger(
            "audit",
            'O',
            false,
            "CREATE TRIGGER audit AFTER INSERT ON x FOR EACH ROW EXECUTE FUNCTION a()",
        ));
        assert_eq!(
            decide(&t, &["customer_id"], &["customer_id"]).unwrap_err(),
            "trigger audit must fire for every row"
        );

        let mut t = reference();
        t.triggers[1].enabled = 'A';
        assert!(decide(&t, &["customer_id"], &["customer_id"]).unwrap_err().contains("ALWAYS"));

        // The WHEN clause only makes the trigger inert when the column is always filled.
        assert!(decide(&reference(), &["customer_id"], &[]).is_err());

        let mut t = reference();
        t.insert_rules = 1;
        assert!(decide(&t, &["customer_id"], &["customer_id"]).is_err());

        let mut t = reference();
        t.superuser = false;
        assert!(decide(&t, &["customer_id"], &["customer_id"]).is_err());
    }

    #[test]
    fn a_table_without_keys_or_triggers_needs_no_checks_even_for_a_plain_role() {
        let t = TableFacts { superuser: false, triggers: vec![], foreign_keys: vec![], ..reference() };
        assert_eq!(decide(&t, &["customer_id"], &[]), Ok(vec![]));
    }

    #[test]
    fn keys_the_generator_cannot_check_keep_per_row_checks() {
        for bad in [
            fk("k", &[], true),
            fk("k", &["customer_id"], false),
            fk("k", &["region_id"], true),
            fk("k", &["company_id", "region_id"], true),
        ] {
            let mut t = reference();
            t.foreign_keys.push(bad);
            assert!(decide(&t, &["company_id", "customer_id"], &["customer_id"])
                .unwrap_err()
                .contains("foreign key k"));
        }
    }

    #[test]
    fn reads_only_a_bare_is_null_condition() {
        assert_eq!(inert_when_column(SYNC), Some("customer_id"));
        for def in [
            "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW WHEN (((new.customer_id IS NULL) OR (new.a = 1))) EXECUTE FUNCTION f()",
            "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW WHEN ((new.customer_id IS NOT NULL)) EXECUTE FUNCTION f()",
            "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW EXECUTE FUNCTION f()",
            "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW WHEN ((new.\"Odd col\" IS NULL)) EXECUTE FUNCTION f()",
        ] {
            assert_eq!(inert_when_column(def), None, "{def}");
        }
    }
}
