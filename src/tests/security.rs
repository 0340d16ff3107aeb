//! The attacks a DBA's security review tries, each run as roles the test creates: a
//! test fails if the attack works. Background-worker variants are client tests in
//! background.rs (they need committed data).

#[pgrx::pg_schema]
mod tests {
    use crate::tests::{one, refused, run, serialize_runs};
    use pgrx::prelude::*;

    /// A role that is not a superuser, made an operator (NOLOGIN: the test SETs ROLE to it).
    fn operator(role: &str) {
        // Granting changes the ACLs of the extension's objects: concurrent tests doing
        // the same would deadlock on those catalog rows, so they take turns.
        serialize_runs();
        run(&format!("CREATE ROLE {role} NOLOGIN NOSUPERUSER; SELECT * FROM perf_grant_operator('{role}')"));
    }

    fn flags(role: &str) -> String {
        one::<String>(&format!(
            "SELECT rolsuper || '/' || rolcreaterole || '/' || rolcreatedb || '/' || rolbypassrls FROM pg_roles WHERE rolname = '{role}'"
        ))
    }

    /// A test row records who wrote its SQL; nobody can claim another author, and a
    /// change of harmless columns keeps the author.
    #[pg_test]
    fn test_rows_and_scripts_record_their_author() {
        operator("sec_author");
        let me = one::<String>("SELECT current_user::text");
        run("SET ROLE sec_author");
        run(&format!(
            "INSERT INTO perf_tests (test_id, scenario, name, kind, sql, expected_value, author)
             VALUES ('sec.a', 1, 'a', 'count_check', 'SELECT 1', 1, '{me}');
             INSERT INTO perf_load_scripts (name, script, author) VALUES ('sec-a', 'SELECT 1;', '{me}')"
        ));
        assert_eq!(one::<String>("SELECT author::text FROM perf_tests WHERE test_id = 'sec.a'"), "sec_author");
        assert_eq!(one::<String>("SELECT author::text FROM perf_load_scripts WHERE name = 'sec-a'"), "sec_author");
        // Claiming a built-in test as one's own SQL makes one its author...
        run("UPDATE perf_tests SET sql = 'SELECT count(*) FROM customers' WHERE test_id = '1.2'");
        assert_eq!(one::<String>("SELECT author::text FROM perf_tests WHERE test_id = '1.2'"), "sec_author");
        // ...and the author column cannot be set to someone else.
        run(&format!("UPDATE perf_tests SET author = '{me}' WHERE test_id = 'sec.a'"));
        assert_eq!(one::<String>("SELECT author::text FROM perf_tests WHERE test_id = 'sec.a'"), "sec_author");
        run("RESET ROLE");
        // The superuser disabling the operator's test does not adopt its SQL.
        run("UPDATE perf_tests SET enabled = false WHERE test_id = 'sec.a'");
        assert_eq!(one::<String>("SELECT author::text FROM perf_tests WHERE test_id = 'sec.a'"), "sec_author");
        run("UPDATE perf_load_scripts SET script = 'SELECT 2;' WHERE name = 'sec-a'");
        assert_eq!(one::<String>("SELECT author::text FROM perf_load_scripts WHERE name = 'sec-a'"), me);
        // Built-in rows belong to the extension's owner (who installed it).
        assert_eq!(
            one::<String>("SELECT author::text FROM perf_tests WHERE test_id = '1.1'"),
            one::<String>("SELECT extowner::regrole::text FROM pg_extension WHERE extname = 'pg_perfsuite'")
        );
    }

    /// An operator's test that tries to make it a superuser, run by a superuser, runs
    /// with the operator's rights: it fails with 42501 and the operator stays as it was.
    #[pg_test]
    fn an_operators_test_runs_with_its_authors_rights() {
        serialize_runs();
        operator("sec_climber");
        run("CREATE SCHEMA sec_run");
        run("SET ROLE sec_climber");
        run("INSERT INTO perf_tests (test_id, scenario, name, kind, sql, commit_last, iterations, warmup, target_ms)
             VALUES ('sec.climb', 9, 'climb', 'dml', 'ALTER ROLE sec_climber SUPERUSER CREATEROLE BYPASSRLS', true, 1, 0, 100)");
        run("RESET ROLE");
        run("SELECT * FROM perf_run('sec.climb', target_schema => 'sec_run', iterations => 1, background => false)");
        // A statement of its own: the results were written after the call's snapshot.
        let (status, state) = Spi::get_two::<String, String>(
            "SELECT status, error_sqlstate FROM performance_test_results WHERE test_id = 'sec.climb' ORDER BY result_id DESC LIMIT 1",
        )
        .unwrap();
        assert_eq!((status.as_deref(), state.as_deref()), (Some("ERROR"), Some("42501")));
        assert_eq!(flags("sec_climber"), "false/false/false/false");
        let notes = one::<String>(
            "SELECT notes FROM performance_test_results WHERE test_id = 'sec.climb' ORDER BY result_id DESC LIMIT 1",
        );
        assert!(notes.contains("ERROR 42501"), "{notes}");
    }

    /// Built-ins shadowed in every schema on the paths the extension sets (its own
    /// schema, the schema under test) are never called: pg_catalog comes first and the
    /// extension's calls are schema-qualified.
    #[pg_test]
    fn shadowed_builtins_are_never_called() {
        serialize_runs();
        run("CREATE ROLE sec_shadow NOLOGIN; CREATE SCHEMA sec_sp");
        run("CREATE TABLE public.sec_calls (f text); GRANT INSERT ON public.sec_calls TO PUBLIC");
        let own =
            one::<String>("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_perfsuite'");
        // A role with CREATE on the extension's schema plants look-alikes there; the
        // superuser (a trusted owner) has left some in the schema under test too.
        run(&format!("GRANT CREATE, USAGE ON SCHEMA {own} TO sec_shadow"));
        let shadows = [
            ("pg_backend_pid()", "integer", "ALTER ROLE sec_shadow CREATEDB; RETURN 0;"),
            ("now()", "timestamptz", "RETURN pg_catalog.now();"),
            ("clock_timestamp()", "timestamptz", "RETURN pg_catalog.clock_timestamp();"),
            ("current_database()", "name", "RETURN pg_catalog.current_database();"),
            ("current_setting(text)", "text", "RETURN pg_catalog.current_setting($1);"),
            ("current_setting(text, boolean)", "text", "RETURN pg_catalog.current_setting($1, $2);"),
            ("set_config(text, text, boolean)", "text", "RETURN pg_catalog.set_config($1, $2, $3);"),
            ("quote_ident(text)", "text", "RETURN pg_catalog.quote_ident($1);"),
            ("to_regclass(text)", "regclass", "RETURN pg_catalog.to_regclass($1);"),
            ("unnest(uuid[])", "SETOF uuid", "RETURN QUERY SELECT pg_catalog.unnest($1);"),
            ("unnest(double precision[])", "SETOF double precision", "RETURN QUERY SELECT pg_catalog.unnest($1);"),
            ("nextval(text)", "bigint", "RETURN pg_catalog.nextval($1::regclass);"),
        ];
        for (schema, owner) in [(own.as_str(), "sec_shadow"), ("sec_sp", "")] {
            for (sig, ret, body) in shadows {
                let name = sig.split('(').next().unwrap();
                run(&format!(
                    "CREATE FUNCTION {schema}.{sig} RETURNS {ret} LANGUAGE plpgsql AS $f$
                     BEGIN INSERT INTO public.sec_calls VALUES ('{schema}.{name}'); {body} END $f$"
                ));
                if !owner.is_empty() {
                    run(&format!("ALTER FUNCTION {schema}.{sig} OWNER TO {owner}"));
                }
            }
        }
        // The extension's schema may also hold pg_trgm (on the tests' search_path): the
        // superuser, having reviewed it, opts in so that the run goes ahead.
        run("SET LOCAL pg_perfsuite.trust_schema_owners = on");
        // Scenario 1 (data generation, timed queries) and the registry's count checks.
        run("SELECT * FROM perf_run('1.%', target_schema => 'sec_sp', iterations => 2, background => false)");
        run("SELECT * FROM perf_generate(1, 20, 7, 'sec_sp') WHERE false");
        run("SELECT perf_report()");
        let called = one::<String>("SELECT coalesce(string_agg(DISTINCT f, ', '), '') FROM public.sec_calls");
        assert_eq!(called, "", "shadowing functions were called");
        assert_eq!(flags("sec_shadow"), "false/false/false/false");
    }

    /// The extension's SQL qualifies its functions but not its operators: an operator
    /// planted in the extension's own schema with a better-matching signature (text ||
    /// integer, where pg_catalog has only text || anynonarray) is refused before a run,
    /// and with the superuser's opt-in it is still never called (the extension's SQL casts
    /// to text first).
    #[pg_test]
    fn an_operator_planted_in_the_extensions_schema_is_refused_and_never_called() {
        serialize_runs();
        let own =
            one::<String>("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_perfsuite'");
        run(&format!(
            "CREATE ROLE sec_opplant NOLOGIN; GRANT CREATE, USAGE ON SCHEMA {own} TO sec_opplant;
             CREATE TABLE public.sec_op_calls (n int); GRANT INSERT ON public.sec_op_calls TO PUBLIC;
             CREATE SCHEMA sec_op;
             SET ROLE sec_opplant;
             CREATE FUNCTION {own}.sec_concat(text, integer) RETURNS text LANGUAGE plpgsql AS $f$
               BEGIN INSERT INTO public.sec_op_calls VALUES (1); ALTER ROLE sec_opplant CREATEDB; RETURN $1 || $2::text; END $f$;
             CREATE OPERATOR {own}.|| (LEFTARG = text, RIGHTARG = integer, FUNCTION = {own}.sec_concat);
             RESET ROLE"
        ));
        let e =
            refused("SELECT * FROM perf_run('1.1', target_schema => 'sec_op', iterations => 1, background => false)");
        assert_eq!(e.sqlstate(), "42501", "{e:?}");
        // Refused for who may write there, before any look at what was planted.
        assert!(e.message.contains("sec_opplant may CREATE"), "{}", e.message);
        run("SET LOCAL pg_perfsuite.trust_schema_owners = on");
        run("SELECT * FROM perf_run('1.1', target_schema => 'sec_op', iterations => 1, background => false)");
        assert_eq!(one::<i64>("SELECT count(*) FROM public.sec_op_calls"), 0, "the planted operator was called");
        assert_eq!(flags("sec_opplant"), "false/false/false/false");
    }

    /// A schema whose code belongs to a role the caller is not a member of is refused
    /// before anything runs (its trigger functions would run with the caller's rights);
    /// only a superuser can opt in.
    #[pg_test]
    fn another_roles_schema_is_refused_before_anything_runs() {
        serialize_runs();
        if one::<bool>("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')") {
            run("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public");
        }
        operator("sec_mal");
        run("CREATE SCHEMA sec_mal AUTHORIZATION sec_mal");
        run("SET ROLE sec_mal");
        run("SELECT perf_install_schema('sec_mal')");
        run("CREATE OR REPLACE FUNCTION sec_mal.vc_usage_sync_customer() RETURNS trigger LANGUAGE plpgsql AS $f$
             BEGIN ALTER ROLE sec_mal BYPASSRLS; RETURN NEW; END $f$");
        run("RESET ROLE");
        let runs = one::<i64>("SELECT count(*) FROM perf_runs");
        let e = refused("SELECT * FROM perf_run_all('sec_mal', iterations => 1, background => false)");
        assert_eq!(e.sqlstate(), "42501", "{e:?}");
        assert!(e.message.contains("is not yours to trust") && e.message.contains("sec_mal"), "{}", e.message);
        assert!(e.hint.as_deref().unwrap_or("").contains("pg_perfsuite.trust_schema_owners"));
        // In the background the refusal comes before a worker starts.
        let e = refused("SELECT * FROM perf_run_all('sec_mal', iterations => 1)");
        assert_eq!(e.sqlstate(), "42501");
        assert_eq!(one::<i64>("SELECT count(*) FROM perf_runs"), runs, "nothing was written");
        assert_eq!(flags("sec_mal"), "false/false/false/false");
        // A trigger on a trusted table calling another role's function is refused too.
        run("CREATE SCHEMA sec_trig; CREATE SCHEMA sec_other AUTHORIZATION sec_mal;
             CREATE TABLE sec_trig.t (x int);
             SET ROLE sec_mal;
             CREATE FUNCTION sec_other.f() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NEW; END $f$;
             RESET ROLE;
             CREATE TRIGGER t BEFORE INSERT ON sec_trig.t FOR EACH ROW EXECUTE FUNCTION sec_other.f()");
        let e = refused("SELECT perf_install_schema('sec_trig')");
        assert_eq!(e.sqlstate(), "42501");
        assert!(e.message.contains("sec_other.f()") && e.message.contains("trigger t on"), "{}", e.message);
        // The opt-in and the other safety switch are the superuser's alone.
        run("SET ROLE sec_mal");
        for guc in ["pg_perfsuite.trust_schema_owners", "pg_perfsuite.allow_existing_data"] {
            let e = refused(&format!("SET {guc} = on"));
            assert_eq!(e.sqlstate(), "42501", "{guc}: {e:?}");
        }
        run("RESET ROLE");
    }

    /// System schemas and the extension's own (unless public) are refused with 42939
    /// before anything is written or a worker starts.
    #[pg_test]
    fn system_schemas_are_refused() {
        serialize_runs();
        let runs = one::<i64>("SELECT count(*) FROM perf_runs");
        for schema in ["information_schema", "pg_catalog", "pg_toast", "pg_temp_1"] {
            for sql in [
                format!("SELECT * FROM perf_run_all('{schema}', background => false)"),
                format!("SELECT * FROM perf_run_all('{schema}')"),
                format!("SELECT perf_install_schema('{schema}')"),
                format!("SELECT * FROM perf_generate(1, 10, 1, '{schema}')"),
                format!("SELECT * FROM perf_cleanup('{schema}')"),
            ] {
                let e = refused(&sql);
                assert_eq!(e.sqlstate(), "42939", "{sql}: {e:?}");
            }
        }
        assert_eq!(one::<i64>("SELECT count(*) FROM perf_runs"), runs);
        assert_eq!(one::<i64>("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'information_schema' AND table_name = 'customers'"), 0);
    }

    /// Only pg_perfsuite's functions write the ledger of generated companies, and
    /// perf_cleanup deletes a listed company only with the rights of the role that
    /// generated it: a real company slipped in stays.
    #[pg_test]
    fn cleanup_never_deletes_a_company_it_did_not_generate() {
        serialize_runs();
        const REAL: &str = "dddddddd-0000-0000-0000-00000000000d";
        run("CREATE SCHEMA sec_led; SELECT perf_install_schema('sec_led')");
        run(&format!(
            "INSERT INTO sec_led.companies (id, name) VALUES ('{REAL}', 'Real Inc');
             INSERT INTO sec_led.users (id, email, company_id) VALUES ('{REAL}', 'ops@real', '{REAL}');
             INSERT INTO sec_led.customers (company_id, customer_name, created_by_user_id) VALUES ('{REAL}', 'Real customer', '{REAL}')"
        ));
        // Rows written earlier than the operator's own transaction: a subtransaction
        // cannot fake that in a #[pg_test], so the xmin check is exercised on the
        // operator's own update below.
        operator("sec_ledger");
        run("GRANT USAGE ON SCHEMA sec_led TO sec_ledger; GRANT SELECT, UPDATE ON sec_led.companies TO sec_ledger");
        run("SET ROLE sec_ledger");
        let e = refused(&format!(
            "INSERT INTO perf_generated_companies (target_schema, company_id) VALUES ('sec_led', '{REAL}')"
        ));
        assert_eq!(e.sqlstate(), "42501");
        let e = refused("DELETE FROM perf_generated_companies");
        assert_eq!(e.sqlstate(), "42501");
        // Touching the real company makes its row "this transaction's"; the ledger takes
        // it, but the cleanup that follows acts with this role's rights, which do not
        // include deleting it.
        run(&format!("UPDATE sec_led.companies SET name = name WHERE id = '{REAL}'"));
        // The ledger reads the company with the caller's rights (row-level security
        // included): the operator sees it with the company set.
        run(&format!("SELECT set_config('app.current_company_id', '{REAL}', true)"));
        assert!(one::<bool>(&format!("SELECT perf_ledger_record('sec_led', '{REAL}')")));
        run("RESET ROLE");
        run("SELECT * FROM perf_cleanup('sec_led')");
        assert_eq!(one::<i64>(&format!("SELECT count(*) FROM sec_led.customers WHERE company_id = '{REAL}'")), 1);
        assert_eq!(one::<i64>(&format!("SELECT count(*) FROM sec_led.companies WHERE id = '{REAL}'")), 1);
    }

    /// An operator holds no standing rights on tenant rows (with a self-set company it can
    /// read or delete none) and cannot become the tenant role.
    #[pg_test]
    fn operators_have_no_standing_rights_on_tenant_rows() {
        serialize_runs();
        run("CREATE SCHEMA sec_ten; SELECT perf_install_schema('sec_ten')");
        crate::tests::two_companies_in("sec_ten");
        run(&format!(
            "INSERT INTO sec_ten.customers (company_id, customer_name, created_by_user_id) VALUES ('{}', 'a', '{}')",
            crate::tests::COMPANY_A,
            crate::tests::USER_A
        ));
        operator("sec_op_t");
        run("SET ROLE sec_op_t");
        run(&format!("SELECT set_config('app.current_company_id', '{}', true)", crate::tests::COMPANY_A));
        let e = refused("DELETE FROM sec_ten.customers");
        assert_eq!(e.sqlstate(), "42501", "{e:?}");
        let e = refused("SELECT count(*) FROM sec_ten.customers");
        assert_eq!(e.sqlstate(), "42501", "{e:?}");
        run("RESET ROLE");
        assert!(!one::<bool>("SELECT has_table_privilege('sec_op_t', 'sec_ten.customers', 'DELETE')"));
        // Nor can it become the tenant (the runner switches to the tenant role itself):
        // with the tenant's grants it could read any company's rows in every schema.
        assert!(!one::<bool>("SELECT pg_has_role('sec_op_t', 'perfsuite_tenant', 'MEMBER')"));
    }

    /// Text an operator can write into results (every column of a result is theirs to
    /// update) cannot become markup in the HTML report or a line of its own in TAP.
    #[pg_test]
    fn report_fields_are_encoded() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        let run_id = one::<i64>(
            "INSERT INTO perf_runs (pattern, target_schema, status, overall, backend_start)
             VALUES ('%', 'sec_report', 'completed', 'PASS', now()) RETURNING run_id",
        );
        run(&format!(
            "INSERT INTO performance_test_results (run_id, test_id, test_name, status, target_ms, execution_time_ms, statistic, notes)
             VALUES ({run_id}, 'x.1', E'evil\\nok 99 - forged', 'PASS', 50, 20, '<script>alert(1)</script>', E'n\\nok 98 - forged')"
        ));
        let html = one::<String>(&format!("SELECT perf_report({run_id}, 'html')"));
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "the statistic is shown, escaped");
        let tap = one::<String>(&format!("SELECT perf_report({run_id}, 'tap')"));
        assert!(!tap.lines().any(|l| l.starts_with("ok 99") || l.starts_with("ok 98")), "{tap}");
        assert_eq!(tap.lines().filter(|l| l.starts_with("ok ") || l.starts_with("not ok ")).count(), 1, "{tap}");
        // Markdown passes raw HTML through to whoever renders it: none of an operator's
        // text reaches it as a tag or an entity.
        run(&format!(
            "UPDATE perf_runs SET target_schema = '<img src=x onerror=alert(1)>' WHERE run_id = {run_id};
             UPDATE performance_test_results SET test_name = '<b onclick=x>t</b> &amp;' WHERE run_id = {run_id}"
        ));
        let md = one::<String>(&format!("SELECT perf_report({run_id}, 'markdown')"));
        assert!(!md.contains("<img") && !md.contains("<b ") && !md.contains("</b>"), "{md}");
        assert!(md.contains("&lt;img src=x") && md.contains("&lt;b onclick=x>t&lt;/b> &amp;amp;"), "{md}");
        // Nor a link, an image or a heading of its own.
        run(&format!(
            "UPDATE performance_test_results SET test_name = E'[x](javascript:alert(1)) ![i](https://e.example/x.png)\\n## Forged PASS' WHERE run_id = {run_id}"
        ));
        let md = one::<String>(&format!("SELECT perf_report({run_id}, 'markdown')"));
        assert!(!md.contains("](javascript") && !md.contains("](https://e.example"), "{md}");
        assert!(!md.lines().any(|l| l.starts_with("## Forged")), "{md}");
    }

    /// One non-finite figure an operator wrote into a result does not take the run's
    /// report down; log_performance_test refuses such figures in the first place.
    #[pg_test]
    fn non_finite_figures_neither_stored_nor_fatal() {
        serialize_runs();
        let rows = one::<i64>("SELECT count(*) FROM performance_test_results");
        for bad in ["'NaN'", "-1", "1e300", "'Infinity'"] {
            let e = refused(&format!("SELECT log_performance_test('t', 'q', {bad}, 1)"));
            assert_eq!(e.sqlstate(), "22023", "{bad}: {e:?}");
            assert!(e.message.contains("p_execution_time_ms") && e.message.contains("from 0 to"), "{}", e.message);
        }
        let e = refused("SELECT log_performance_test('t', 'q', 1, -5)");
        assert_eq!(e.sqlstate(), "22023");
        assert_eq!(one::<i64>("SELECT count(*) FROM performance_test_results"), rows, "nothing stored");
        run("SELECT log_performance_test('t', 'q', 12.5, 3)");
        let run_id = one::<i64>(
            "INSERT INTO perf_runs (pattern, target_schema, status, overall, backend_start)
             VALUES ('%', 'sec_nan', 'completed', 'PASS', now()) RETURNING run_id",
        );
        run(&format!(
            "INSERT INTO performance_test_results (run_id, test_id, test_name, status, target_ms, execution_time_ms, p95_ms, samples_ms)
             VALUES ({run_id}, 'x.nan', 'nan', 'PASS', 50, 'NaN', 'Infinity', ARRAY[1, 'NaN', 2]::float8[])"
        ));
        for format in ["markdown", "json", "tap", "html"] {
            let out = one::<String>(&format!("SELECT perf_report({run_id}, '{format}')"));
            assert!(out.contains("x.nan"), "{format}: {out}");
        }
    }

    /// A reader without USAGE on a run's schema gets the report, without what would be
    /// read there, and is told why.
    #[pg_test]
    fn a_report_leaves_out_a_schema_the_reader_may_not_use() {
        serialize_runs();
        run("CREATE SCHEMA sec_nousage; CREATE ROLE sec_reader NOLOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO sec_reader");
        let run_id = one::<i64>(
            "INSERT INTO perf_runs (pattern, target_schema, status, overall, backend_start)
             VALUES ('%', 'sec_nousage', 'completed', 'PASS', now()) RETURNING run_id",
        );
        run("SET LOCAL ROLE sec_reader");
        let md = one::<String>(&format!("SELECT perf_report({run_id})"));
        run("RESET ROLE");
        assert!(md.contains("no USAGE on it"), "{md}");
    }

    /// An operator's perf_schedule without pg_cron gets what to do, not a 42501 about a
    /// setting it did not ask to read.
    #[pg_test]
    fn an_operator_scheduling_without_pg_cron_is_told_what_to_do() {
        serialize_runs();
        if one::<bool>("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron')") {
            return;
        }
        operator("sec_sched");
        run("SET LOCAL ROLE sec_sched");
        let e = refused("SELECT perf_schedule('0 3 * * *')");
        run("RESET ROLE");
        assert_eq!(e.sqlstate(), "0A000", "{e:?}");
        assert!(e.hint.as_deref().unwrap_or("").contains("superuser"), "{e:?}");
    }

    /// The per-test time limit holds in the caller's session too, in every phase of a
    /// dml test (its EXPLAIN first), and for a test whose own code catches the cancel.
    #[pg_test]
    fn the_time_limit_holds_in_every_phase_and_through_a_caught_cancel() {
        serialize_runs();
        run("CREATE SCHEMA sec_tl");
        run("INSERT INTO perf_tests (test_id, scenario, name, kind, sql, iterations, warmup, target_ms) VALUES
             ('sec.tl1', 9, 'slow dml', 'dml', 'SELECT pg_sleep(0.4)', 20, 0, 10000),
             ('sec.tl2', 9, 'catches the cancel', 'dml',
              $q$DO $d$ BEGIN FOR i IN 1..15 LOOP BEGIN PERFORM pg_sleep(0.1); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $d$$q$,
              1, 0, 10000)");
        run("SET LOCAL pg_perfsuite.test_time_limit = '700ms'");
        let t0 = std::time::Instant::now();
        run("SELECT * FROM perf_run('sec.tl%', target_schema => 'sec_tl', iterations => 20, background => false)");
        let took = t0.elapsed();
        let got = one::<String>(
            "SELECT string_agg(test_id || ' ' || status || ' ' || coalesce(error_sqlstate, '') || ' ' || coalesce(error_message, ''), E'\n' ORDER BY test_id)
               FROM performance_test_results WHERE test_id LIKE 'sec.tl%'",
        );
        assert!(got.contains("sec.tl1 ERROR 57014 the test ran past its time limit of 700 ms"), "{got}");
        assert!(got.contains("sec.tl2 ERROR 57014"), "{got}");
        assert!(took < std::time::Duration::from_secs(8), "{took:?}");
    }

    /// The status and notes of a test's latest result.
    fn last_result(test_id: &str) -> (String, String) {
        let (status, notes) = Spi::get_two_with_args::<String, String>(
            "SELECT status, notes FROM performance_test_results WHERE test_id = $1 ORDER BY result_id DESC LIMIT 1",
            &[test_id.into()],
        )
        .unwrap();
        (status.unwrap_or_default(), notes.unwrap_or_default())
    }

    /// An operator's own run of the tenant tests runs its schema's code as that schema's
    /// tenant role, which has no grants on another owner's schema: a policy function
    /// the operator wrote cannot read a superuser's tenant tables while it runs.
    #[pg_test]
    fn an_operators_schema_code_runs_as_its_own_tenant() {
        serialize_runs();
        if one::<bool>("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')") {
            run("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public");
        }
        run("CREATE SCHEMA sec_su; SELECT perf_install_schema('sec_su')");
        crate::tests::two_companies_in("sec_su");
        operator("sec_spy");
        run("CREATE SCHEMA sec_spy_s AUTHORIZATION sec_spy");
        run("SET ROLE sec_spy");
        run("SELECT perf_install_schema('sec_spy_s')");
        // The operator's policy on its own companies table counts a superuser's rows.
        run("CREATE TABLE sec_spy_s.loot (n bigint);
             CREATE FUNCTION sec_spy_s.spy() RETURNS boolean LANGUAGE plpgsql AS $f$
               BEGIN INSERT INTO sec_spy_s.loot SELECT count(*) FROM sec_su.customers; RETURN true; END $f$;
             DROP POLICY tenant_isolation ON sec_spy_s.companies;
             CREATE POLICY spy ON sec_spy_s.companies USING (sec_spy_s.spy())");
        let tenant = one::<String>("SELECT 'perfsuite_tenant_' || oid FROM pg_roles WHERE rolname = 'sec_spy'");
        run(&format!("GRANT INSERT ON sec_spy_s.loot TO {tenant}"));
        run("SELECT * FROM perf_run('5.3-all-tables', target_schema => 'sec_spy_s', iterations => 1, background => false)");
        run("RESET ROLE");
        assert_eq!(
            one::<i64>("SELECT count(*) FROM sec_spy_s.loot"),
            0,
            "the operator's code read a superuser's tenant table"
        );
        assert!(!one::<bool>(&format!("SELECT has_schema_privilege('{tenant}', 'sec_su', 'USAGE')")));
    }

    /// A SECURITY DEFINER ledger function reads an operator's companies table with the
    /// caller's rights, and only when its id is a plain uuid: an implicit cast from a
    /// type the operator made, which would run the operator's function as the
    /// extension's owner, is never reached.
    #[pg_test]
    fn the_ledger_functions_run_no_cast_of_an_operator() {
        serialize_runs();
        operator("sec_cast");
        run("CREATE SCHEMA sec_cast_s AUTHORIZATION sec_cast");
        run("SET ROLE sec_cast");
        run("CREATE TYPE sec_cast_s.evil AS (x uuid);
             CREATE FUNCTION sec_cast_s.to_uuid(sec_cast_s.evil) RETURNS uuid LANGUAGE plpgsql AS $f$
               BEGIN EXECUTE 'ALTER ROLE sec_cast SUPERUSER'; RETURN ($1).x; END $f$;
             CREATE CAST (sec_cast_s.evil AS uuid) WITH FUNCTION sec_cast_s.to_uuid(sec_cast_s.evil) AS IMPLICIT;
             CREATE TABLE sec_cast_s.companies (id sec_cast_s.evil);
             INSERT INTO sec_cast_s.companies VALUES (ROW('22222222-2222-2222-2222-222222222222'))");
        for call in [
            "SELECT perf_ledger_forget('sec_cast_s')",
            "SELECT perf_ledger_record('sec_cast_s', '22222222-2222-2222-2222-222222222222')",
        ] {
            let e = refused(call);
            assert_eq!(e.sqlstate(), "42809", "{call}: {e:?}");
        }
        run("RESET ROLE");
        assert_eq!(flags("sec_cast"), "false/false/false/false");
    }

    /// An advisory lock a test's SQL takes for the session is released after the test:
    /// it would otherwise stay in the caller's (often a superuser's) session.
    #[pg_test]
    fn a_tests_session_locks_do_not_outlive_it() {
        serialize_runs();
        run("CREATE SCHEMA sec_lock_s");
        run("INSERT INTO perf_tests (test_id, scenario, name, kind, sql, expected_value, iterations, warmup) VALUES
             ('sec.lock', 9, 'takes a lock', 'count_check', 'SELECT pg_advisory_lock(4242)::text::int + 1', 1, 1, 0),
             ('sec.lock2', 9, 'takes two', 'count_check', 'SELECT count(*) FROM (SELECT pg_advisory_lock(1, 2), pg_advisory_lock_shared(77), pg_advisory_lock(77000000000)) x', 1, 1, 0)");
        run("SELECT * FROM perf_run('sec.lock%', target_schema => 'sec_lock_s', background => false)");
        // The keys the tests took (the generator's transaction-level keys stay until this
        // test's transaction ends, as they should).
        assert_eq!(
            one::<i64>(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                    AND ((classid, objid, objsubid) IN ((0, 4242, 1), (1, 2, 2), (0, 77, 1))
                         OR (objsubid = 1 AND (classid::int8 << 32 | objid::int8) = 77000000000))"
            ),
            0,
            "advisory locks left in the caller's session"
        );
    }

    /// A tenant cannot attach its rows to another company's customer in the reference
    /// schema (its keys carry the company); on the plan's schema as written (keys on
    /// customer_id alone) the isolation sweep FAILs and says what to change.
    #[pg_test]
    fn the_sweep_tries_references_to_another_companys_customer() {
        serialize_runs();
        run("CREATE SCHEMA sec_ref");
        run("SELECT * FROM perf_run('5.3-all-tables', target_schema => 'sec_ref', iterations => 1, background => false)");
        let (status, notes) = last_result("5.3-all-tables");
        assert_eq!(status, "PASS", "{notes}");
        assert!(
            notes.contains("references to another company's rows refused in: ") && notes.contains("customer_events"),
            "{notes}"
        );
        // The plan's keys: customer_id alone.
        run("ALTER TABLE sec_ref.customer_events DROP CONSTRAINT customer_events_company_id_customer_id_fkey,
               ADD FOREIGN KEY (customer_id) REFERENCES sec_ref.customers (id) ON DELETE CASCADE");
        run("SELECT * FROM perf_run('5.3-all-tables', target_schema => 'sec_ref', iterations => 1, background => false)");
        let (status, notes) = last_result("5.3-all-tables");
        assert_eq!(status, "FAIL", "{notes}");
        assert!(
            notes.contains(
                "customer_events: the tenant's UPDATE and INSERT pointed its row at another company's customer"
            ),
            "{notes}"
        );
        let md = one::<String>("SELECT perf_report()");
        assert!(md.contains("FOREIGN KEY (company_id, customer_id) REFERENCES customers (company_id, id)"), "{md}");
    }

    /// Every SQL function of the extension (found in pg_depend, so a new one is covered
    /// too) called with NULLs, empty and odd strings, system and mis-cased schema names,
    /// negative, zero, huge, NaN and infinite numbers: each call succeeds or fails with a
    /// deliberate SQLSTATE (never XX000, never a Rust backtrace), and no failed call
    /// leaves a run, a load test or a client row behind (a worker commits on its own).
    #[pg_test]
    fn every_function_meets_bad_input_with_a_clear_error() {
        serialize_runs();
        run("CREATE SCHEMA IF NOT EXISTS fuzz_target; SELECT perf_install_schema('fuzz_target')");
        run(FUZZ);
        let calls = one::<i64>("SELECT count(*) FROM pg_temp.fuzz_result");
        let functions = one::<i64>("SELECT count(DISTINCT fn) FROM pg_temp.fuzz_result");
        assert!(functions >= 15 && calls >= 150, "{functions} functions, {calls} calls");
        let bad = one::<String>(
            "SELECT coalesce(string_agg(call || ' -> ' || state || ' ' || message || ' / ' || coalesce(detail, ''), E'\\n'), '')
               FROM pg_temp.fuzz_result
              WHERE state = 'XX000' OR detail ~ '(stack backtrace|rust_begin_unwind|\\.rs:[0-9]+)'",
        );
        assert_eq!(bad, "", "calls that failed without a deliberate SQLSTATE");
        let wrote = one::<String>(
            "SELECT coalesce(string_agg(call || ' -> ' || state, E'\\n'), '') FROM pg_temp.fuzz_result WHERE state <> '00000' AND wrote",
        );
        assert_eq!(wrote, "", "failed calls that left a run, load test or client row behind");
    }

    /// The fuzzing driver: for each extension function, rounds of argument lists where
    /// every argument takes the round's bad value of its type; each call in its own
    /// exception block, outcome recorded.
    const FUZZ: &str = r#"
CREATE TEMP TABLE fuzz_result (fn text, call text, state text, message text, detail text, wrote boolean);
DO $fuzz$
DECLARE
    f record;
    vals jsonb := jsonb_build_object(
        'text', jsonb_build_array(NULL, '', ' ', 'pg_catalog', 'information_schema', 'pg_toast', 'PUBLIC', '"public"',
                                  'no_such_schema', repeat('x', 300), E'a
b', 'fuzz_target'),
        'integer', jsonb_build_array(NULL, '0', '-1', '2147483647', '-2147483648', '1'),
        'bigint', jsonb_build_array(NULL, '0', '-1', '9223372036854775807', '-9223372036854775808', '999999999'),
        'double precision', jsonb_build_array(NULL, 'NaN', 'Infinity', '-Infinity', '-1', '0', '1e308'),
        -- scale lists, none of them valid (a valid one would start a sweep)
        'double precision[]', jsonb_build_array(NULL, '{}', '{NaN,1}', '{1}', '{0,1000}', '{1,NULL}', '{-1,1}'),
        'numeric', jsonb_build_array(NULL, 'NaN', '-1', '0', '1e100'),
        'boolean', jsonb_build_array(NULL, 'true', 'false'),
        'interval', jsonb_build_array(NULL, '-1 day', '0', '1000000 years', '1 microsecond'),
        'uuid', jsonb_build_array(NULL, '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'));
    types text[];
    args text[];
    r int;
    i int;
    v jsonb;
    call text;
    st text; msg text; det text;
    before text;
BEGIN
    FOR f IN
        SELECT p.oid, p.oid::regproc::text AS name,
               (SELECT array_agg(format_type(t, NULL) ORDER BY o) FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, o)) AS types
          FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
         WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
           AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_perfsuite')
           AND p.pronamespace = (SELECT extnamespace FROM pg_extension WHERE extname = 'pg_perfsuite')  -- not the test build's own
           AND p.prorettype <> 'trigger'::regtype
         ORDER BY 2
    LOOP
        types := coalesce(f.types, '{}');
        FOR r IN 0..11 LOOP
            args := '{}';
            FOR i IN 1..coalesce(array_length(types, 1), 0) LOOP
                IF NOT vals ? types[i] THEN
                    RAISE EXCEPTION 'fuzz: no values for type % of %', types[i], f.name;
                END IF;
                v := vals -> types[i] -> (r % jsonb_array_length(vals -> types[i]));
                args := args || CASE WHEN v = 'null'::jsonb THEN format('NULL::%s', types[i])
                                     ELSE format('%L::%s', v #>> '{}', types[i]) END;
            END LOOP;
            call := format('SELECT * FROM %s(%s)', f.name, array_to_string(args, ', '));
            -- What a background worker commits survives the failed call's rollback.
            before := (SELECT count(*) FROM perf_runs) || '/' || (SELECT count(*) FROM perf_load_runs)
                      || '/' || (SELECT count(*) FROM perf_load_clients);
            BEGIN
                EXECUTE call;
                st := '00000'; msg := 'ok'; det := NULL;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
            END;
            INSERT INTO fuzz_result VALUES (f.name, call, st, msg, det,
                before <> (SELECT count(*) FROM perf_runs) || '/' || (SELECT count(*) FROM perf_load_runs)
                          || '/' || (SELECT count(*) FROM perf_load_clients));
            EXIT WHEN array_length(types, 1) IS NULL;
        END LOOP;
    END LOOP;
END
$fuzz$;
"#;

    /// The bad inputs the review found, one by one: each a clear SQLSTATE, nothing written.
    #[pg_test]
    fn the_reviews_bad_inputs_get_clear_errors() {
        serialize_runs();
        run("CREATE SCHEMA sec_bad; SELECT perf_install_schema('sec_bad')");
        crate::tests::two_companies_in("sec_bad");
        // An unknown user of an existing company: 23503 naming it, not XX000.
        let e = refused(&format!(
            "SELECT generate_test_customers('{}', 10, '00000000-0000-0000-0000-0000000000ff', 1, 'sec_bad')",
            crate::tests::COMPANY_A
        ));
        assert_eq!(e.sqlstate(), "23503", "{e:?}");
        assert!(e.message.contains("p_user_id 00000000-0000-0000-0000-0000000000ff does not exist"), "{}", e.message);
        // 10^10 customers: over the total cap, with a HINT.
        let e = refused("SELECT * FROM perf_generate(1000, 10000000, 1, 'sec_bad')");
        assert_eq!(e.sqlstate(), "22023");
        assert!(e.message.contains("at most 10000000 customers") && e.hint.is_some(), "{e:?}");
        // Generating into tenants that already have customers: 55000 and a HINT, not 23505.
        run("SELECT * FROM perf_generate(2, 5, 1, 'sec_bad')");
        let customers = one::<i64>("SELECT count(*) FROM sec_bad.customers");
        let e = refused("SELECT * FROM perf_generate(2, 5, 1, 'sec_bad')");
        assert_eq!(e.sqlstate(), "55000", "{e:?}");
        assert!(e.hint.as_deref().unwrap_or("").contains("perf_cleanup('sec_bad')"), "{e:?}");
        assert_eq!(one::<i64>("SELECT count(*) FROM sec_bad.customers"), customers);
        // perf_compare with a run that does not exist: 22023, not an empty result.
        let e = refused("SELECT * FROM perf_compare(NULL, 999999)");
        assert_eq!(e.sqlstate(), "22023");
        assert_eq!(e.message, "baseline run 999999 does not exist");
        let e = refused("SELECT * FROM perf_compare(999999)");
        assert_eq!(e.message, "run 999999 does not exist");
        let e = refused("SELECT * FROM perf_compare(threshold_pct => 'NaN')");
        assert_eq!(e.sqlstate(), "22023");
        // NaN for the load test's latency assertion: 22023 before any worker starts.
        let e = refused("SELECT * FROM perf_load_test(latency_limit_ms => 'NaN', target_schema => 'sec_bad')");
        assert_eq!(e.sqlstate(), "22023", "{e:?}");
    }
}
