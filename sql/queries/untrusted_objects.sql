-- Why code a run (or a report) would resolve or execute in the schema under test is not
-- the caller's to trust: a role the caller does not trust may write there, or already
-- owns something there. Trust goes by who MAY write, not only by what is there now: a
-- role that may CREATE in a schema on the path can plant an overload or a relation
-- after any check of what exists. $1: the schema under test; $2: the schemas on the tests'
-- search_path after pg_catalog (the schema under test and pg_trgm's).
-- Trusted owners: the caller, every role it is a member of (through pg_auth_members,
-- so a superuser caller is not "a member of everyone" here), superusers, and
-- pg_database_owner when the database's owner is trusted.
-- Who may write: each schema on the path (the schema under test, pg_trgm's,
-- pg_perfsuite's own) is writable by its owner and every CREATE grantee (PUBLIC
-- included), and by every role that is a member of one of them, inherited or not (a
-- member may SET ROLE). Each of those must be trusted.
-- What is checked besides: the schema itself; every relation in it; every function and operator
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
), on_path AS (
    SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_catalog.pg_namespace n
     WHERE n.oid IN (SELECT oid FROM target UNION SELECT oid FROM path UNION SELECT oid FROM own)
), direct(nsp, role) AS (
    SELECT n.nspname, n.nspowner FROM on_path n
    UNION
    SELECT n.nspname, a.grantee FROM on_path n, pg_catalog.aclexplode(n.nspacl) a
     WHERE a.privilege_type = 'CREATE'
), holders(nsp, role) AS (
    SELECT nsp, role FROM direct
    UNION
    -- pg_database_owner's one member is the database's owner, not in pg_auth_members.
    SELECT h.nsp, d.datdba FROM direct h, pg_catalog.pg_database d
     WHERE d.datname = pg_catalog.current_database()
       AND h.role = 'pg_database_owner'::pg_catalog.regrole::pg_catalog.oid
), may_create(nsp, role) AS (
    SELECT nsp, role FROM holders
    UNION
    SELECT mc.nsp, m.member FROM may_create mc JOIN pg_catalog.pg_auth_members m ON m.roleid = mc.role
), writers(what, owner, remedy) AS (
    SELECT 'role ' || CASE WHEN role = 0 THEN 'PUBLIC' ELSE role::pg_catalog.regrole::text END
           || ' may CREATE in schema ' || pg_catalog.quote_ident(nsp),
           role,
           'REVOKE CREATE ON SCHEMA ' || pg_catalog.quote_ident(nsp) || ' FROM '
           || CASE WHEN role = 0 THEN 'PUBLIC' ELSE role::pg_catalog.regrole::text END
           || ' (or from the role it inherits CREATE from)'
      FROM may_create
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
SELECT what, remedy FROM (
    SELECT DISTINCT what || ' (owner ' || owner::pg_catalog.regrole::text || ')' AS what,
           'ALTER ... OWNER TO a role you trust, or drop it' AS remedy, 1 AS kind
      FROM objects
     WHERE owner NOT IN (SELECT role FROM trusted)
    UNION ALL
    SELECT DISTINCT what, remedy, 0
      FROM writers
     WHERE owner NOT IN (SELECT role FROM trusted)
) found
 ORDER BY kind, what
