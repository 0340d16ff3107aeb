//! Loading an empty reference schema the way `pgbench -i` does: rows first, then the
//! indexes, then the foreign keys, each built once over the whole table.
//!
//! Into the reference schema as pg_perfsuite installs it (its tables empty, their
//! triggers exactly the installer's, owned by the caller), a generation sets aside the
//! primary keys, unique constraints, indexes and foreign keys of the four tables it
//! fills and switches their triggers off; writes the rows through COPY, with the
//! matching keys the customers trigger would have written (copy_rows::keys); then
//! builds the keys and indexes (one sort each instead of one insertion per row) and adds
//! the foreign keys back, which PostgreSQL validates with one anti-join per key. All of
//! it happens in the caller's transaction: other sessions never see the schema without
//! its indexes (the ALTER TABLEs hold ACCESS EXCLUSIVE locks until commit), and an error
//! or a cancel anywhere rolls the whole load back, definitions included.
//!
//! Any other schema keeps the row-by-row path (`writer`), where its own triggers,
//! constraints and indexes see every row.

use pgrx::prelude::*;
use std::time::Instant;

use crate::errors::OrInternal;
use crate::sut::install::reference_trigger_functions;
use crate::sut::Target;

/// The tables a generation fills, in the order rows go in.
const FILLED: [&str; 4] = ["customers", "customer_matching_keys", "VC Usage", "customer_events"];

const DEFERRED: &str = include_str!("../../sql/queries/bulk_deferred.sql");

/// One object set aside for the load, as `bulk_deferred.sql` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Deferred {
    pub kind: String,
    pub table_q: String,
    pub name_q: String,
    pub definition: Option<String>,
}

impl Deferred {
    /// The statement that removes (or, for a trigger, disables) the object.
    pub fn set_aside(&self) -> String {
        match self.kind.as_str() {
            "index" => format!("DROP INDEX {}", qualified_index(&self.table_q, &self.name_q)),
            "trigger" => format!("ALTER TABLE {} DISABLE TRIGGER {}", self.table_q, self.name_q),
            _ => format!("ALTER TABLE {} DROP CONSTRAINT {}", self.table_q, self.name_q),
        }
    }

    /// The statement that puts it back as the catalog defined it (None: an index or
    /// constraint listed without its definition, which bulk_deferred.sql never does).
    pub fn put_back(&self) -> Option<String> {
        match (self.kind.as_str(), &self.definition) {
            ("index", Some(def)) => Some(def.clone()),
            ("trigger", _) => Some(format!("ALTER TABLE {} ENABLE TRIGGER {}", self.table_q, self.name_q)),
            (_, Some(def)) => Some(format!("ALTER TABLE {} ADD CONSTRAINT {} {def}", self.table_q, self.name_q)),
            (_, None) => None,
        }
    }
}

/// An index lives in its table's schema: `"s"."t"` + `"i"` gives `"s"."i"`; an
/// unqualified table (on the search_path) gives the bare index name.
fn qualified_index(table_q: &str, index_q: &str) -> String {
    match split_qualified(table_q) {
        Some((schema_q, _)) => format!("{schema_q}.{index_q}"),
        None => index_q.to_string(),
    }
}

/// Split `schema.table` (either part possibly quoted, quotes doubled inside) at the dot
/// between them.
fn split_qualified(name: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, ch) in name.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            '.' if !quoted => return Some((&name[..i], &name[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Where a bulk load's rows go: the three tables' OIDs for COPY FROM, whether they can
/// be written frozen, and now() for the rows' times.
#[derive(Debug, Clone, Copy)]
pub struct CopyInto {
    customers: pgrx::pg_sys::Oid,
    keys: pgrx::pg_sys::Oid,
    conversations: pgrx::pg_sys::Oid,
    events: pgrx::pg_sys::Oid,
    freeze: bool,
    /// now(), in microseconds since 2000-01-01: the rows' times are offsets from it.
    pub anchor_us: i64,
}

impl CopyInto {
    fn new(target: &Target) -> CopyInto {
        let oid = |t: &str| {
            Spi::get_one_with_args::<pgrx::pg_sys::Oid>(
                "SELECT $1::pg_catalog.regclass::pg_catalog.oid",
                &[target.rel(t).into()],
            )
            .or_internal("table oid")
            .or_internal("table oid")
        };
        CopyInto {
            customers: oid("customers"),
            keys: oid("customer_matching_keys"),
            conversations: oid("VC Usage"),
            events: oid("customer_events"),
            freeze: crate::pg::copy::freeze_possible(),
            anchor_us: crate::pg::copy::transaction_start_micros(),
        }
    }

    /// One batch of customers with their keys, conversations and events
    /// (copy_rows::batch); the buffers are left empty, to be written over.
    pub fn load(&self, s: &mut super::copy_rows::Streams) {
        use super::copy_rows::{CONVERSATION_COLUMNS, CUSTOMER_COLUMNS, EVENT_COLUMNS, KEY_COLUMNS};
        use crate::pg::copy::copy_binary;
        copy_binary(self.customers, &CUSTOMER_COLUMNS, &mut s.customers, self.freeze);
        copy_binary(self.keys, &KEY_COLUMNS, &mut s.keys, self.freeze);
        copy_binary(self.conversations, &CONVERSATION_COLUMNS, &mut s.conversations, self.freeze);
        copy_binary(self.events, &EVENT_COLUMNS, &mut s.events, self.freeze);
    }
}

/// What a bulk load did, for the generator's NOTICE and the run's notes.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub objects: usize,
    /// Rows were written frozen (COPY FREEZE).
    pub frozen: bool,
    pub rows_ms: f64,
    pub rebuild_ms: f64,
    /// The slowest objects to rebuild: (name, ms), slowest first.
    pub slowest: Vec<(String, f64)>,
}

impl Report {
    pub fn describe(&self) -> String {
        format!(
            "bulk load into the freshly installed schema: rows and their matching keys by COPY{} {:.0} ms, \
             {} indexes, keys and foreign keys rebuilt and validated after loading {:.0} ms (slowest: {})",
            if self.frozen { " FREEZE" } else { "" },
            self.rows_ms,
            self.objects,
            self.rebuild_ms,
            self.slowest.iter().map(|(n, ms)| format!("{n} {ms:.0} ms")).collect::<Vec<_>>().join(", ")
        )
    }
}

/// Whether `target` is the reference schema as pg_perfsuite installs it, empty, and
/// the caller may alter its tables; None when so, else why not.
pub fn not_applicable(target: &Target) -> Option<String> {
    let tables: Vec<String> = FILLED.iter().map(|t| target.rel(t)).collect();
    for t in &tables {
        let empty = Spi::get_one::<bool>(&format!("SELECT NOT EXISTS (SELECT 1 FROM {t})")).or_internal("empty?");
        if empty != Some(true) {
            return Some(format!("{t} has rows"));
        }
    }
    let expected = reference_trigger_functions(&target.schema_q);
    let (names, bodies): (Vec<String>, Vec<String>) = expected.into_iter().unzip();
    let facts = Spi::get_two_with_args::<bool, i64>(
        "SELECT pg_catalog.bool_and(pg_catalog.pg_has_role(c.relowner, 'USAGE')) \
                AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r WHERE r.ev_class = ANY ($1::pg_catalog.regclass[])), \
                (SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid \
                  WHERE t.tgrelid = ANY ($1::pg_catalog.regclass[]) AND NOT t.tgisinternal \
                    AND NOT (t.tgenabled = 'O' AND t.tgname = p.proname \
                             AND (p.proname, p.prosrc) IN (SELECT * FROM ROWS FROM (pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[]))))) \
           FROM pg_catalog.pg_class c WHERE c.oid = ANY ($1::pg_catalog.regclass[])",
        &[tables.clone().into(), names.into(), bodies.into()],
    )
    .or_internal("bulk load facts");
    match facts {
        (Some(true), Some(0)) => None,
        (Some(true), _) => Some("its tables have triggers the reference schema does not define".into()),
        _ => Some("the current role does not own its tables, or they have rules".into()),
    }
}

/// Run `write` (which fills the tables through `writer`) as a bulk load when `target`
/// allows it, handing it the COPY targets; otherwise run it as is (None). Returns what
/// `write` returned, and the bulk load's report when there was one.
pub fn load<T>(target: &Target, write: impl FnOnce(Option<&CopyInto>) -> T) -> (T, Option<Report>) {
    if not_applicable(target).is_some() {
        return (write(None), None);
    }
    let tables: Vec<String> = FILLED.iter().map(|t| target.rel(t)).collect();
    let objects = deferred(&tables);
    // Invariant: bulk_deferred.sql gives every index and constraint its definition;
    // checked before anything is set aside.
    let put_back: Vec<String> = objects.iter().map(|o| o.put_back()).collect::<Option<_>>().or_internal("definitions");
    // Foreign keys first, then what they depend on (the referenced keys' indexes).
    for o in objects.iter().rev() {
        Spi::run(&o.set_aside()).or_internal("setting an index or constraint aside");
    }
    // Empty already; truncated so that COPY may write the rows frozen (the table's new
    // file belongs to this subtransaction), as pgbench -i does.
    Spi::run(&format!("TRUNCATE {}", tables.join(", "))).or_internal("truncate the empty tables");
    let into = CopyInto::new(target);
    let mut report = Report {
        objects: objects.iter().filter(|o| o.kind != "trigger").count(),
        frozen: into.freeze,
        ..Report::default()
    };
    let started = Instant::now();
    let written = write(Some(&into));
    report.rows_ms = ms(started);
    pgrx::check_for_interrupts!();
    let started = Instant::now();
    let mut took = Vec::with_capacity(objects.len());
    for (o, statement) in objects.iter().zip(&put_back) {
        let one = Instant::now();
        Spi::run(statement).or_internal("rebuilding an index or constraint");
        let took_ms = ms(one);
        pgrx::debug1!("pg_perfsuite bulk load: {} {} put back in {took_ms:.0} ms", o.kind, o.name_q);
        took.push((o.name_q.clone(), took_ms));
        pgrx::check_for_interrupts!();
    }
    report.rebuild_ms = ms(started);
    took.sort_by(|a, b| b.1.total_cmp(&a.1));
    took.truncate(3);
    report.slowest = took;
    (written, Some(report))
}

fn deferred(tables: &[String]) -> Vec<Deferred> {
    Spi::connect(|c| {
        c.select(DEFERRED, None, &[tables.to_vec().into()])?
            .map(|row| {
                Ok(Deferred {
                    kind: row.get::<String>(2)?.unwrap_or_default(),
                    table_q: row.get::<String>(3)?.unwrap_or_default(),
                    name_q: row.get::<String>(4)?.unwrap_or_default(),
                    definition: row.get::<String>(5)?,
                })
            })
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("objects to set aside")
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(kind: &str, table: &str, name: &str, def: Option<&str>) -> Deferred {
        Deferred { kind: kind.into(), table_q: table.into(), name_q: name.into(), definition: def.map(Into::into) }
    }

    #[test]
    fn statements_set_aside_and_put_back() {
        let pk = d("key", "s.customers", "customers_pkey", Some("PRIMARY KEY (id)"));
        assert_eq!(pk.set_aside(), "ALTER TABLE s.customers DROP CONSTRAINT customers_pkey");
        assert_eq!(pk.put_back().unwrap(), "ALTER TABLE s.customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id)");
        let ix = d("index", "\"my.schema\".\"VC Usage\"", "idx_vc", Some("CREATE INDEX idx_vc ON ..."));
        assert_eq!(ix.set_aside(), "DROP INDEX \"my.schema\".idx_vc");
        assert_eq!(ix.put_back().unwrap(), "CREATE INDEX idx_vc ON ...");
        let tg = d("trigger", "s.customers", "t1", None);
        assert_eq!(tg.set_aside(), "ALTER TABLE s.customers DISABLE TRIGGER t1");
        assert_eq!(tg.put_back().unwrap(), "ALTER TABLE s.customers ENABLE TRIGGER t1");
        assert_eq!(d("index", "s.t", "i", None).put_back(), None);
    }

    #[test]
    fn splits_qualified_names_outside_quotes() {
        assert_eq!(split_qualified("s.t"), Some(("s", "t")));
        assert_eq!(split_qualified("\"a.b\".\"c.d\""), Some(("\"a.b\"", "\"c.d\"")));
        assert_eq!(split_qualified("\"a\"\"b\".t"), Some(("\"a\"\"b\"", "t")));
        assert_eq!(split_qualified("customers"), None);
        assert_eq!(qualified_index("customers", "i"), "i");
    }
}
