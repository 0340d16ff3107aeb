//! Running one registry test and judging it.

use crate::errors::{OrInternal, SqlError};
use crate::explain::shape::ShapeChange;
use crate::explain::PlanFacts;
use crate::pg::roles::{self, Decision};
use crate::pg::subxact::{in_subtransaction, OnSuccess};
use crate::runner::mode::Mode;
use crate::runner::{cold, concurrency, context, isolation, timed};
use crate::suite::finding::Finding;
use crate::suite::model::{Kind, RunAs, TestDef};
use crate::suite::result::{ms, TestResult};
use crate::suite::stats::Summary;
use crate::suite::verdict::{time_band, Verdict};
use crate::sut::Target;

/// What every test of a run shares.
pub struct RunSetting<'a> {
    pub run_id: i64,
    pub target: &'a Target,
    /// perf_run's iterations argument (None: each test's own).
    pub iterations: Option<i32>,
    pub mode: Mode,
    /// Set when the run makes cold-cache figures (pg_perfsuite.cold_cache).
    pub cold: Option<cold::Evictor>,
    /// The run's scale (perf_run_all(scale => N)).
    pub scale: f64,
    /// Measure candidate indexes (pg_perfsuite.measure_advice; runner::candidate).
    pub measure_advice: bool,
}

/// Run `t` and return its judged result. Errors inside the test become an ERROR
/// result; cancellation propagates.
pub fn run_test(t: &TestDef, run: &RunSetting) -> TestResult {
    let (run_id, target, iterations, mode, cold) =
        (run.run_id, run.target, run.iterations, run.mode, run.cold.as_ref());
    let mut result = TestResult::for_test(run_id, t);
    if let Some(ext) = t.requires_extension.as_deref().filter(|e| !extension_installed(e)) {
        result.set_verdict(Verdict::Skip);
        result.notes = Some(format!("SKIP: needs the {ext} extension, which this server does not have"));
        return result;
    }
    // Whose rights the test's SQL runs with (see pg::roles): the run's, the author's, or
    // none, and then the test is refused before any of its SQL runs.
    let tenant = match &t.run_as {
        RunAs::Tenant(_) => Some(target.tenant_role.as_str()),
        _ => None,
    };
    let as_author;
    let t = match roles::decision_for(&t.author, tenant) {
        Decision::AsIs => t,
        Decision::AsAuthor(role) => {
            as_author = TestDef { run_as: RunAs::Author(role), ..t.clone() };
            &as_author
        }
        Decision::Refused => {
            result.set_error(
                "42501",
                &format!(
                    "test {} was written by role \"{}\", and this run's role may neither act as it nor become it; its SQL was not run",
                    t.test_id, t.author
                ),
            );
            result.notes = Some(format!(
                "{}; HINT: run it as \"{}\" (or a role that may SET ROLE to it), or have this run's role rewrite the test (UPDATE perf_tests SET sql = sql WHERE test_id = '{}' makes you its author)",
                result.notes.clone().unwrap_or_default(),
                t.author,
                t.test_id
            ));
            return result;
        }
    };
    let iterations = iterations.unwrap_or(t.iterations).max(1);
    let ctx = context::Context::new(target, &t.run_as, &t.author);
    let outcome = match t.kind {
        Kind::TimedQuery => run_timed_query(t, &ctx, iterations).map(|m| {
            let relations = m.plan.as_ref().map(crate::explain::touched_relations).unwrap_or_default();
            judge_timed(&mut result, t, m);
            if let Some(ev) = cold {
                measure_cold(&mut result, ev, t, target, &ctx, &relations, iterations);
            }
        }),
        Kind::SingleTenant => run_single_tenant(t, target, &ctx, iterations).map(|m| judge_timed(&mut result, t, m)),
        Kind::Dml => run_dml(t, &ctx, iterations).map(|m| judge_timed(&mut result, t, m)),
        Kind::CountCheck => run_count(t, &ctx).map(|v| judge_count(&mut result, t, v, run.scale)),
        Kind::IsolationSweep => match &t.run_as {
            RunAs::Tenant(company) => isolation::sweep(target, company).map(|o| judge_sweep(&mut result, o)),
            _ => unreachable!("the registry requires a tenant for isolation sweeps"),
        },
        Kind::Concurrency => concurrency::run(t, target, &ctx, second_session_role(t))
            .map(|o| judge_concurrency(&mut result, t, o, mode)),
        Kind::Load | Kind::Capacity if mode == Mode::Session => {
            result.set_verdict(Verdict::Skip);
            result.notes = Some(
                "SKIP: load clients are separate sessions and cannot see this run's uncommitted data; run in the background (the default)".into(),
            );
            Ok(())
        }
        Kind::Load => in_subtransaction(OnSuccess::Commit, || crate::load::suite::run(run_id, t, target))
            .map(|o| crate::load::suite::judge(&mut result, t, o)),
        Kind::Capacity => in_subtransaction(OnSuccess::Commit, || crate::load::suite::run_capacity(run_id, t, target))
            .map(|o| crate::load::suite::judge_capacity(&mut result, t, o)),
    };
    if let Err(e) = outcome {
        result.set_error(&e.sqlstate(), &e.message);
    }
    plan_changed(&mut result, run);
    result
}

/// A plan that is not the one this test had last (same schema and scale) is a finding
/// of its own: it names what the plan reads now and no longer, and whether the two runs
/// measured the same state (then the plan is unstable: nothing it depends on changed).
fn plan_changed(result: &mut TestResult, run: &RunSetting) {
    let Some(shape) = &result.plan_shape else { return };
    let Some((previous_run, before, same_state)) =
        crate::store::runs::previous_plan_shape(run.run_id, &result.test_id, &run.target.schema, run.scale)
    else {
        return;
    };
    if let Some(change) = ShapeChange::between(&before, shape) {
        result.add_finding(Finding::PlanChanged { previous_run, change, same_state });
    }
}

/// The role 5.4's second session runs its SQL as: the author when the test runs as
/// its author, otherwise this session's role.
fn second_session_role(t: &TestDef) -> u32 {
    match &t.run_as {
        RunAs::Author(role) => roles::role_oid(role).unwrap_or(0),
        _ => crate::pg::bgworker::role_to_assume(),
    }
}

fn extension_installed(name: &str) -> bool {
    pgrx::spi::Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = $1)",
        &[name.into()],
    )
    .or_internal("pg_extension")
    .unwrap_or(false)
}

/// The query with only `tenant_company`'s data in the tables (a superuser's run puts
/// that tenant's rows back into the truncated tables where nothing else references
/// them, others delete everyone else's, children first; statistics refreshed), all
/// rolled back.
fn run_single_tenant(
    t: &TestDef,
    target: &Target,
    ctx: &context::Context,
    iterations: i32,
) -> Result<timed::Measurement, SqlError> {
    use crate::sut::ownership::{delete_tenant_rows, keep_only_tenant_by_truncate, truncatable, Companies};
    in_subtransaction(OnSuccess::Rollback, || {
        let keep = t.tenant_company.as_deref().unwrap_or_else(|| {
            crate::errors::bad_argument(format!("test {}: a single_tenant test needs tenant_company", t.test_id), None)
        });
        let company = crate::generate::seed::uuid(keep);
        if crate::pg::roles::is_superuser() && truncatable(target) {
            keep_only_tenant_by_truncate(target, company);
        } else {
            delete_tenant_rows(target, &Companies::AllBut(company), false);
        }
        crate::generate::seed::refresh_metrics(target);
        crate::generate::seed::analyze(target);
        ctx.run(|| timed::measure_query(&t.sql, t.warmup, iterations))
    })
}

fn run_timed_query(t: &TestDef, ctx: &context::Context, iterations: i32) -> Result<timed::Measurement, SqlError> {
    // Read-only measurement: always rolled back.
    in_subtransaction(OnSuccess::Rollback, || ctx.run(|| timed::measure_query(&t.sql, t.warmup, iterations)))
}

/// Warm-up and timed iterations each in their own subtransaction, rolled back so that
/// every iteration starts from the same data; the last one is kept when `commit_last`
/// (the plan's later checks read its effect). EXPLAIN ANALYZE runs once, rolled back.
pub(crate) fn run_dml(t: &TestDef, ctx: &context::Context, iterations: i32) -> Result<timed::Measurement, SqlError> {
    // A plan that cannot be had is a note; a time limit that ran out during EXPLAIN
    // ends the test like anywhere else.
    let plan = match in_subtransaction(OnSuccess::Rollback, || {
        ctx.run(|| {
            if let Some(setup) = &t.setup_sql {
                pgrx::spi::Spi::run(setup).unwrap_or_else(|e| crate::errors::internal("running setup_sql", e));
            }
            timed::explain_analyze(t.explain_target())
        })
    }) {
        Ok(plan) => plan,
        Err(e) if e.is_cancel() => return Err(e),
        Err(_) => None,
    };
    let total = t.warmup.max(0) + iterations;
    let mut samples_ms = Vec::with_capacity(iterations as usize);
    let mut rows = 0;
    let budget = timed::Budget::start();
    let mut last = std::time::Duration::ZERO;
    for i in 0..total {
        // The budget may end the test after this iteration: then it is the last one,
        // the one a commit_last test keeps.
        let timed_after = samples_ms.len() + usize::from(i >= t.warmup);
        let last_one = i == total - 1 || (i >= t.warmup && budget.next_is_last(timed_after, last));
        let keep = t.commit_last && last_one;
        let (elapsed, n) = in_subtransaction(if keep { OnSuccess::Commit } else { OnSuccess::Rollback }, || {
            ctx.run(|| timed::time_statement(t.setup_sql.as_deref(), &t.sql))
        })?;
        crate::pg::timeout::check_deadline();
        last = std::time::Duration::from_secs_f64(elapsed / 1000.0);
        if i >= t.warmup {
            samples_ms.push(elapsed);
            rows = n;
        }
        // A test that keeps nothing may also stop once the budget is spent; one that
        // keeps its last iteration stops only where the budget predicted it.
        if last_one || (!t.commit_last && i >= t.warmup && budget.spent(samples_ms.len(), last)) {
            break;
        }
    }
    Ok(timed::Measurement { samples_ms, planned: iterations.max(0) as usize, rows, plan })
}

/// A count check, after its optional setup_sql; always rolled back, so a check that
/// inserts data to see what the schema does with it leaves no trace.
fn run_count(t: &TestDef, ctx: &context::Context) -> Result<Option<f64>, SqlError> {
    in_subtransaction(OnSuccess::Rollback, || {
        ctx.run(|| {
            if let Some(setup) = &t.setup_sql {
                pgrx::spi::Spi::run(setup).unwrap_or_else(|e| crate::errors::internal("running setup_sql", e));
            }
            timed::scalar(&t.sql)
        })
    })
}

/// Cold figures beside the warm ones; a failure to make them is a note, not an error
/// of the test (its warm verdict stands).
fn measure_cold(
    result: &mut TestResult,
    ev: &cold::Evictor,
    t: &TestDef,
    target: &Target,
    ctx: &context::Context,
    relations: &[String],
    iterations: i32,
) {
    let note = match cold::measure(ev, t, target, ctx, relations, iterations) {
        Ok(c) => {
            let summary = Summary::of(&c.samples_ms).or_internal("at least one cold execution");
            let figure = ms(summary.statistic(t.statistic));
            let e = &c.eviction;
            result.cold_ms = Some(figure);
            result.cold_samples_ms = Some(c.samples_ms.iter().copied().map(ms).collect());
            result.evicted = serde_json::to_value(e).ok();
            format!(
                "cold: {} {figure} ms over {} runs, each after evicting {} ({} shared buffers, {} left; OS pages resident {} -> {} of {}){}",
                t.statistic.name(),
                c.samples_ms.len(),
                e.relations.join(", "),
                e.shared_buffers_evicted,
                e.shared_buffers_left,
                e.os.resident_before,
                e.os.resident_after,
                e.os.pages,
                if e.problems.is_empty() { String::new() } else { format!("; not evicted: {}", e.problems.join("; ")) }
            )
        }
        Err(e) => format!("no cold figure: {}", e.message),
    };
    result.add_note(&note);
}

fn judge_timed(result: &mut TestResult, t: &TestDef, m: timed::Measurement) {
    let summary = Summary::of(&m.samples_ms).or_internal("at least one iteration");
    result.set_timing(&summary, t.statistic);
    result.samples_ms = Some(m.samples_ms.iter().copied().map(ms).collect());
    result.rows_returned = Some(m.rows);
    let per = t.records.map(f64::from).unwrap_or(1.0);
    let measured = summary.statistic(t.statistic) / per;
    if t.records.is_some() {
        // The plan judges bulk work per record: execution_time_ms is the per-record figure.
        result.statistic = Some(format!("{}_per_record", t.statistic.name()));
        result.execution_time_ms = Some(ms(measured));
    }
    let mut verdict = time_band(measured, t.target_ms, t.acceptable_ms);
    let plan_note = match m.plan.as_ref().map(PlanFacts::from_json) {
        Some(Ok(facts)) => {
            let plan = m.plan.unwrap_or_default();
            let found = Finding::from_plan(
                &facts,
                &plan,
                t.assert_index.as_deref(),
                t.assert_no_seqscan.as_deref(),
                t.query_type.contains("trigger"),
            );
            result.set_plan(&facts, plan);
            result.findings.extend(found);
            facts.scan_summary()
        }
        Some(Err(e)) => e.to_string(),
        None => "no plan (EXPLAIN failed)".to_string(),
    };
    if m.samples_ms.len() < m.planned {
        result.findings.push(Finding::BudgetSpent {
            ran: m.samples_ms.len() as i64,
            planned: m.planned as i64,
            budget_s: timed::TIME_BUDGET.as_secs(),
        });
    }
    if result.findings.iter().any(Finding::fails_test) {
        verdict = verdict.max(Verdict::Fail);
    }
    result.set_verdict(verdict);
    let bands = match (t.target_ms, t.acceptable_ms) {
        (Some(tg), Some(ac)) => format!(" (target <{tg} ms, acceptable <{ac} ms)"),
        (Some(tg), None) => format!(" (target <{tg} ms)"),
        _ => String::new(),
    };
    let unit = if t.records.is_some() { " per record" } else { "" };
    // The notes say first what failed the test, then the figure, then the rest found.
    let said = |failing: bool| -> Vec<String> {
        result.findings.iter().filter(|f| f.fails_test() == failing).map(|f| f.to_string()).collect()
    };
    let broken: String = said(true).iter().map(|s| format!("{s}; ")).collect();
    let rest: String = said(false).iter().map(|s| format!("; {s}")).collect();
    // A multi-statement DML test reports the last statement's count (0 for a REFRESH).
    let rows = if t.kind == Kind::TimedQuery || m.rows > 0 { format!("; {} rows", m.rows) } else { String::new() };
    result.notes = Some(format!(
        "{broken}{} {measured:.3} ms{unit}{bands} over {} runs, min {:.3} max {:.3}{rows}; {plan_note}{rest}",
        t.statistic.name(),
        summary.n,
        summary.min / per,
        summary.max / per,
    ));
}

fn judge_count(result: &mut TestResult, t: &TestDef, value: Option<f64>, scale: f64) {
    let at_plan_volume = t.expected_value.or_internal("registry requires expected_value for count checks");
    let expected = if t.expected_scales { (at_plan_volume * scale).round() } else { at_plan_volume };
    result.expected_value = Some(expected);
    result.actual_value = value;
    result.rows_returned = value.map(|v| v as i64);
    let as_who = match &t.run_as {
        RunAs::Tenant(c) => format!(" as tenant {c}"),
        RunAs::Author(a) => format!(" as its author {a}"),
        RunAs::Owner => String::new(),
    };
    if value == Some(expected) {
        result.set_verdict(Verdict::Pass);
        result.notes = Some(format!("{expected} = expected {expected}{as_who}"));
    } else {
        result.set_verdict(Verdict::Fail);
        let f = Finding::CountMismatch { actual: value, expected };
        result.notes = Some(format!("{f}{as_who}"));
        result.findings.push(f);
    }
}

fn judge_sweep(result: &mut TestResult, o: isolation::SweepOutcome) {
    result.expected_value = Some(0.0);
    let references = o.findings.iter().filter(|f| matches!(f, Finding::ReferenceAccepted { .. })).count();
    result.actual_value = Some(o.leaks as f64 + references as f64);
    result.set_verdict(if o.findings.is_empty() { Verdict::Pass } else { Verdict::Fail });
    let mut note = if o.findings.iter().all(|f| matches!(f, Finding::ReferenceAccepted { .. })) {
        format!("0 leaks across {} tenant tables: {}", o.checked.len(), o.checked.join(", "))
    } else {
        format!("{} leaks", o.leaks)
    };
    for f in &o.findings {
        note.push_str(&format!("; {f}"));
    }
    if !o.references_refused.is_empty() {
        note.push_str(&format!(
            "; references to another company's rows refused in: {}",
            o.references_refused.join(", ")
        ));
    }
    if !o.not_granted.is_empty() {
        note.push_str(&format!("; not readable by the tenant role: {}", o.not_granted.join(", ")));
    }
    if !o.not_exercised.is_empty() {
        note.push_str(&format!("; no other company's rows to hide in: {}", o.not_exercised.join(", ")));
    }
    result.notes = Some(note);
    result.findings = o.findings;
}

fn judge_concurrency(result: &mut TestResult, t: &TestDef, o: concurrency::Outcome, mode: Mode) {
    use concurrency::Outcome::*;
    result.statistic = Some("wait".into());
    let held_ms = t.hold_ms.map(f64::from);
    let wait = match o {
        NoWait { elapsed_ms, other_pid, other_rows } => {
            result.execution_time_ms = Some(ms(elapsed_ms));
            // When the other transaction held the same rows for hold_ms, waiting that long
            // is the lock queue working; the bands apply to what comes on top of it.
            let hold = held_ms.unwrap_or(0.0);
            if held_ms.is_some() {
                result.target_ms = t.target_ms.map(|x| x + hold);
                result.acceptable_ms = t.acceptable_ms.map(|x| x + hold);
            }
            result.set_verdict(time_band((elapsed_ms - hold).max(0.0), t.target_ms, t.acceptable_ms));
            Finding::LockWait { waited_ms: elapsed_ms, other_pid, rows: Some(other_rows), held_ms, timed_out: false }
        }
        Blocked { lock_timeout_ms, other_pid } => {
            result.execution_time_ms = Some(lock_timeout_ms as f64);
            result.set_verdict(Verdict::Fail);
            Finding::LockWait { waited_ms: lock_timeout_ms as f64, other_pid, rows: None, held_ms, timed_out: true }
        }
        NothingHeld { other_pid } => {
            result.set_verdict(Verdict::Skip);
            let why = if mode == Mode::Session {
                "this run's data is not committed yet, and the second session cannot see it; run in the background (the default)"
            } else {
                "its statement matched no rows"
            };
            result.notes = Some(format!("SKIP: the second session (PID {other_pid}) locked no rows: {why}"));
            return;
        }
    };
    let tail = if matches!(wait, Finding::LockWait { timed_out: false, held_ms: Some(_), .. }) {
        "; no deadlock, no lock escalation"
    } else {
        ""
    };
    result.notes = Some(format!("{wait}{tail}"));
    result.findings.push(wait);
}
