-- What a bulk load of an empty reference schema sets aside and puts back (as pgbench -i
-- builds its keys after loading). $1: the tables the load fills.
-- One row per object, in the order to rebuild them: primary keys and unique constraints
-- (their indexes come with them), the other indexes, then every foreign key on or
-- pointing at those tables (PostgreSQL validates a foreign key added to a filled table
-- with one anti-join, not a trigger call per row), and last the enabled user triggers,
-- which are switched off for the load and on again. Definitions come from the catalog
-- (pg_get_constraintdef, pg_get_indexdef), names quoted, tables schema-qualified.
-- $1 holds the tables as quoted text.
SELECT d.ord, d.kind, d.table_q, d.name_q, d.definition
  FROM (
    SELECT 1 AS ord, 'key' AS kind, c.conrelid::pg_catalog.regclass::text AS table_q,
           pg_catalog.quote_ident(c.conname::text) AS name_q, pg_catalog.pg_get_constraintdef(c.oid) AS definition
      FROM pg_catalog.pg_constraint c
     WHERE c.conrelid = ANY ($1::pg_catalog.regclass[]::pg_catalog.oid[]) AND c.contype IN ('p', 'u')
    UNION ALL
    SELECT 2, 'index', i.indrelid::pg_catalog.regclass::text, pg_catalog.quote_ident(ic.relname::text),
           pg_catalog.pg_get_indexdef(i.indexrelid)
      FROM pg_catalog.pg_index i
      JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
     WHERE i.indrelid = ANY ($1::pg_catalog.regclass[]::pg_catalog.oid[])
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
    UNION ALL
    SELECT 3, 'foreign key', c.conrelid::pg_catalog.regclass::text, pg_catalog.quote_ident(c.conname::text),
           pg_catalog.pg_get_constraintdef(c.oid)
      FROM pg_catalog.pg_constraint c
     WHERE c.contype = 'f' AND (c.conrelid = ANY ($1::pg_catalog.regclass[]::pg_catalog.oid[]) OR c.confrelid = ANY ($1::pg_catalog.regclass[]::pg_catalog.oid[]))
    UNION ALL
    SELECT 4, 'trigger', t.tgrelid::pg_catalog.regclass::text, pg_catalog.quote_ident(t.tgname::text), NULL
      FROM pg_catalog.pg_trigger t
     WHERE t.tgrelid = ANY ($1::pg_catalog.regclass[]::pg_catalog.oid[]) AND NOT t.tgisinternal AND t.tgenabled = 'O'
  ) d
 ORDER BY d.ord, d.table_q, d.name_q
