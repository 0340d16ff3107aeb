-- What decides the plans a run measures, as one fingerprint: the seed and the scale of
-- its data (pg_perfsuite's environment, with what earlier runs left removed), the
-- schema's definition (columns, indexes, constraints, policies, triggers) and the
-- settings recorded with the run. Two runs with the same fingerprint measured the same
-- state: a plan that differs between them is an unstable plan.
-- $1: the schema, $2: the seed, $3: the scale, $4: the run.
WITH nsp AS (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) $1),
definition(line) AS (
    SELECT c.relname::text || '.' || a.attname::text || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
      FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid, nsp
     WHERE c.relnamespace OPERATOR(pg_catalog.=) nsp.oid AND c.relkind IN ('r', 'p', 'm', 'v')
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
    UNION ALL
    SELECT pg_catalog.pg_get_indexdef(i.indexrelid)
      FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indrelid, nsp
     WHERE c.relnamespace OPERATOR(pg_catalog.=) nsp.oid
    UNION ALL
    SELECT k.conname::text || ' ' || pg_catalog.pg_get_constraintdef(k.oid)
      FROM pg_catalog.pg_constraint k, nsp WHERE k.connamespace OPERATOR(pg_catalog.=) nsp.oid
    UNION ALL
    SELECT p.tablename::text || ' ' || p.policyname::text || ' ' || p.permissive || ' ' || p.cmd || ' '
           || coalesce(p.qual, '') || ' ' || coalesce(p.with_check, '')
      FROM pg_catalog.pg_policies p WHERE p.schemaname OPERATOR(pg_catalog.=) $1
    UNION ALL
    SELECT pg_catalog.pg_get_triggerdef(t.oid)
      FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid, nsp
     WHERE c.relnamespace OPERATOR(pg_catalog.=) nsp.oid AND NOT t.tgisinternal
)
SELECT pg_catalog.md5(pg_catalog.concat_ws(E'\n', $2::text, $3::text,
           (SELECT r.settings::text FROM perf_runs r WHERE r.run_id OPERATOR(pg_catalog.=) $4),
           (SELECT pg_catalog.string_agg(d.line, E'\n' ORDER BY d.line COLLATE "C") FROM definition d)))
