-- Look-alikes of what an extension script calls, planted to catch an unqualified call.
--
-- CREATE EXTENSION and ALTER EXTENSION UPDATE run their scripts as a superuser with
-- search_path '<extension schema>, pg_temp' (pg_catalog implicitly first). A function,
-- aggregate or operator in the extension's schema that matches a call better than the
-- built-in one (public.jsonb_agg(text) beats pg_catalog.jsonb_agg(anyelement) for
-- jsonb_agg(i::text); public.<>(oid, integer) beats pg_catalog.<>(oid, oid) for
-- grantee <> 0; public.count(uuid) beats pg_catalog.count("any")) would run as that
-- superuser, or be bound into a view, a default or a constraint for good.
-- scripts/sql/unqualified_calls.py checks the scripts' text; this is the dynamic proof
-- (scripts/test-upgrade.sh): plant look-alikes of everything a script calls, install
-- or update, then plant_report() says how many ran and what depends on them.
--
--   psql -d db -f scripts/sql/plant_lookalikes.sql
--   SELECT plant_lookalikes(pg_read_file('/.../pg_perfsuite--0.2.0.sql'), 'public');
--   CREATE EXTENSION pg_perfsuite;
--   SELECT * FROM plant_report('public');      -- hits = 0, depends IS NULL
--
-- What is planted, found from the script's text rather than listed by hand:
--   * every name followed by "(" that names a pg_catalog function or aggregate: for
--     each overload with at most 4 arguments, a look-alike per candidate type (below)
--     with every polymorphic argument made that type (anyarray its array type); an
--     overload without polymorphic arguments once as it is (it loses to pg_catalog:
--     harmless), then with one argument, and with every argument, made a candidate type
--     that converts to the argument's type implicitly, or made text (an unknown literal
--     prefers text); VARIADIC "any" functions (format, concat, jsonb_build_object, ...)
--     with 1 to 6 text arguments, 1 to 4 arguments of one candidate type, and text then
--     1 to 3 of one candidate type, the *_build_object ones also with (text, c) pairs;
--     aggregates (count, jsonb_agg, string_agg, max, percentile_cont WITHIN GROUP, ...)
--     as aggregates whose state function counts each row and whose final function
--     counts even when there is none; set-returning functions as SETOF, OUT arguments
--     kept, a pg_catalog default as DEFAULT NULL;
--   * every operator of a fixed list the script's text shows (or implies: IN, CASE,
--     NULLIF and IS DISTINCT FROM look up "=", BETWEEN ">=" and "<=", LIKE "~~"), for
--     every pair of a shorter list of types pg_catalog has no exact operator for.
-- Every look-alike is a PL/pgSQL function (SECURITY INVOKER) that advances the sequence
-- public.plant_hits (a sequence advances even when the transaction rolls back: a call
-- during a failed CREATE EXTENSION still shows), raises a WARNING naming itself, and
-- returns NULL.
-- What this cannot catch: SQL built at run time (EXECUTE of a string) and calls inside
-- function bodies that the install does not run (the functions set their own
-- search_path for that); arguments of types outside the lists below, and mixes of types
-- other than those above; overloads with more than 4 arguments; window functions and
-- hypothetical-set aggregates (rank() WITHIN GROUP); prefix operators; operators not in
-- the list (&&, @@, ^, #, ...). Two look-alikes that match a call equally well make it
-- fail as ambiguous rather than run one: the install fails, which says as much.
-- plant_lookalikes() raises DEBUG 'not planted: ...' for each combination PostgreSQL
-- refuses (SET client_min_messages = debug1 to see them).
--
-- Everything here runs as the superuser who plants on purpose, in a test's own database,
-- and may be unqualified: the two functions set search_path = pg_catalog, pg_temp, so
-- that neither is caught by what it plants (a query of one's own in a planted database
-- is, unless it names everything by schema). #variable_conflict use_column: names in
-- plant_lookalikes' queries are their columns, not its variables.

CREATE SEQUENCE IF NOT EXISTS public.plant_hits;

CREATE OR REPLACE FUNCTION public.plant_lookalikes(script text, into_schema regnamespace)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $plant$
#variable_conflict use_column
DECLARE
    -- What polymorphic arguments become.
    candidates regtype[] := ARRAY['text', 'integer', 'bigint', 'numeric', 'double precision', 'uuid',
                                  'jsonb', 'json', 'boolean', 'oid', 'name', 'timestamptz', 'interval',
                                  '"char"', 'regclass', 'text[]', 'integer[]', 'bigint[]', 'oid[]',
                                  'uuid[]']::regtype[];
    -- Operands of the planted operators.
    op_types regtype[] := ARRAY['text', 'integer', 'bigint', 'numeric', 'double precision', 'uuid',
                                'jsonb', 'boolean', 'oid', 'name', 'timestamptz', 'interval',
                                'regnamespace', 'regprocedure', 'regclass', 'regrole']::regtype[];
    operators text[] := ARRAY['=', '<>', '<', '>', '<=', '>=', '||', '->', '->>', '#>', '#>>', '@>',
                              '<@', '?', '?|', '?&', '~', '~*', '!~', '!~*', '~~', '~~*', '!~~', '!~~*',
                              '+', '-', '*', '/', '%'];
    comparisons text[] := ARRAY['=', '<>', '<', '>', '<=', '>=', '@>', '<@', '?', '?|', '?&', '~', '~*',
                                '!~', '!~*', '~~', '~~*', '!~~', '!~~*'];
    poly_elem regtype[] := ARRAY['anyelement', 'anynonarray', 'anycompatible', 'anycompatiblenonarray',
                                 '"any"']::regtype[];
    poly_array regtype[] := ARRAY['anyarray', 'anycompatiblearray']::regtype[];
    poly_nonarray regtype[] := ARRAY['anynonarray', 'anycompatiblenonarray']::regtype[];
    -- Pseudo-types a PL/pgSQL look-alike can take or return (the polymorphic ones are
    -- replaced); an overload with any other (internal, cstring, trigger, anyrange, ...)
    -- is left out.
    pseudo_ok regtype[];

    code text;
    names text[];
    ops text[];
    p record;
    c regtype;
    c_array regtype;
    types regtype[];        -- every argument, OUT ones included
    modes "char"[];
    argnames text[];
    nt regtype[];
    rt regtype;
    n_in integer;
    first_default integer;
    is_poly boolean;
    variant integer;
    pos integer;
    op text;
    j integer;
    args text;
    out_args integer;
    label text;
    serial integer;
    r regtype;
    l regtype;
    labels text[] := '{}';
    ddls text[] := '{}';
    unit record;
    planted integer := 0;
    skipped integer := 0;
BEGIN
    pseudo_ok := poly_elem || poly_array || ARRAY['void', 'record']::regtype[];
    -- Names of the plants' helper functions go on from what the schema has.
    SELECT count(*) INTO serial FROM pg_proc WHERE pronamespace = into_schema;

    -- Comments out, lightly (a "--" inside a literal cuts a line short: false negatives
    -- there are as rare as such literals).
    code := regexp_replace(script, '/\*.*?\*/', ' ', 'g');
    code := regexp_replace(code, '--[^\n]*', ' ', 'g');

    -- 1. Names called: every identifier followed by "(", qualified or not.
    SELECT array_agg(DISTINCT lower(m[1])) INTO names
      FROM regexp_matches(code, '([A-Za-z_][A-Za-z0-9_$]*)\s*\(', 'g') m;

    -- 2. Functions and aggregates of pg_catalog by those names.
    FOR p IN
        SELECT f.oid, f.proname, f.prokind, f.proretset, f.prorettype::regtype AS rettype,
               f.pronargs, f.pronargdefaults, f.provariadic::regtype AS variadic, f.provariadic <> 0 AS is_variadic,
               coalesce(f.proallargtypes::regtype[],
                        (SELECT array_agg(t::regtype ORDER BY i) FROM unnest(f.proargtypes) WITH ORDINALITY x(t, i)),
                        '{}') AS alltypes,
               f.proargmodes, f.proargnames,
               a.aggkind, a.aggnumdirectargs
          FROM pg_proc f
          LEFT JOIN pg_aggregate a ON a.aggfnoid = f.oid
         WHERE f.pronamespace = 'pg_catalog'::regnamespace
           AND f.prokind IN ('f', 'a')
           AND f.proname = ANY (names)
         ORDER BY f.proname, f.oid
    LOOP
        types := p.alltypes;
        modes := coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[coalesce(array_length(types, 1), 0)]));
        argnames := p.proargnames;

        -- VARIADIC "any" (format, concat, jsonb_build_object, ...): non-variadic look-alikes
        -- with 1 to 6 text arguments, 1 to 4 arguments of one candidate type, text and 1
        -- to 3 of one candidate type; the *_build_object ones also with (text, c) pairs.
        -- Mixed types beyond these are not covered.
        IF p.variadic = '"any"'::regtype THEN
            IF p.prokind <> 'f' THEN
                skipped := skipped + 1;
                CONTINUE;
            END IF;
            FOR nt IN
                SELECT array_fill('text'::regtype, ARRAY[g.n]) FROM generate_series(1, 6) g(n)
                UNION ALL
                SELECT array_fill(t.ty, ARRAY[g.n]) FROM unnest(candidates) t(ty), generate_series(1, 4) g(n)
                UNION ALL
                SELECT 'text'::regtype || array_fill(t.ty, ARRAY[g.n])
                  FROM unnest(candidates) t(ty), generate_series(1, 3) g(n)
                UNION ALL
                SELECT (SELECT array_agg(u.x ORDER BY i.i, u.o)
                          FROM generate_series(1, g.n) i(i), unnest(ARRAY['text'::regtype, t.ty]) WITH ORDINALITY u(x, o))
                  FROM unnest(candidates) t(ty), generate_series(1, 3) g(n)
                 WHERE p.proname LIKE '%build_object'
            LOOP
                label := format('%s(%s)', p.proname, array_to_string(nt, ','));
                labels := labels || label;
                ddls := ddls || format('CREATE FUNCTION %I.%I(%s) RETURNS %s%s LANGUAGE plpgsql SECURITY INVOKER AS %L',
                                       into_schema, p.proname, array_to_string(nt, ', '),
                                       CASE WHEN p.proretset THEN 'SETOF ' ELSE '' END, p.rettype,
                                       format('BEGIN PERFORM pg_catalog.nextval(''public.plant_hits''); RAISE WARNING ''look-alike ran: %%'', %L; RETURN%s; END',
                                              label, CASE WHEN p.proretset OR p.rettype = 'void'::regtype THEN '' ELSE ' NULL' END));
            END LOOP;
            CONTINUE;
        END IF;

        IF p.pronargs > 4 OR 'b' = ANY (modes)
           OR EXISTS (SELECT FROM unnest(types || p.rettype) t JOIN pg_type y ON y.oid = t
                       WHERE y.typtype = 'p' AND t <> ALL (pseudo_ok))
           OR (p.rettype = ANY (pseudo_ok) AND p.rettype NOT IN ('void'::regtype, 'record'::regtype)
               AND NOT (types && (poly_elem || poly_array)))
           OR (p.prokind = 'a' AND (p.aggkind NOT IN ('n', 'o') OR p.is_variadic)) THEN
            skipped := skipped + 1;
            CONTINUE;
        END IF;
        is_poly := types && (poly_elem || poly_array) OR p.rettype = ANY (poly_elem || poly_array);

        -- The variants: per candidate type for a polymorphic overload; for another, the
        -- overload as it is (variant 0), one argument at a time made a candidate type that
        -- converts to it implicitly or text (an unknown literal prefers text), then every
        -- argument made one such type.
        FOR variant IN 0..(CASE WHEN is_poly THEN array_length(candidates, 1)
                                ELSE array_length(candidates, 1) * (p.pronargs + 1) END) LOOP
            IF is_poly THEN
                CONTINUE WHEN variant = 0;
                c := candidates[variant];
                c_array := (SELECT NULLIF(typarray, 0)::regtype FROM pg_type WHERE oid = c);
                IF (SELECT typcategory = 'A' FROM pg_type WHERE oid = c) THEN
                    CONTINUE WHEN types && poly_array OR types && poly_nonarray OR p.rettype = ANY (poly_array);
                END IF;
                nt := '{}';
                FOREACH r IN ARRAY types LOOP
                    nt := nt || CASE WHEN r = ANY (poly_elem) THEN c WHEN r = ANY (poly_array) THEN c_array ELSE r END;
                END LOOP;
                rt := CASE WHEN p.rettype = ANY (poly_elem) THEN c WHEN p.rettype = ANY (poly_array) THEN c_array ELSE p.rettype END;
                CONTINUE WHEN rt IS NULL OR array_position(nt, NULL) IS NOT NULL;
            ELSE
                nt := types;
                rt := p.rettype;
                j := (variant - 1) / array_length(candidates, 1) + 1;
                c := candidates[(variant - 1) % array_length(candidates, 1) + 1];
                IF variant > 0 AND j > p.pronargs THEN
                    -- Every IN argument made candidate c (with two or more of them).
                    CONTINUE WHEN p.pronargs < 2;
                    FOR k IN 1..array_length(types, 1) LOOP
                        IF modes[k] = 'i' THEN
                            CONTINUE WHEN types[k] = c;
                            IF c <> 'text'::regtype
                               AND NOT EXISTS (SELECT FROM pg_cast WHERE castsource = c AND casttarget = types[k]
                                                  AND castcontext = 'i') THEN
                                nt := NULL;
                                EXIT;
                            END IF;
                            nt[k] := c;
                        END IF;
                    END LOOP;
                    CONTINUE WHEN nt IS NULL OR nt = types;
                ELSIF variant > 0 THEN
                    -- Argument number j (counting IN arguments) made candidate c.
                    n_in := 0;
                    pos := NULL;
                    FOR k IN 1..array_length(types, 1) LOOP
                        IF modes[k] = 'i' THEN
                            n_in := n_in + 1;
                            IF n_in = j THEN
                                pos := k;
                                EXIT;
                            END IF;
                        END IF;
                    END LOOP;
                    CONTINUE WHEN pos IS NULL OR types[pos] = c;
                    CONTINUE WHEN c <> 'text'::regtype
                              AND NOT EXISTS (SELECT FROM pg_cast WHERE castsource = c AND casttarget = types[pos]
                                                 AND castcontext = 'i');
                    nt[pos] := c;
                END IF;
            END IF;

            -- The argument list: IN ones (DEFAULT NULL where pg_catalog has a default),
            -- VARIADIC, OUT ones by name.
            args := '';
            n_in := 0;
            out_args := 0;
            first_default := p.pronargs - p.pronargdefaults + 1;
            label := '';
            FOR k IN 1..coalesce(array_length(nt, 1), 0) LOOP
                IF p.prokind = 'a' AND p.aggkind = 'o' AND modes[k] = 'i' AND n_in = p.aggnumdirectargs THEN
                    args := args || CASE WHEN n_in = 0 THEN 'ORDER BY ' ELSE ' ORDER BY ' END;
                ELSIF k > 1 THEN
                    args := args || ', ';
                END IF;
                IF modes[k] IN ('o', 't') THEN
                    out_args := out_args + 1;
                    args := args || format('OUT %I %s', coalesce(NULLIF(argnames[k], ''), 'column' || k), nt[k]);
                    CONTINUE;
                END IF;
                n_in := n_in + 1;
                label := label || CASE WHEN n_in > 1 THEN ',' ELSE '' END || nt[k]::text;
                args := args || CASE WHEN modes[k] = 'v' THEN 'VARIADIC ' ELSE '' END
                             || CASE WHEN p.prokind = 'f' AND coalesce(argnames[k], '') <> ''
                                     THEN quote_ident(argnames[k]) || ' ' ELSE '' END
                             || nt[k]::text
                             || CASE WHEN p.prokind = 'f' AND n_in >= first_default THEN ' DEFAULT NULL' ELSE '' END;
            END LOOP;
            label := format('%s(%s)', p.proname, label);

            IF p.prokind = 'f' THEN
                labels := labels || label;
                ddls := ddls || format('CREATE FUNCTION %I.%I(%s) RETURNS %s%s LANGUAGE plpgsql SECURITY INVOKER AS %L',
                                       into_schema, p.proname, args,
                                       CASE WHEN p.proretset THEN 'SETOF ' ELSE '' END, rt,
                                       format('BEGIN PERFORM pg_catalog.nextval(''public.plant_hits''); RAISE WARNING ''look-alike ran: %%'', %L; RETURN%s; END',
                                              label,
                                              CASE WHEN p.proretset OR out_args > 0 OR rt = 'void'::regtype THEN '' ELSE ' NULL' END));
            ELSE
                -- An aggregate: its state is its result; the state function counts each
                -- row, the final function counts even when there is none.
                serial := serial + 1;
                labels := labels || label;
                ddls := ddls || format(
                    'CREATE FUNCTION %1$I.%2$I(%3$s) RETURNS %4$s LANGUAGE plpgsql SECURITY INVOKER AS %5$L; '
                    'CREATE FUNCTION %1$I.%6$I(%7$s) RETURNS %4$s LANGUAGE plpgsql SECURITY INVOKER AS %5$L; '
                    'CREATE AGGREGATE %1$I.%8$I(%9$s) (SFUNC = %1$I.%2$I, STYPE = %4$s, FINALFUNC = %1$I.%6$I)',
                    into_schema, 'plant_agg_sfunc_' || serial,
                    -- state function: (state, aggregated arguments)
                    array_to_string(rt || nt[coalesce(p.aggnumdirectargs, 0) + 1:], ', '),
                    rt,
                    format('BEGIN PERFORM pg_catalog.nextval(''public.plant_hits''); RAISE WARNING ''look-alike ran: %%'', %L; RETURN NULL; END',
                           label),
                    'plant_agg_final_' || serial,
                    -- final function: (state, direct arguments of an ordered-set aggregate)
                    array_to_string(rt || nt[1:coalesce(p.aggnumdirectargs, 0)], ', '),
                    p.proname,
                    CASE WHEN args = '' THEN '*' ELSE args END);
            END IF;
        END LOOP;
    END LOOP;

    -- 3. Operators the text shows, and those its syntax looks up by name.
    SELECT array_agg(DISTINCT o) INTO ops
      FROM (SELECT CASE WHEN t = '!=' THEN '<>' ELSE t END AS o
              FROM (SELECT m[1] AS t FROM regexp_matches(code, '([-+*/<>=~!@#%^&|`?]+)', 'g') m
                    -- The lexer ends "=-" or "<>+" before the sign (no ~!@#%^&|`? in them).
                    UNION ALL
                    SELECT x FROM regexp_matches(code, '([-+*/<>=~!@#%^&|`?]+)', 'g') m,
                                  LATERAL (VALUES (rtrim(m[1], '+-')), ('-'), ('+')) v(x)
                     WHERE m[1] ~ '[-+]$' AND m[1] !~ '[~!@#%^&|`?]'
                    UNION ALL
                    SELECT i.o FROM (VALUES ('\m(in|case|nullif|distinct|any|all|some)\M', '='),
                                            ('\mnot\s+in\M', '<>'),
                                            ('\mbetween\M', '>='), ('\mbetween\M', '<='),
                                            ('\mlike\M', '~~'), ('\milike\M', '~~*'),
                                            ('\mnot\s+like\M', '!~~'), ('\mnot\s+ilike\M', '!~~*'),
                                            ('\msimilar\s+to\M', '~')) i(re, o)
                     WHERE code ~* i.re) s) s2
     WHERE o = ANY (operators);

    FOREACH op IN ARRAY coalesce(ops, '{}') LOOP
        FOREACH l IN ARRAY op_types LOOP
            FOREACH r IN ARRAY op_types LOOP
                CONTINUE WHEN EXISTS (SELECT FROM pg_operator
                                       WHERE oprnamespace = 'pg_catalog'::regnamespace AND oprname = op
                                         AND oprleft = l AND oprright = r);
                serial := serial + 1;
                labels := labels || format('%s(%s,%s)', op, l, r);
                ddls := ddls || format(
                    'CREATE FUNCTION %1$I.%2$I(%3$s, %4$s) RETURNS %5$s LANGUAGE plpgsql SECURITY INVOKER AS %6$L; '
                    'CREATE OPERATOR %1$I.%7$s (LEFTARG = %3$s, RIGHTARG = %4$s, FUNCTION = %1$I.%2$I)',
                    into_schema, 'plant_op_' || serial, l, r,
                    CASE WHEN op = ANY (comparisons) THEN 'boolean'::regtype ELSE l END,
                    format('BEGIN PERFORM pg_catalog.nextval(''public.plant_hits''); RAISE WARNING ''look-alike ran: %%'', %L; RETURN NULL; END',
                           format('operator %s(%s,%s)', op, l, r)),
                    op);
            END LOOP;
        END LOOP;
    END LOOP;

    -- 4. Plant, one look-alike at a time: a combination PostgreSQL refuses (a type
    -- without the needed support, a signature planted already) is skipped.
    FOR unit IN SELECT DISTINCT ON (x.label) x.label, x.ddl
               FROM unnest(labels, ddls) AS x(label, ddl)
              ORDER BY x.label
    LOOP
        BEGIN
            EXECUTE unit.ddl;
            planted := planted + 1;
        EXCEPTION WHEN OTHERS THEN
            RAISE DEBUG 'not planted: %: %', unit.label, SQLERRM;
            skipped := skipped + 1;
        END;
    END LOOP;
    RAISE NOTICE 'planted % look-alikes in schema % (% names called, % operators; % combinations skipped)',
        planted, into_schema, coalesce(array_length(names, 1), 0), coalesce(array_length(ops, 1), 0), skipped;
    RETURN planted;
END
$plant$;

-- How many times a look-alike ran (the sequence's calls), and which of pg_perfsuite's
-- objects depend on one (directly, or through a rule, default, constraint, index or
-- trigger of theirs); NULL when none does.
CREATE OR REPLACE FUNCTION public.plant_report(into_schema regnamespace)
RETURNS TABLE (hits bigint, depends text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $report$
    WITH RECURSIVE ext AS (
        SELECT e.oid FROM pg_extension e WHERE e.extname = 'pg_perfsuite'
    ), plants(classid, objid) AS (
        -- What was planted: functions, aggregates and operators of the schema that no
        -- extension owns.
        SELECT 'pg_proc'::regclass, f.oid FROM pg_proc f WHERE f.pronamespace = into_schema
        UNION ALL
        SELECT 'pg_operator'::regclass, o.oid FROM pg_operator o WHERE o.oprnamespace = into_schema
    ), planted AS (
        SELECT p.* FROM plants p
         WHERE NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = p.classid AND e.objid = p.objid
                                                     AND e.deptype = 'e')
    ), uses(classid, objid, plant_class, plant_obj, holder_class, holder_obj, depth) AS (
        -- Whatever depends on a look-alike, the look-alikes' own parts aside ...
        SELECT d.classid, d.objid, d.refclassid, d.refobjid, d.classid, d.objid, 0
          FROM pg_depend d
          JOIN planted p ON p.classid = d.refclassid AND p.objid = d.refobjid
         WHERE NOT EXISTS (SELECT FROM planted q WHERE q.classid = d.classid AND q.objid = d.objid)
        UNION ALL
        -- ... and what holds it: a view's rule, a table's default, constraint, index or
        -- trigger belongs to the view or table.
        SELECT u.classid, u.objid, u.plant_class, u.plant_obj, h.refclassid, h.refobjid, u.depth + 1
          FROM uses u
          JOIN pg_depend h ON h.classid = u.holder_class AND h.objid = u.holder_obj
                          AND h.deptype IN ('a', 'i')
         WHERE u.depth < 4
    )
    SELECT (SELECT CASE WHEN s.is_called THEN s.last_value ELSE 0 END FROM public.plant_hits s),
           (SELECT string_agg(DISTINCT format('%s uses %s',
                                             pg_describe_object(u.classid, u.objid, 0),
                                             pg_describe_object(u.plant_class, u.plant_obj, 0)), '; ')
              FROM uses u
              JOIN pg_depend e ON e.classid = u.holder_class AND e.objid = u.holder_obj AND e.deptype = 'e'
              JOIN ext ON e.refobjid = ext.oid);
$report$;
