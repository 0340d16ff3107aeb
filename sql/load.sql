-- Load testing (the plan's pgbench and JMeter runs, in the server) and monitoring.

-- Scripts a load test can run: pgbench-style statements, `:name` variables bound as
-- text; a variable is a fixed value or a list picked from at random per transaction.
CREATE TABLE perf_load_scripts (
    name        text PRIMARY KEY CHECK (name OPERATOR(pg_catalog.~) '^[A-Za-z0-9_.-]{1,40}$'),
    script      text NOT NULL CHECK (pg_catalog.btrim(script) OPERATOR(pg_catalog.<>) ''),
    variables   jsonb NOT NULL DEFAULT '{}' CHECK (pg_catalog.jsonb_typeof(variables) OPERATOR(pg_catalog.=) 'object'),
    description text,
    builtin     boolean NOT NULL DEFAULT false,
    -- Who wrote the script (stamped by perf_stamp_author; see perf_tests.author).
    author      name NOT NULL DEFAULT current_user
);
CREATE TRIGGER perf_load_scripts_author BEFORE INSERT OR UPDATE ON perf_load_scripts
    FOR EACH ROW EXECUTE FUNCTION @extschema@.perf_stamp_author();

-- The plan's pgbench script (company ids as variables, cast in SQL: pgbench's \set is numeric only), with
-- the company drawn at random from the ten scenario-5 tenants.
INSERT INTO perf_load_scripts (name, script, variables, description, builtin) VALUES
('plan', $s$-- Customer list query
SELECT c.*, m.total_conversations
FROM customers c
LEFT JOIN customer_metrics m ON c.id = m.customer_id
WHERE c.company_id = :company_id::uuid
    AND c.deleted_at IS NULL
ORDER BY c.created_at DESC
LIMIT 50;
-- Customer search query
SELECT * FROM customers
WHERE company_id = :company_id::uuid
    AND deleted_at IS NULL
    AND customer_name % :search_term
LIMIT 10;$s$,
 pg_catalog.jsonb_build_object('company_id', (SELECT pg_catalog.jsonb_agg('aaaaaaaa-aaaa-aaaa-aaaa-' OPERATOR(pg_catalog.||) pg_catalog.lpad(i::text, 12, '0')) FROM pg_catalog.generate_series(1, 10) i),
                    'search_term', 'john'),
 'The plan''s pgbench script: customer list + fuzzy search, a random tenant of the ten per transaction.', true),
('plan-list', $s$SELECT c.*, m.total_conversations
FROM customers c
LEFT JOIN customer_metrics m ON c.id = m.customer_id
WHERE c.company_id = :company_id::uuid
    AND c.deleted_at IS NULL
ORDER BY c.created_at DESC
LIMIT 50;$s$,
 pg_catalog.jsonb_build_object('company_id', (SELECT pg_catalog.jsonb_agg('aaaaaaaa-aaaa-aaaa-aaaa-' OPERATOR(pg_catalog.||) pg_catalog.lpad(i::text, 12, '0')) FROM pg_catalog.generate_series(1, 10) i)),
 'The customer-list request alone (what the plan''s JMeter thread group calls), for servers without pg_trgm.', true),
('plan-write', $s$INSERT INTO "VC Usage" (company_id, user_id, session_id, customer_email, customer_name, user_message)
VALUES ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222',
        'load_write_' || :n, 'load-write-' || :n || '@example.test', 'Load Write Customer ' || :n, 'hello');$s$,
 pg_catalog.jsonb_build_object('n', (SELECT pg_catalog.jsonb_agg(i::text) FROM pg_catalog.generate_series(1, 50) i)),
 'Chat conversations arriving without customer_id (the auto-sync trigger finds or creates the customer), 50 people drawn at random: the plan''s trigger cascade under load.', true);

CREATE SEQUENCE perf_load_runs_load_id_seq;

-- One row per load test: pgbench's summary plus percentiles of every successful
-- transaction, from HDR histograms (3 significant digits). lat_*: response time, from
-- when the transaction was due (with a rate, on its schedule; without one, when it
-- started); service_*: from when it started; lag_*: the difference (schedule lag).
CREATE TABLE perf_load_runs (
    load_id         bigint PRIMARY KEY,
    run_id          bigint REFERENCES perf_runs (run_id) ON DELETE CASCADE,
    started_at      timestamptz NOT NULL,
    script          text NOT NULL,
    clients         integer NOT NULL,
    transactions_per_client integer NOT NULL,   -- 0: duration-bound
    duration_ms     bigint NOT NULL,            -- its length; with transactions_per_client, a cap (0: none)
    ramp_up_ms      bigint NOT NULL,
    latency_limit_ms numeric NOT NULL,          -- the JMeter duration assertion
    transactions    bigint,
    failed          bigint,
    elapsed_ms      float8,
    tps             float8,
    lat_min_ms      float8,
    lat_avg_ms      float8,
    lat_stddev_ms   float8,
    lat_p50_ms      float8,
    lat_p90_ms      float8,
    lat_p95_ms      float8,
    lat_p99_ms      float8,
    lat_max_ms      float8,
    over_limit_pct  float8,                     -- share of transactions over latency_limit_ms
    clients_finished integer,
    notes           text,
    rate            float8,                     -- offered transactions per second over all clients (NULL: back to back)
    arrivals        text,                       -- with a rate: poisson or regular
    skip_late       boolean,                    -- with a rate: transactions already latency_limit_ms late were skipped
    skipped         bigint,
    behind          bigint,                     -- due before the end but never started: the clients fell behind
    service_avg_ms  float8,
    service_p50_ms  float8,
    service_p95_ms  float8,
    service_p99_ms  float8,
    service_max_ms  float8,
    lag_avg_ms      float8,
    lag_p95_ms      float8,
    lag_max_ms      float8,
    response_hist   bytea,                      -- the whole test's histograms (HDR V2 encoding, microseconds)
    service_hist    bytea,
    lag_hist        bytea
);

-- Written by the clients (committed as they go): progress, then their seconds and sample.
CREATE TABLE perf_load_clients (
    load_id     bigint NOT NULL,
    client      integer NOT NULL,
    pid         integer,
    done        bigint NOT NULL DEFAULT 0,
    failed      bigint NOT NULL DEFAULT 0,
    status      text NOT NULL,
    error       text,
    updated_at  timestamptz,
    skipped     bigint NOT NULL DEFAULT 0,
    behind      bigint NOT NULL DEFAULT 0,
    first_ms    float8,             -- when its first transaction was due, from the load test's start
    last_ms     float8,             -- when its last transaction ended
    PRIMARY KEY (load_id, client)
);
-- A bounded sample: the first transactions of each client (load tests before 0.4.0
-- kept every transaction here). offset_ms: when it was due, from the load test's start
-- (ramp-up included); latency_ms: response time; service_ms: from when it started.
CREATE TABLE perf_load_samples (
    load_id     bigint NOT NULL,
    client      integer NOT NULL,
    txn         bigint NOT NULL,
    offset_ms   float8 NOT NULL,
    latency_ms  float8 NOT NULL,
    ok          boolean NOT NULL,
    service_ms  float8
);
CREATE INDEX perf_load_samples_load ON perf_load_samples (load_id);
CREATE TABLE perf_load_statements (
    load_id      bigint NOT NULL,
    client       integer NOT NULL,
    statement_no integer NOT NULL,
    sql          text NOT NULL,
    calls        bigint NOT NULL,
    total_ms     float8 NOT NULL
);
-- Each client's seconds as histograms, handed to the coordinator, which merges them
-- into perf_load_runs and perf_load_intervals and deletes them. Operators may write
-- this table: each row is stamped with the backend that wrote it, and the coordinator
-- takes only the rows of the processes it launched as the test's clients.
CREATE TABLE perf_load_client_seconds (
    load_id     bigint NOT NULL,
    client      integer NOT NULL,
    second      integer NOT NULL,
    done        bigint NOT NULL,
    failed      bigint NOT NULL,
    skipped     bigint NOT NULL,
    response    bytea NOT NULL,
    service     bytea NOT NULL,
    lag         bytea NOT NULL,
    pid         integer NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    PRIMARY KEY (load_id, second, client, pid)
);
CREATE FUNCTION perf_stamp_backend() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.pid := pg_catalog.pg_backend_pid();
    NEW.written_at := pg_catalog.clock_timestamp();
    RETURN NEW;
END
$$;
CREATE TRIGGER perf_load_client_seconds_backend BEFORE INSERT OR UPDATE ON perf_load_client_seconds
    FOR EACH ROW EXECUTE FUNCTION @extschema@.perf_stamp_backend();
-- Per second of the test (by when transactions were due), like pgbench -P 1.
CREATE TABLE perf_load_intervals (
    load_id     bigint NOT NULL REFERENCES perf_load_runs ON DELETE CASCADE,
    second      integer NOT NULL,
    transactions bigint NOT NULL,
    failed      bigint NOT NULL,
    tps         float8 NOT NULL,
    lat_avg_ms  float8,
    lat_p95_ms  float8,
    active_clients integer,         -- clients that had a transaction due in this second (ramp-up)
    skipped     bigint,
    lat_p99_ms  float8,
    service_p95_ms float8,
    lag_p95_ms  float8,
    response_hist bytea,            -- this second's histograms, all clients merged
    service_hist bytea,
    lag_hist    bytea,
    PRIMARY KEY (load_id, second)
);
-- Monitoring samples: once a second while a load test runs, and one per test of a run
-- (CPU and disk as rates over the test, the rest when it ended).
CREATE TABLE perf_snapshots (
    load_id         bigint REFERENCES perf_load_runs ON DELETE CASCADE,
    run_id          bigint REFERENCES perf_runs (run_id) ON DELETE CASCADE,
    taken_at        timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    offset_ms       float8,
    slow_queries    integer,
    lock_waits      integer,
    cache_hit_ratio float8,
    cpu_busy_pct    float8,
    mem_used_pct    float8,
    connections     integer,    -- client backends (connection pool exhaustion risk)
    blocks_read_per_s float8,   -- this database's blocks read into shared buffers per second
    disk_read_kbs   float8,     -- machine-wide disk reads, kB/s (/proc/vmstat pgpgin)
    disk_write_kbs  float8,     -- machine-wide disk writes, kB/s (/proc/vmstat pgpgout)
    test_id         text        -- the test of the run that was running
);

-- Capacity searches (perf_capacity): open-loop steps of rising offered rate, then a
-- bisection; the answer is the highest rate whose p95 response time met the target.
CREATE SEQUENCE perf_capacity_runs_capacity_id_seq;
CREATE TABLE perf_capacity_runs (
    capacity_id     bigint PRIMARY KEY,
    run_id          bigint REFERENCES perf_runs (run_id) ON DELETE CASCADE,
    started_at      timestamptz NOT NULL,
    script          text NOT NULL,
    clients         integer NOT NULL,
    arrivals        text NOT NULL,
    target_p95_ms   float8 NOT NULL,
    step_ms         bigint NOT NULL,
    steps           integer NOT NULL,
    capacity_tps    float8,         -- the highest offered rate that met the target (NULL: none did)
    knee_tps        float8,         -- throughput where latency turned upward
    notes           text
);
CREATE TABLE perf_capacity_steps (
    capacity_id     bigint NOT NULL REFERENCES perf_capacity_runs ON DELETE CASCADE,
    step            integer NOT NULL,
    load_id         bigint REFERENCES perf_load_runs ON DELETE SET NULL,
    offered_rate    float8 NOT NULL,
    achieved_tps    float8,
    p50_ms          float8,
    p95_ms          float8,
    p99_ms          float8,
    service_p95_ms  float8,
    failed          bigint,
    behind          bigint,
    met             boolean NOT NULL,
    capacity        boolean NOT NULL DEFAULT false,     -- the answer
    knee            boolean NOT NULL DEFAULT false,
    PRIMARY KEY (capacity_id, step)
);

-- Per statement of a load test: calls and mean latency over all clients.
CREATE VIEW perf_load_statement_stats AS
SELECT load_id, statement_no, pg_catalog.min(sql) AS sql, pg_catalog.sum(calls) AS calls,
       pg_catalog.sum(total_ms) OPERATOR(pg_catalog./) NULLIF(pg_catalog.sum(calls), 0::numeric) AS avg_ms
  FROM @extschema@.perf_load_statements GROUP BY load_id, statement_no;

-- The plan's monitoring queries. Active queries running longer than a threshold:
CREATE FUNCTION perf_slow_queries(threshold interval DEFAULT '100 milliseconds')
RETURNS TABLE (pid integer, duration interval, query text, state text, usename name, wait_event text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.pid, pg_catalog.now() OPERATOR(pg_catalog.-) a.query_start, a.query, a.state, a.usename, a.wait_event
      FROM pg_catalog.pg_stat_activity a
     WHERE (pg_catalog.now() OPERATOR(pg_catalog.-) a.query_start) OPERATOR(pg_catalog.>) threshold
       AND a.state OPERATOR(pg_catalog.<>) 'idle' AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
     ORDER BY 2 DESC
$$;

-- Lock waits: blocked and blocking pid, user and statement (pg_blocking_pids() is
-- what the plan's fifteen-way pg_locks join computes).
CREATE VIEW perf_lock_waits AS
SELECT blocked.pid AS blocked_pid, blocked.usename AS blocked_user,
       blocking.pid AS blocking_pid, blocking.usename AS blocking_user,
       blocked.query AS blocked_statement, blocking.query AS current_statement_in_blocking_process,
       pg_catalog.now() OPERATOR(pg_catalog.-) blocked.query_start AS waiting_for
  FROM pg_catalog.pg_stat_activity blocked
  JOIN LATERAL pg_catalog.unnest(pg_catalog.pg_blocking_pids(blocked.pid)) AS b(pid) ON true
  JOIN pg_catalog.pg_stat_activity blocking ON blocking.pid OPERATOR(pg_catalog.=) b.pid;

SELECT pg_catalog.pg_extension_config_dump('perf_load_scripts', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('perf_load_runs', '');
SELECT pg_catalog.pg_extension_config_dump('perf_load_intervals', '');
SELECT pg_catalog.pg_extension_config_dump('perf_snapshots', '');
SELECT pg_catalog.pg_extension_config_dump('perf_load_clients', '');
SELECT pg_catalog.pg_extension_config_dump('perf_load_samples', '');
SELECT pg_catalog.pg_extension_config_dump('perf_load_statements', '');
SELECT pg_catalog.pg_extension_config_dump('perf_load_client_seconds', '');
SELECT pg_catalog.pg_extension_config_dump('perf_capacity_runs', '');
SELECT pg_catalog.pg_extension_config_dump('perf_capacity_steps', '');
SELECT pg_catalog.pg_extension_config_dump('perf_capacity_runs_capacity_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('perf_load_runs_load_id_seq', '');
REVOKE ALL ON perf_load_scripts, perf_load_runs, perf_load_clients, perf_load_samples, perf_load_statements,
              perf_load_intervals, perf_snapshots, perf_load_client_seconds, perf_capacity_runs,
              perf_capacity_steps FROM PUBLIC;
