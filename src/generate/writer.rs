//! Writing generated customers in batches: one set-based INSERT per table per batch
//! (arrays through `unnest`), instead of the PL/pgSQL helper's row-at-a-time inserts.
//! Rows still go through the schema's own triggers, constraints and RLS.

use pgrx::prelude::*;

use super::fk_batch::{self, BatchCheck};
use super::model::{CustomerRow, Model, AI_RESPONSE, EVENT_DATA};
use crate::errors::OrInternal;
use crate::sut::Target;

/// Customers per batch: bounds memory (a batch holds at most ~10 conversations and 7
/// events per customer) while keeping statements few.
pub const BATCH: i64 = 1000;

/// What a generation wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub customers: i64,
    pub conversations: i64,
    pub events: i64,
}

impl Counts {
    fn of(batch: &[CustomerRow]) -> Counts {
        Counts {
            customers: batch.len() as i64,
            conversations: batch.iter().map(|r| r.conversations.len() as i64).sum(),
            events: batch.iter().map(|r| r.events.len() as i64).sum(),
        }
    }

    pub fn add(&mut self, other: &Counts) {
        self.customers += other.customers;
        self.conversations += other.conversations;
        self.events += other.events;
    }
}

/// The parameters of one generation call.
pub struct Request<'a> {
    pub target: &'a Target,
    pub company_id: pgrx::Uuid,
    pub user_id: pgrx::Uuid,
    pub count: i64,
    pub seed: u64,
    /// Emit the helper's "Generated N customers" NOTICE every 100 customers.
    pub progress_notices: bool,
    /// How the child tables' foreign keys are checked, read from the catalog once per
    /// call by the caller (`Children::plan`), however many tenants it fills.
    pub children: &'a Children,
    /// A bulk load's COPY targets (generate::bulk): rows go in through COPY FROM
    /// instead of INSERT.
    pub copy: Option<&'a super::bulk::CopyInto>,
}

/// Generate `count` customers for one company through SPI. Checks for cancellation
/// after every batch. Does not refresh `customer_metrics` (callers decide when).
pub fn write(req: &Request) -> Counts {
    if let Some(into) = req.copy {
        return write_by_copy(req, into);
    }
    let t = req.target;
    let customers_sql = format!(
        "INSERT INTO {} (id, company_id, customer_name, customer_email, customer_phone, customer_address, \
         status, lifecycle_stage, tags, source, created_by_user_id, created_at) \
         SELECT u.id, $1, u.name, u.email, u.phone, u.address, 'active', u.stage, u.tags::text[], u.source, $2, \
                pg_catalog.now() - pg_catalog.make_interval(secs => u.ago) \
         FROM ROWS FROM (pg_catalog.unnest($3::uuid[]), pg_catalog.unnest($4::text[]), pg_catalog.unnest($5::text[]), pg_catalog.unnest($6::text[]), pg_catalog.unnest($7::text[]), pg_catalog.unnest($8::text[]), pg_catalog.unnest($9::text[]), pg_catalog.unnest($10::text[]), pg_catalog.unnest($11::float8[])) \
              AS u(id, name, email, phone, address, stage, tags, source, ago)",
        t.rel("customers")
    );
    let conversations_sql = format!(
        "INSERT INTO {} (company_id, user_id, customer_id, customer_name, session_id, interaction_number, \
         user_message, ai_response, created_at) \
         SELECT $1, $2, u.cid, u.name, 'session_' || u.cid::text || '_' || u.n::text, u.n, 'Test question about ' || u.topic, $3, \
                pg_catalog.now() - pg_catalog.make_interval(secs => u.ago) \
         FROM ROWS FROM (pg_catalog.unnest($4::uuid[]), pg_catalog.unnest($5::text[]), pg_catalog.unnest($6::int4[]), pg_catalog.unnest($7::text[]), pg_catalog.unnest($8::float8[])) AS u(cid, name, n, topic, ago)",
        t.rel("VC Usage")
    );
    let events_sql = format!(
        "INSERT INTO {} (customer_id, company_id, event_type, event_data, created_at) \
         SELECT u.cid, $1, u.kind, $2::jsonb, pg_catalog.now() - pg_catalog.make_interval(secs => u.ago) \
         FROM ROWS FROM (pg_catalog.unnest($3::uuid[]), pg_catalog.unnest($4::text[]), pg_catalog.unnest($5::float8[])) AS u(cid, kind, ago)",
        t.rel("customer_events")
    );

    let mut model = Model::new(req.seed);
    let mut counts = Counts::default();
    let mut next = 1i64;
    while next <= req.count {
        let last = (next + BATCH - 1).min(req.count);
        let batch: Vec<CustomerRow> = (next..=last).map(|i| model.customer(i)).collect();
        write_batch(req, &batch, [&customers_sql, &conversations_sql, &events_sql]);
        counts.add(&Counts::of(&batch));
        if req.progress_notices {
            for hundred in (next + 99) / 100..=last / 100 {
                notice!("Generated {} customers", hundred * 100);
            }
        }
        pgrx::check_for_interrupts!();
        next = last + 1;
    }
    counts
}

/// Customers per COPY batch: four COPY calls each (customers, keys, conversations,
/// events). Smaller than BATCH so that the buffers alive at once (the batch being
/// copied, the next one encoded, at most one handed back) stay about a megabyte each at
/// any scale.
const COPY_BATCH: i64 = 500;

/// A bulk load's rows: a helper thread runs the model and encodes each batch for COPY
/// (pure Rust, no PostgreSQL call) while this backend copies the previous batch, so the
/// two halves of the work share the machine's cores. The channel is a rendezvous: the
/// helper hands a batch over only when the backend takes it, and the backend hands the
/// copied batch's buffers back for the helper to write the next one over, so memory
/// stays flat: three sets of buffers at most, whatever the volume.
/// Should COPY fail (or the query be cancelled), the unwinding drops the receiver, the
/// helper's next send fails and it ends before the scope returns.
fn write_by_copy(req: &Request, into: &super::bulk::CopyInto) -> Counts {
    use super::copy_rows::Streams;
    let (seed, count, anchor) = (req.seed, req.count, into.anchor_us);
    let (company, user) = (*req.company_id.as_bytes(), *req.user_id.as_bytes());
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(Streams, Counts)>(0);
        let (give_back, given_back) = std::sync::mpsc::sync_channel::<Streams>(2);
        crate::pg::threads::spawn_quiet(scope, move || {
            let mut model = Model::new(seed);
            let mut next = 1i64;
            while next <= count {
                let last = (next + COPY_BATCH - 1).min(count);
                let batch: Vec<CustomerRow> = (next..=last).map(|i| model.customer(i)).collect();
                let reuse = given_back.try_recv().unwrap_or_default();
                let streams = super::copy_rows::batch(&batch, &company, &user, anchor, reuse);
                if tx.send((streams, Counts::of(&batch))).is_err() {
                    return;
                }
                next = last + 1;
            }
        });
        let mut counts = Counts::default();
        for (mut streams, c) in rx {
            into.load(&mut streams);
            counts.add(&c);
            // Full (the helper has buffers to spare) or gone (it has finished): the
            // buffers are dropped instead.
            let _ = give_back.try_send(streams);
            pgrx::check_for_interrupts!();
        }
        counts
    })
}

/// One batch through INSERTs: customers, then each child table (see `insert_child`).
fn write_batch(req: &Request, batch: &[CustomerRow], [customers_sql, conversations_sql, events_sql]: [&str; 3]) {
    let children = req.children;
    Spi::connect_mut(|c| {
        c.update(customers_sql, None, &customer_args(req, batch))?;
        let parents = |column: &str, has_rows: fn(&CustomerRow) -> bool| -> Vec<pgrx::Uuid> {
            match column {
                "company_id" => vec![req.company_id],
                "user_id" => vec![req.user_id],
                _ => batch.iter().filter(|r| has_rows(r)).map(|r| uuid(&r.id)).collect(),
            }
        };
        insert_child(
            c,
            "VC Usage",
            conversations_sql,
            conversation_args(req, batch),
            &children.conversations,
            |col| parents(col, |r| !r.conversations.is_empty()),
        )?;
        insert_child(c, "customer_events", events_sql, event_args(req, batch), &children.events, |col| {
            parents(col, |r| !r.events.is_empty())
        })?;
        Ok::<_, pgrx::spi::Error>(())
    })
    .or_internal("generated rows");
}

/// How each child table's foreign keys are checked: once per batch (the checks to run)
/// or per row by PostgreSQL (the reason). Decided once per call from the catalog.
pub struct Children {
    pub conversations: Result<Vec<BatchCheck>, String>,
    pub events: Result<Vec<BatchCheck>, String>,
}

impl Children {
    pub fn plan(target: &Target) -> Children {
        Children {
            conversations: fk_batch::decide(
                &fk_batch::facts(target, "VC Usage"),
                &["company_id", "user_id", "customer_id"],
                &super::copy_rows::CONVERSATION_COLUMNS,
            ),
            events: fk_batch::decide(
                &fk_batch::facts(target, "customer_events"),
                &["company_id", "customer_id"],
                &super::copy_rows::EVENT_COLUMNS,
            ),
        }
    }

    /// One line for the NOTICEs: how the foreign keys of the child rows are checked.
    pub fn describe(&self) -> String {
        [("\"VC Usage\"", &self.conversations), ("customer_events", &self.events)]
            .iter()
            .map(|(table, d)| match d {
                Ok(checks) if checks.is_empty() => format!("{table}: none to check while writing"),
                Ok(_) => format!("{table}: once per batch"),
                Err(why) => format!("{table}: per row ({why})"),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Insert one child table's rows of a batch. With batch checks, the INSERT runs with
/// session_replication_role = replica (skipping the per-row foreign-key triggers, the
/// only triggers `Children::plan` let through) and the checks follow, once each.
fn insert_child(
    c: &mut pgrx::spi::SpiClient<'_>,
    table: &str,
    sql: &str,
    args: Vec<pgrx::datum::DatumWithOid<'_>>,
    mode: &Result<Vec<BatchCheck>, String>,
    parents: impl Fn(&str) -> Vec<pgrx::Uuid>,
) -> Result<(), pgrx::spi::Error> {
    let checks = match mode {
        Ok(checks) if !checks.is_empty() => checks,
        _ => {
            c.update(sql, None, &args)?;
            return Ok(());
        }
    };
    // Transaction-local, and put back right after the statement (to what the caller
    // had); an error in between aborts the (sub)transaction, which restores it too.
    let previous = c
        .update("SELECT pg_catalog.current_setting('session_replication_role')", None, &[])?
        .first()
        .get::<String>(1)?
        .unwrap_or_else(|| "origin".into());
    c.update("SELECT pg_catalog.set_config('session_replication_role', 'replica', true)", None, &[])?;
    c.update(sql, None, &args)?;
    c.update("SELECT pg_catalog.set_config('session_replication_role', $1, true)", None, &[previous.into()])?;
    for check in checks {
        let values: Vec<Vec<pgrx::Uuid>> = check.columns.iter().map(|col| parents(col)).collect();
        fk_batch::check(c, table, check, &values);
    }
    Ok(())
}

fn uuid(b: &[u8; 16]) -> pgrx::Uuid {
    pgrx::Uuid::from_bytes(*b)
}

fn customer_args<'a>(req: &Request, rows: &'a [CustomerRow]) -> Vec<pgrx::datum::DatumWithOid<'a>> {
    vec![
        req.company_id.into(),
        req.user_id.into(),
        rows.iter().map(|r| uuid(&r.id)).collect::<Vec<_>>().into(),
        rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().into(),
        rows.iter().map(|r| r.email.as_deref()).collect::<Vec<_>>().into(),
        rows.iter().map(|r| r.phone.as_deref()).collect::<Vec<_>>().into(),
        rows.iter().map(|r| r.address.as_deref()).collect::<Vec<_>>().into(),
        rows.iter().map(|r| r.lifecycle_stage).collect::<Vec<_>>().into(),
        rows.iter().map(|r| r.tags).collect::<Vec<_>>().into(),
        rows.iter().map(|r| r.source).collect::<Vec<_>>().into(),
        rows.iter().map(|r| r.created_ago_s).collect::<Vec<_>>().into(),
    ]
}

fn conversation_args<'a>(req: &Request, rows: &'a [CustomerRow]) -> Vec<pgrx::datum::DatumWithOid<'a>> {
    let convs = || rows.iter().flat_map(|r| r.conversations.iter().map(move |c| (r, c)));
    vec![
        req.company_id.into(),
        req.user_id.into(),
        AI_RESPONSE.into(),
        convs().map(|(r, _)| uuid(&r.id)).collect::<Vec<_>>().into(),
        convs().map(|(r, _)| r.short_name.as_str()).collect::<Vec<_>>().into(),
        convs().map(|(_, c)| c.interaction_number).collect::<Vec<_>>().into(),
        convs().map(|(_, c)| c.topic).collect::<Vec<_>>().into(),
        convs().map(|(_, c)| c.created_ago_s).collect::<Vec<_>>().into(),
    ]
}

fn event_args<'a>(req: &Request, rows: &'a [CustomerRow]) -> Vec<pgrx::datum::DatumWithOid<'a>> {
    let events = || rows.iter().flat_map(|r| r.events.iter().map(move |e| (r, e)));
    vec![
        req.company_id.into(),
        EVENT_DATA.into(),
        events().map(|(r, _)| uuid(&r.id)).collect::<Vec<_>>().into(),
        events().map(|(_, e)| e.event_type).collect::<Vec<_>>().into(),
        events().map(|(_, e)| e.created_ago_s).collect::<Vec<_>>().into(),
    ]
}
