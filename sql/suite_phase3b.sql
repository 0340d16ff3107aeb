-- The Phase 3B plan's tests as registry rows (ERRATA.md corrections applied).
-- Targets in milliseconds; "acceptable" is the plan's WARN band, NULL where it gives none.

INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, statistic, target_ms, acceptable_ms,
                        iterations, warmup, builtin, description, sql) VALUES
('1.1', 1, 'Customer list pagination', 'timed_query', 'customer_list', 'p95', 50, 100, 20, 3, true,
 'First page of 50 live customers, newest first, with their conversation count.',
$q$SELECT c.*, m.total_conversations
FROM customers c
LEFT JOIN customer_metrics m ON c.id = m.customer_id
WHERE c.company_id = '11111111-1111-1111-1111-111111111111'
    AND c.deleted_at IS NULL
ORDER BY c.created_at DESC
LIMIT 50 OFFSET 0$q$),

('1.2', 1, 'Customer count with filters', 'timed_query', 'customer_count', 'p95', 30, NULL, 20, 3, true,
 'Totals per lifecycle stage and VIP tag for one company.',
$q$SELECT
    COUNT(*) as total,
    COUNT(*) FILTER (WHERE lifecycle_stage = 'prospect') as prospects,
    COUNT(*) FILTER (WHERE lifecycle_stage = 'customer') as customers,
    COUNT(*) FILTER (WHERE 'vip' = ANY(tags)) as vip_customers
FROM customers
WHERE company_id = '11111111-1111-1111-1111-111111111111'
    AND deleted_at IS NULL$q$),

('1.3', 1, 'Load customer with all relations', 'timed_query', 'customer_detail', 'p95', 100, 150, 20, 3, true,
 'One customer with sessions, conversation count and events; rows multiply before DISTINCT (ERRATA 9).',
$q$SELECT
    c.*,
    array_agg(DISTINCT cs.session_id) as sessions,
    COUNT(DISTINCT vc.id) as conversation_count,
    json_agg(DISTINCT e.*) as recent_events
FROM customers c
LEFT JOIN "VC Usage" vc ON c.id = vc.customer_id
LEFT JOIN customer_conversation_summaries cs ON c.id = cs.customer_id
LEFT JOIN customer_events e ON c.id = e.customer_id
WHERE c.id = (
    SELECT id FROM customers
    WHERE company_id = '11111111-1111-1111-1111-111111111111'
    LIMIT 1
)
GROUP BY c.id$q$);
