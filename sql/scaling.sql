-- Scaling sweeps: perf_scaling() runs the timed tests at several scales, one ordinary
-- run per scale (their results are in performance_test_results), and reads the growth
-- of each test from them. One row per sweep.
CREATE TABLE perf_scaling_sweeps (
    sweep_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at     timestamptz,
    target_schema   text NOT NULL,
    pattern         text NOT NULL,
    scales          double precision[] NOT NULL,
    -- the volume (customers in the schema) each test is extrapolated to
    at_customers    bigint NOT NULL CHECK (at_customers OPERATOR(pg_catalog.>) 0),
    run_ids         bigint[] NOT NULL DEFAULT '{}',
    run_by          name NOT NULL DEFAULT current_user
);
SELECT pg_catalog.pg_extension_config_dump('perf_scaling_sweeps', '');
SELECT pg_catalog.pg_extension_config_dump('perf_scaling_sweeps_sweep_id_seq', '');
REVOKE ALL ON perf_scaling_sweeps FROM PUBLIC;
