-- Everything about pg_perfsuite's objects that a fresh install and an upgraded one must
-- share, one line per fact and no OIDs, so two databases can be compared with diff
-- (scripts/test-upgrade.sh): members, function definitions, columns in order, constraints,
-- indexes, triggers, policies, rules, views, sequences, privileges (current and as
-- recorded at install), comments and the pg_dump marks of configuration tables.
WITH ext AS (
    SELECT e.oid, e.extconfig, e.extcondition FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_perfsuite'
), members AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d, ext
     WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
), rels AS (
    SELECT c.* FROM pg_catalog.pg_class c
      JOIN members m ON m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND m.objid = c.oid
), procs AS (
    SELECT p.* FROM pg_catalog.pg_proc p
      JOIN members m ON m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND m.objid = p.oid
), facts(line) AS (
    SELECT 'member ' || pg_catalog.pg_describe_object(classid, objid, 0) FROM members
    UNION ALL
    SELECT 'function ' || pg_catalog.regexp_replace(pg_catalog.pg_get_functiondef(p.oid), '\s+', ' ', 'g')
      FROM procs p WHERE p.prokind <> 'a'
    UNION ALL
    SELECT 'function-acl ' || p.oid::pg_catalog.regprocedure::text || ' ' || coalesce(p.proacl::text, 'default')
      FROM procs p
    UNION ALL
    SELECT pg_catalog.format('relation %s kind=%s persistence=%s rls=%s owner=%s options=%s acl=%s',
                             c.oid::pg_catalog.regclass, c.relkind, c.relpersistence, c.relrowsecurity,
                             pg_catalog.pg_get_userbyid(c.relowner), c.reloptions, coalesce(c.relacl::text, 'default'))
      FROM rels c
    UNION ALL
    SELECT pg_catalog.format('column %s #%s %s %s notnull=%s default=%s identity=%s generated=%s collation=%s acl=%s',
                             a.attrelid::pg_catalog.regclass,
                             pg_catalog.row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
                             a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
                             pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                             a.attcollation::pg_catalog.regcollation, a.attacl)
      FROM pg_catalog.pg_attribute a
      JOIN rels c ON c.oid = a.attrelid
      LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT pg_catalog.format('constraint %s %s %s', k.conrelid::pg_catalog.regclass, k.conname,
                             pg_catalog.pg_get_constraintdef(k.oid))
      FROM pg_catalog.pg_constraint k JOIN rels c ON c.oid = k.conrelid
    UNION ALL
    SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)
      FROM pg_catalog.pg_index i JOIN rels c ON c.oid = i.indrelid
    UNION ALL
    SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
      FROM pg_catalog.pg_trigger t JOIN rels c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
    UNION ALL
    SELECT pg_catalog.format('policy %s %s %s %s roles=%s using=%s check=%s', p.schemaname, p.tablename, p.policyname,
                             p.cmd, p.roles, p.qual, p.with_check)
      FROM pg_catalog.pg_policies p JOIN rels c ON c.oid = pg_catalog.format('%I.%I', p.schemaname, p.tablename)::pg_catalog.regclass
    UNION ALL
    SELECT 'rule ' || pg_catalog.regexp_replace(r.definition, '\s+', ' ', 'g')
      FROM pg_catalog.pg_rules r JOIN rels c ON c.oid = pg_catalog.format('%I.%I', r.schemaname, r.tablename)::pg_catalog.regclass
    UNION ALL
    SELECT 'view ' || c.oid::pg_catalog.regclass::text || ' '
           || pg_catalog.regexp_replace(pg_catalog.pg_get_viewdef(c.oid), '\s+', ' ', 'g')
      FROM rels c WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT pg_catalog.format('sequence %s %s start=%s inc=%s min=%s max=%s cache=%s cycle=%s',
                             s.seqrelid::pg_catalog.regclass, s.seqtypid::pg_catalog.regtype, s.seqstart,
                             s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
      FROM pg_catalog.pg_sequence s JOIN rels c ON c.oid = s.seqrelid
    UNION ALL
    SELECT 'config-dump ' || x.rel::pg_catalog.regclass::text || ' ' || coalesce(pg_catalog.quote_literal(x.cond), 'NULL')
      FROM ext, ROWS FROM (pg_catalog.unnest(ext.extconfig), pg_catalog.unnest(ext.extcondition)) AS x(rel, cond)
    UNION ALL
    SELECT 'comment ' || pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': ' || d.description
      FROM pg_catalog.pg_description d JOIN members m ON m.classid = d.classoid AND m.objid = d.objoid
    UNION ALL
    SELECT 'init-privs ' || pg_catalog.pg_describe_object(i.classoid, i.objoid, i.objsubid) || ' ' || i.initprivs::text
      FROM pg_catalog.pg_init_privs i JOIN members m ON m.classid = i.classoid AND m.objid = i.objoid
     WHERE i.privtype = 'e'
)
SELECT line FROM facts ORDER BY line COLLATE "C";
