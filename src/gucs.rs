//! Settings (GUCs) under the reserved prefix `pg_perfsuite.`.

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

static TEST_TIME_LIMIT_MS: GucSetting<i32> = GucSetting::<i32>::new(300_000);
static BACKGROUND: GucSetting<bool> = GucSetting::<bool>::new(true);
static ALLOW_EXISTING_DATA: GucSetting<bool> = GucSetting::<bool>::new(false);
static KEEP_DATA: GucSetting<bool> = GucSetting::<bool>::new(true);
static TRUST_SCHEMA_OWNERS: GucSetting<bool> = GucSetting::<bool>::new(false);
static COLD_CACHE: GucSetting<bool> = GucSetting::<bool>::new(false);
static RESERVED_WORKER_SLOTS: GucSetting<i32> = GucSetting::<i32>::new(2);
static MEASURE_ADVICE: GucSetting<bool> = GucSetting::<bool>::new(true);

pub fn init() {
    GucRegistry::define_int_guc(
        c"pg_perfsuite.test_time_limit",
        c"Longest time one test of a run may take.",
        c"A test still running after this long is cancelled and recorded as ERROR; the run goes on. In a background run, a test whose own code catches the cancel is ended 5 s later by terminating the run's worker. 0 disables the limit.",
        &TEST_TIME_LIMIT_MS,
        0,
        i32::MAX,
        GucContext::Userset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_bool_guc(
        c"pg_perfsuite.background",
        c"Default of perf_run_all(background => ...): run in a background worker.",
        c"Off runs the plan in the caller's session and transaction.",
        &BACKGROUND,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"pg_perfsuite.allow_existing_data",
        c"Let a run work in a schema that holds companies pg_perfsuite did not generate.",
        c"Off (the default) refuses such runs: the plan is for staging or test databases only. Only a superuser may turn it on.",
        &ALLOW_EXISTING_DATA,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"pg_perfsuite.keep_data",
        c"Keep the generated test data after a run.",
        c"On (the default) keeps it, so the next run reuses it and compares like with like; off ends each run with perf_cleanup().",
        &KEEP_DATA,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"pg_perfsuite.trust_schema_owners",
        c"Let a run test a schema that holds objects owned by roles the caller is not a member of.",
        c"Off (the default) refuses such a schema before anything runs: its trigger, policy and other functions would run with the caller's rights. Only a superuser may turn it on.",
        &TRUST_SCHEMA_OWNERS,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"pg_perfsuite.measure_advice",
        c"Measure index advice: build each candidate index in a rolled-back subtransaction and time the test and the plan's write tests with it.",
        c"On (the default), a timed query whose plan has a sequential scan worth an index gets the index built, measured and rolled back; the report recommends only an index measured to make the test at least 1.5 times faster, with its write penalty. Tables over 1 GB are skipped; the measurement has a time limit of its own, as long as a test's. Off: the report's index advice is estimated only (hypopg, when installed).",
        &MEASURE_ADVICE,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"pg_perfsuite.cold_cache",
        c"Also measure every timed query with a cold cache.",
        c"Before each of up to 10 cold executions, the tables and indexes of the query's plan are evicted from shared buffers (pg_buffercache, PostgreSQL 17+) and the OS page cache. Needs a superuser. Where shared buffers cannot be evicted, the run says so and makes no cold figure.",
        &COLD_CACHE,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_perfsuite.reserved_worker_slots",
        c"Background-worker slots that only superusers' load tests and runs may use.",
        c"A role that is not a superuser may start load clients only while more than this many max_worker_processes slots stay free, so that an operator's load test cannot starve a superuser's run (or parallel query) of workers. Only a superuser may change it.",
        &RESERVED_WORKER_SLOTS,
        0,
        10_000,
        GucContext::Suset,
        GucFlags::default(),
    );
    // SAFETY: called from _PG_init with a static C string; reserves the prefix so a
    // typo like pg_perfsuite.test_time_limt is an error instead of a silent no-op.
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(c"pg_perfsuite".as_ptr()) };
}

pub fn test_time_limit_ms() -> i32 {
    TEST_TIME_LIMIT_MS.get()
}

pub fn background_default() -> bool {
    BACKGROUND.get()
}

pub fn allow_existing_data() -> bool {
    ALLOW_EXISTING_DATA.get()
}

pub fn keep_data() -> bool {
    KEEP_DATA.get()
}

pub fn trust_schema_owners() -> bool {
    TRUST_SCHEMA_OWNERS.get()
}

pub fn reserved_worker_slots() -> i32 {
    RESERVED_WORKER_SLOTS.get()
}

pub fn measure_advice() -> bool {
    MEASURE_ADVICE.get()
}

pub fn cold_cache() -> bool {
    COLD_CACHE.get()
}
