-- The plan's requirement lists (Data Integrity, Trigger Performance, Risk Factors) as
-- registry rows of scenario 6, run after the numbered scenarios. Count checks run in a
-- rolled-back subtransaction: the conversations they insert leave no trace.

INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, expected_value, iterations, warmup,
                        builtin, description, setup_sql, sql) VALUES
('R.dedup-email', 6, 'No duplicate customer from the same person by email', 'count_check', 'integrity', 1, 1, 0, true,
 'Data integrity: two conversations of one person (same email, different case and spacing) end with one customer.',
$q$INSERT INTO "VC Usage" (company_id, user_id, customer_name, customer_email, session_id, interaction_number,
                        user_message, ai_response)
VALUES ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222', 'Dup Check',
        'dup.check@example.com', 'dup_check_1', 1, 'hi', 'hello');
INSERT INTO "VC Usage" (company_id, user_id, customer_name, customer_email, session_id, interaction_number,
                        user_message, ai_response)
VALUES ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222', 'Dup Check Again',
        ' DUP.Check@example.com', 'dup_check_2', 1, 'hi again', 'hello again')$q$,
$q$SELECT count(DISTINCT customer_id) FROM "VC Usage" WHERE session_id IN ('dup_check_1', 'dup_check_2')$q$),

('R.dedup-phone', 6, 'No duplicate customer from the same person by phone', 'count_check', 'integrity', 1, 1, 0, true,
 'Data integrity: two conversations with the same phone written two ways, no email, end with one customer.',
$q$INSERT INTO "VC Usage" (company_id, user_id, customer_name, customer_phone, session_id, interaction_number,
                        user_message, ai_response)
VALUES ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222', 'Phone Check',
        '+1-555-010-9999', 'dup_check_3', 1, 'hi', 'hello');
INSERT INTO "VC Usage" (company_id, user_id, customer_name, customer_phone, session_id, interaction_number,
                        user_message, ai_response)
VALUES ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222', NULL,
        '1 (555) 010 9999', 'dup_check_4', 1, 'hi again', 'hello again')$q$,
$q$SELECT count(DISTINCT customer_id) FROM "VC Usage" WHERE session_id IN ('dup_check_3', 'dup_check_4')$q$),

('R.trigger-chain', 6, 'Trigger chain terminates (no infinite loop)', 'count_check', 'trigger', 1000, 1, 0, true,
 'Triggers: touching every generated Load Test Company customer fires the key-sync chain once per row and ends (a loop would end in "stack depth limit exceeded" or the test time limit: an ERROR); afterwards each still has exactly one name key.',
$q$UPDATE customers SET customer_email = customer_email, customer_phone = customer_phone
WHERE company_id = '11111111-1111-1111-1111-111111111111' AND customer_name LIKE 'Test Customer %'$q$,
$q$SELECT count(*) FROM customer_matching_keys k JOIN customers c ON c.id = k.customer_id
WHERE c.company_id = '11111111-1111-1111-1111-111111111111' AND c.customer_name LIKE 'Test Customer %'
  AND k.key_type = 'name'$q$);

INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, expected_value, iterations, warmup,
                        builtin, description, sql) VALUES
('R.fk-orphans', 6, 'Every foreign key holds (no orphan rows)', 'count_check', 'integrity', 0, 1, 0, true,
 'Data integrity: rows whose parent is missing, summed over the plan''s parent/child pairs.',
$q$SELECT (SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM companies p WHERE p.id = c.company_id))
     + (SELECT count(*) FROM users u WHERE u.company_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM companies p WHERE p.id = u.company_id))
     + (SELECT count(*) FROM customer_matching_keys k WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = k.customer_id))
     + (SELECT count(*) FROM "VC Usage" v WHERE v.customer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = v.customer_id))
     + (SELECT count(*) FROM customer_events e WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = e.customer_id))
     + (SELECT count(*) FROM customer_conversation_summaries s WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = s.customer_id))$q$),

('R.keys-synced', 6, 'Matching keys synchronized with customers', 'count_check', 'integrity', 0, 1, 0, true,
 'Data integrity: customers whose current name, email or phone lacks its key, or whose key holds another value.',
$q$SELECT count(*) FROM customers c
WHERE EXISTS (
    SELECT 1 FROM (VALUES ('name', c.customer_name), ('email', c.customer_email), ('phone', c.customer_phone)) AS want(key_type, v)
     WHERE (want.v IS NOT NULL) <> EXISTS (SELECT 1 FROM customer_matching_keys k
                                            WHERE k.customer_id = c.id AND k.key_type = want.key_type AND k.key_value = want.v)
        OR EXISTS (SELECT 1 FROM customer_matching_keys k
                    WHERE k.customer_id = c.id AND k.key_type = want.key_type AND k.key_value IS DISTINCT FROM want.v))$q$);

INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, target_ms, acceptable_ms, iterations, warmup,
                        builtin, description, sql) VALUES
('R.metrics-refresh', 6, 'customer_metrics concurrent refresh at this volume', 'dml', 'risk', 1000, 3000, 3, 0, true,
 'Risk factor "materialized view refresh bottleneck": REFRESH ... CONCURRENTLY (readers are not blocked) at the run''s volume. Targets are pg_perfsuite''s choice: the plan sets none.',
$q$REFRESH MATERIALIZED VIEW CONCURRENTLY customer_metrics$q$);

-- The plan's "Load Testing Tools": pgbench's run (10 clients x 100 transactions of the
-- customer-list + fuzzy-search script), judged by the JMeter thread group's assertion
-- (each response < 100 ms) on p95. Runs in background runs only (clients are sessions).
INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, target_ms, clients, iterations, warmup,
                        requires_extension, builtin, description, sql) VALUES
('L.1', 7, 'Load test: the plan''s pgbench run (10 clients x 100)', 'load', 'load', 100, 10, 100, 0, 'pg_trgm', true,
 'Clients are background workers (perf_load_test); the company is drawn from the ten tenants per transaction.',
 'plan');

-- L.2: the plan's risk factor "trigger cascade under load": 10 clients insert chat
-- conversations without customer_id, so every insert runs the auto-sync trigger (find
-- the customer by email or create it), for 50 people drawn at random; two clients often
-- bring the same new person at once. L.2-dedup then checks the trigger's promise under
-- that concurrency: one live customer per person.
INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, target_ms, clients, iterations, warmup,
                        builtin, description, sql) VALUES
('L.2', 7, 'Load test: auto-sync trigger under concurrent writes (10 clients x 50)', 'load', 'load_write', 100, 10, 50, 0, true,
 'Clients are background workers (perf_load_test, script plan-write); verdict on p95 per insert, FAIL on any failed insert.',
 'plan-write');
INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, expected_value, iterations, warmup, builtin,
                        description, sql) VALUES
('L.2-dedup', 7, 'No duplicate customers from concurrent auto-sync', 'count_check', 'integrity', 0, 1, 0, true,
 'People the write load created more than one live customer for (expected 0).',
$q$SELECT count(*) FROM (SELECT pg_catalog.lower(customer_email) FROM customers
                         WHERE company_id = '11111111-1111-1111-1111-111111111111'
                           AND customer_email LIKE 'load-write-%' AND deleted_at IS NULL
                         GROUP BY 1 HAVING count(*) > 1) d$q$);

-- L.capacity: the plan's question "how much load can we take within the targets",
-- answered by perf_capacity's search: the plan's script with 10 clients, open-loop
-- Poisson arrivals in 2 s steps from 50 transactions/s, at most 10 steps; PASS when the
-- highest rate whose p95 response time stays under the JMeter assertion's 100 ms is at
-- least 50/s. The plan sets no rate: 50/s is its 50 JMeter users sending one request a
-- second each, pg_perfsuite's choice. Off by default (about 25 s); turn it on with
-- UPDATE perf_tests SET enabled = true WHERE test_id = 'L.capacity'.
INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, target_ms, clients, iterations, warmup,
                        requires_extension, builtin, enabled, target_rate, description, sql) VALUES
('L.capacity', 7, 'Capacity: the highest offered rate within p95 100 ms (10 clients)', 'capacity', 'load', 100, 10, 10, 0,
 'pg_trgm', true, false, 50,
 'Open-loop steps of rising offered rate (perf_capacity), response time counted from when each transaction was due; PASS when the capacity reaches target_rate.',
 'plan');

-- Counts of one company's generated customers: the plan's 1000, times the run's scale.
UPDATE perf_tests SET expected_scales = true WHERE test_id IN ('5.1', 'R.trigger-chain');

-- The tests' places in the report: the Reporting Template's "Detailed Results" rows, the
-- plan's "Baseline Performance (Current State)" (list 500 ms, search 300 ms, detail
-- 400 ms), the duplicate-customer checks and the refresh of customer_metrics.
UPDATE perf_tests SET report_row = v.report_row, plan_baseline_ms = v.baseline
  FROM (VALUES ('1.1', 'Customer List', 500), ('2.1', 'Customer Search', 300), ('1.3', 'Customer Detail', 400),
               ('3.1', 'Trigger Performance', NULL), ('5.3-all-tables', 'Multi-tenant Isolation', NULL))
       AS v(test_id, report_row, baseline)
 WHERE perf_tests.test_id OPERATOR(pg_catalog.=) v.test_id;
UPDATE perf_tests SET report_role = 'dedup_check' WHERE test_id IN ('R.dedup-email', 'R.dedup-phone', 'L.2-dedup');
UPDATE perf_tests SET report_role = 'metrics_refresh' WHERE test_id OPERATOR(pg_catalog.=) 'R.metrics-refresh';
-- The plan's insert and update tests: the write penalty of a candidate index.
UPDATE perf_tests SET measures_writes = true WHERE test_id IN ('3.1', '4.1');
