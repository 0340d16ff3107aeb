-- Objects whose code a run would execute with the caller's rights, owned by a role the
-- caller does not trust. $1: the schema under test; $2: the schemas on the tests'
-- search_path after pg_catalog (the schema under test and pg_trgm's).
-- Trusted owners: the caller, every role it is a member of (through pg_auth_members,
-- so a superuser caller is not "a member of everyone" here), superusers, and
-- pg_database_owner when the database's owner is trusted.
-- What is checked: the schema itself; every relation in it; every function and operator
-- in the search_path schemas; every operator in pg_perfsuite's own schema (its SQL's
-- functions are schema-qualified, its operators are not); and every function, wherever
-- it lives, that a trigger,
-- policy, column default, constraint, rule or index of those relations calls.
WITH RECURSIVE mine(role) AS (
    SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
    UNION
    SELECT m.roleid FROM pg_catalog.pg_auth_members m JOIN mine ON m.member = mine.role
), trusted(role) AS (
    SELECT role FROM mine
    UNION
    SELECT oid FROM pg_catalog.pg_roles WHERE rolsuper
    UNION
    SELECT 'pg_database_owner'::pg_catalog.regrole::pg_catalog.oid
      FROM pg_catalog.pg_database d JOIN pg_catalog.pg_roles o ON o.oid = d.datdba
     WHERE d.datname = pg_catalog.current_database()
       AND (o.rolsuper OR o.oid IN (SELECT role FROM mine))
), target AS (
    SELECT oid, nspname, nspowner FROM pg_catalog.pg_namespace WHERE nspname = $1
), path AS (
    SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ANY ($2)
), own AS (
    -- pg_perfsuite's own schema is on its functions' search_path: an operator planted
    -- there with a better-matching signature could be picked by the extension's SQL.
    SELECT extnamespace AS oid FROM pg_catalog.pg_extension WHERE extname = 'pg_perfsuite'
), rels AS (
    SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relnamespace IN (SELECT oid FROM target)
), users_of_functions(classid, objid, what) AS (
    SELECT 'pg_catalog.pg_trigger'::pg_catalog.regclass, t.oid, 'trigger ' || t.tgname || ' on ' || t.tgrelid::pg_catalog.regclass::text
      FROM pg_catalog.pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM rels) AND NOT t.tgisinternal
    UNION ALL
    SELECT 'pg_catalog.pg_policy'::pg_catalog.regclass, p.oid, 'policy ' || p.polname || ' on ' || p.polrelid::pg_catalog.regclass::text
      FROM pg_catalog.pg_policy p WHERE p.polrelid IN (SELECT oid FROM rels)
    UNION ALL
    SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass, a.oid, 'a column default of ' || a.adrelid::pg_catalog.regclass::text
      FROM pg_catalog.pg_attrdef a WHERE a.adrelid IN (SELECT oid FROM rels)
    UNION ALL
    SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, k.oid, 'constraint ' || k.conname
      FROM pg_catalog.pg_constraint k WHERE k.conrelid IN (SELECT oid FROM rels)
    UNION ALL
    SELECT 'pg_catalog.pg_rewrite'::pg_catalog.regclass, w.oid, 'rule ' || w.rulename || ' on ' || w.ev_class::pg_catalog.regclass::text
      FROM pg_catalog.pg_rewrite w WHERE w.ev_class IN (SELECT oid FROM rels)
    UNION ALL
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, r.oid, 'relation ' || r.oid::pg_catalog.regclass::text
      FROM rels r
), objects(what, owner) AS (
    SELECT 'schema ' || pg_catalog.quote_ident(nspname), nspowner FROM target
    UNION ALL
    SELECT 'relation ' || c.oid::pg_catalog.regclass::text, c.relowner
      FROM pg_catalog.pg_class c WHERE c.oid IN (SELECT oid FROM rels)
    UNION ALL
    SELECT 'function ' || p.oid::pg_catalog.regprocedure::text, p.proowner
      FROM pg_catalog.pg_proc p WHERE p.pronamespace IN (SELECT oid FROM path)
    UNION ALL
    SELECT 'operator ' || o.oid::pg_catalog.regoperator::text, o.oprowner
      FROM pg_catalog.pg_operator o WHERE o.oprnamespace IN (SELECT oid FROM path UNION SELECT oid FROM own)
    UNION ALL
    SELECT 'function ' || p.oid::pg_catalog.regprocedure::text || ' (called by ' || u.what || ')', p.proowner
      FROM users_of_functions u
      JOIN pg_catalog.pg_depend d ON d.classid = u.classid AND d.objid = u.objid
                                 AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
      JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid
)
SELECT DISTINCT what || ' (owner ' || owner::pg_catalog.regrole::text || ')'
  FROM objects
 WHERE owner NOT IN (SELECT role FROM trusted)
 ORDER BY 1
