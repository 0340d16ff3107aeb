-- Last in the install script, once every object exists: who may execute what, and
-- what each object is for.

-- Functions that write or run stored SQL are not PUBLIC's: perf_grant_operator grants
-- them to the roles a DBA chooses.
REVOKE EXECUTE ON FUNCTION perf_install_schema(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION log_performance_test(text, text, numeric, integer, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION generate_test_customers(uuid, integer, uuid, bigint, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_run_all(text, integer, bigint, boolean, boolean, double precision) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_run(text, text, integer, bigint, boolean, boolean, double precision) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_schedule(text, text, text, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_unschedule(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_generate(integer, integer, bigint, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_cleanup(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_load_test(integer, integer, interval, text, text, interval, double precision, double precision, text, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_capacity(text, double precision, integer, text, interval, double precision, integer, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_grant_operator(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_revoke_operator(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_ledger_record(text, uuid) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_ledger_forget(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_load_preset(text, text, double precision) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_set_baseline(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_scaling(double precision[], text, text, bigint, integer, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_clear_baseline(text) FROM PUBLIC;

-- What \df+, \dt+ and \dv+ show: every function, table, view and sequence of the
-- extension says what it is for. docs/reference.md is generated from these
-- (scripts/reference.sh) and a test fails when the two disagree.
COMMENT ON FUNCTION perf_run_all(text, integer, bigint, boolean, boolean, double precision) IS
    'Run the whole test plan against target_schema (installing the reference schema and the plan''s data if needed); one row per test with its verdict. In a background worker unless background => false.';
COMMENT ON FUNCTION perf_run(text, text, integer, bigint, boolean, boolean, double precision) IS
    'Run the tests whose id matches a LIKE pattern (''1.%'', ''5.3-all-tables''), as perf_run_all does; one row per test.';
COMMENT ON FUNCTION perf_report(bigint, text) IS
    'The plan''s Reporting Template for a run (the latest when NULL), as markdown, html, json or tap.';
COMMENT ON FUNCTION perf_summary(interval, bigint) IS
    'Runs of the last period: verdict counts, the slowest tests and what failed.';
COMMENT ON FUNCTION perf_compare(bigint, bigint, double precision, double precision) IS
    'Each test of a run against its baseline (the last earlier run of the same schema and scale that ran it, or a pinned run): regressed, improved, within noise or unstable plan, with the statistics behind the verdict and any plan change.';
COMMENT ON FUNCTION perf_history(text, text, double precision) IS
    'One test across the completed runs of a schema and scale: its figure, noise band, plan fingerprint, the canary, and the runs where it shifted (change points).';
COMMENT ON FUNCTION perf_set_baseline(bigint) IS
    'Pin a completed run as the baseline perf_compare and the report compare with, for its schema.';
COMMENT ON FUNCTION perf_clear_baseline(text) IS
    'Unpin the baseline of a schema: comparisons go back to the previous run.';
COMMENT ON FUNCTION perf_schedule(text, text, text, text, integer) IS
    'Schedule runs with pg_cron (a cron expression); returns the job id.';
COMMENT ON FUNCTION perf_unschedule(text) IS
    'Remove a run schedule made by perf_schedule.';
COMMENT ON FUNCTION perf_generate(integer, integer, bigint, text) IS
    'Generate the plan''s scenario-5 data: tenants x customers each with their conversations and events, seeded and reproducible, recorded in the ledger of generated companies.';
COMMENT ON FUNCTION generate_test_customers(uuid, integer, uuid, bigint, text) IS
    'The plan''s helper, in Rust: generate customers (with conversations and events) for one company.';
COMMENT ON FUNCTION log_performance_test(text, text, numeric, integer, text) IS
    'The plan''s helper: record one measurement in performance_test_results.';
COMMENT ON FUNCTION perf_cleanup(text) IS
    'Delete what pg_perfsuite generated in a schema (the companies in its ledger and their rows); never anything else.';
COMMENT ON FUNCTION perf_install_schema(text) IS
    'Install the reference customer-management schema (tables, indexes, triggers, row-level security) into an empty schema.';
COMMENT ON FUNCTION perf_load_test(integer, integer, interval, text, text, interval, double precision, double precision, text, boolean) IS
    'A load test from background workers (pgbench -c/-t/-T/-R): closed loop, or open loop with rate (Poisson or regular arrivals, response time from when each transaction was due); the summary row, details in the perf_load_* tables.';
COMMENT ON FUNCTION perf_load_preset(text, text, double precision) IS
    'One of the plan''s load shapes by name: jmeter (50 clients over 10 s for 300 s), pgbench (10 clients x 100) or write (10 concurrent writers).';
COMMENT ON FUNCTION perf_capacity(text, double precision, integer, text, interval, double precision, integer, text) IS
    'The highest offered rate whose p95 response time meets a target: open-loop steps of rising rate, then a bisection; one row per step, the capacity and the knee marked.';
COMMENT ON FUNCTION perf_scaling(double precision[], text, text, bigint, integer, boolean) IS
    'Run the timed tests at several data scales and fit how each grows with the data (log-log slope), flagging the ones that grow faster than they should.';
COMMENT ON FUNCTION perf_scaling_results(bigint) IS
    'The measurements of a scaling sweep, one row per test and scale.';
COMMENT ON FUNCTION perf_scaling_report(bigint, text) IS
    'The report of a scaling sweep (markdown or html): slopes, flags, extrapolation.';
COMMENT ON FUNCTION perf_free_worker_slots() IS
    'Background-worker slots the calling role may take now (runs, second sessions and load clients each take one).';
COMMENT ON FUNCTION perf_slow_queries(interval) IS
    'The plan''s monitoring query: active queries running longer than a threshold.';
COMMENT ON FUNCTION perf_grant_operator(text) IS
    'Make a role an operator: everything it needs to run the plan and read results, granted from the extension''s own membership list.';
COMMENT ON FUNCTION perf_revoke_operator(text) IS
    'Take back what perf_grant_operator granted.';
COMMENT ON FUNCTION perf_ledger_record(text, uuid) IS
    'Internal (SECURITY DEFINER): record a generated company in the ledger perf_cleanup trusts.';
COMMENT ON FUNCTION perf_ledger_forget(text) IS
    'Internal (SECURITY DEFINER): forget the ledger''s companies of a schema after cleanup.';
COMMENT ON FUNCTION perf_stamp_backend() IS
    'Trigger: stamps the backend that wrote a load client''s hand-over row; the coordinator takes only its own clients'' rows.';
COMMENT ON FUNCTION perf_stamp_author() IS
    'Trigger: stamps the role that wrote a registry test or load script into its author column; stored SQL runs with that role''s rights.';

COMMENT ON TABLE performance_test_results IS
    'The plan''s results table, one row per test of a run: figures, verdict, notes, plan, typed findings, waits and resources.';
COMMENT ON TABLE perf_runs IS
    'One row per run: when, where, status, overall verdict, counts, settings, data volume, state and canary.';
COMMENT ON TABLE perf_tests IS
    'The test registry: the plan''s tests (builtin) and your own; each row says what to run, how, and its targets.';
COMMENT ON TABLE perf_generated_companies IS
    'The ledger of companies pg_perfsuite generated, per schema: what perf_cleanup may delete. Written only by the extension.';
COMMENT ON TABLE perf_scaling_sweeps IS
    'Scaling sweeps (perf_scaling): the scales, the tests and the runs of each.';
COMMENT ON TABLE perf_load_scripts IS
    'Load scripts (pgbench-style statements with :variables); each runs with the rights of its author.';
COMMENT ON TABLE perf_load_runs IS
    'One row per load test: throughput, response/service/lag percentiles from HDR histograms, failures, skipped and behind, the whole test''s histograms.';
COMMENT ON TABLE perf_load_intervals IS
    'Per second of a load test (by when transactions were due): throughput, percentiles, active clients, and that second''s histograms.';
COMMENT ON TABLE perf_load_clients IS
    'Each load client''s progress: done, failed, skipped, behind, status and first error.';
COMMENT ON TABLE perf_load_client_seconds IS
    'Histograms the load clients hand to the coordinator, per client and second; merged into perf_load_runs and perf_load_intervals, then deleted.';
COMMENT ON TABLE perf_load_samples IS
    'A bounded sample of load-test transactions: the first 50 of each client, when each was due, its response and service time.';
COMMENT ON TABLE perf_load_statements IS
    'Calls and total time per statement of a load script, per client.';
COMMENT ON TABLE perf_snapshots IS
    'Monitoring samples: once a second during a load test and once per test of a run (CPU, memory, disk, lock waits, slow queries, connections).';
COMMENT ON TABLE perf_capacity_runs IS
    'Capacity searches (perf_capacity): the target, the clients, the capacity and the knee found.';
COMMENT ON TABLE perf_capacity_steps IS
    'Each step of a capacity search: offered rate, achieved throughput, p95, whether it met the target, its load test.';

COMMENT ON VIEW perf_progress IS
    'Runs in progress and recent: tests done of total, the current test, elapsed time.';
COMMENT ON VIEW perf_load_statement_stats IS
    'Calls and mean time per statement of each load test, over all clients.';
COMMENT ON VIEW perf_lock_waits IS
    'The plan''s lock-wait query: blocked and blocking sessions, users and statements.';

COMMENT ON SEQUENCE perf_runs_run_id_seq IS 'Run numbers.';
COMMENT ON SEQUENCE performance_test_results_result_id_seq IS 'Result numbers.';
COMMENT ON SEQUENCE perf_load_runs_load_id_seq IS 'Load test numbers.';
COMMENT ON SEQUENCE perf_capacity_runs_capacity_id_seq IS 'Capacity search numbers.';
COMMENT ON SEQUENCE perf_scaling_sweeps_sweep_id_seq IS 'Scaling sweep numbers.';
