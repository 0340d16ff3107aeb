#[pgrx::pg_schema]
mod tests {
    use crate::tests::{one, refused, run, serialize_runs};
    use pgrx::prelude::*;

    /// Indexes, constraints and triggers of a schema's tables, schema name removed: what
    /// a bulk load must leave exactly as the installer made it.
    fn definitions(schema: &str) -> String {
        one::<String>(&format!(
            "SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
               SELECT 'index ' || c.relname || ': ' || replace(pg_get_indexdef(i.indexrelid), '{schema}.', '') AS x
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = '{schema}'
               UNION ALL
               SELECT 'constraint ' || t.relname || '.' || k.conname || ' ' || replace(pg_get_constraintdef(k.oid), '{schema}.', '')
                      || CASE WHEN k.convalidated THEN '' ELSE ' NOT VALID' END
                 FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
                WHERE n.nspname = '{schema}'
               UNION ALL
               SELECT 'trigger ' || c.relname || '.' || g.tgname || ' ' || g.tgenabled::text
                 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = '{schema}' AND NOT g.tgisinternal) d"
        ))
    }

    /// Everything generated except identity ids, keys included in full. Both paths run in
    /// one transaction here, so now() and with it every row's time is the same.
    fn content(schema: &str) -> String {
        one::<String>(&format!(
            "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
               SELECT concat_ws(',', id, company_id, customer_name, customer_email, customer_phone, customer_address,
                                lifecycle_stage, tags::text, source, created_by_user_id, created_at) AS x FROM {schema}.customers
               UNION ALL SELECT concat_ws(',', company_id, user_id, customer_id, customer_name, session_id, interaction_number,
                                          user_message, ai_response, created_at) FROM {schema}.\"VC Usage\"
               UNION ALL SELECT concat_ws(',', customer_id, company_id, event_type, event_data::text, created_at)
                           FROM {schema}.customer_events
               UNION ALL SELECT concat_ws(',', 'key', customer_id, company_id, key_type, key_value, normalized_value)
                           FROM {schema}.customer_matching_keys) t"
        ))
    }

    #[pg_test]
    fn bulk_load_writes_what_the_triggers_write_and_rebuilds_the_schema_as_installed() {
        serialize_runs();
        // pg_trgm in a schema of its own, so that the three schemas' trigram indexes
        // name the same operator class.
        run("DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
               CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public; END IF; END $$");
        for s in ["bk_bulk", "bk_rows", "bk_fresh"] {
            run(&format!("CREATE SCHEMA {s}; SELECT perf_install_schema('{s}')"));
        }
        // A statement trigger that does nothing, but is not the reference schema's:
        // that schema keeps the row-by-row path, its own triggers writing the keys.
        run("CREATE FUNCTION bk_rows.noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
             CREATE TRIGGER noop AFTER INSERT ON bk_rows.customers FOR EACH STATEMENT EXECUTE FUNCTION bk_rows.noop()");
        let target = |s: &str| crate::sut::ensure_schema(Some(s), false);
        assert_eq!(crate::generate::bulk::not_applicable(&target("bk_bulk")), None);
        assert!(crate::generate::bulk::not_applicable(&target("bk_rows")).unwrap().contains("triggers"));
        let fresh = definitions("bk_fresh");
        assert_eq!(definitions("bk_bulk"), fresh);

        // The REFRESH at the end runs with maintenance_work_mem; the caller's settings
        // are what they were afterwards.
        run("SET LOCAL work_mem = '7MB'; SET LOCAL hash_mem_multiplier = 3");
        let reported = one::<i64>("SELECT matching_keys FROM perf_generate(3, 150, 42, 'bk_bulk')");
        assert_eq!(
            one::<String>("SELECT current_setting('work_mem') || ' ' || current_setting('hash_mem_multiplier')"),
            "7MB 3"
        );
        run("SELECT * FROM perf_generate(3, 150, 42, 'bk_rows')");
        let keys = one::<i64>("SELECT count(*) FROM bk_bulk.customer_matching_keys");
        assert!(keys >= 450, "{keys} keys");
        assert_eq!(reported, keys, "perf_generate reports the keys it wrote");
        assert_eq!(keys, one::<i64>("SELECT count(*) FROM bk_rows.customer_matching_keys"));
        assert_eq!(content("bk_bulk"), content("bk_rows"), "same rows and keys on both paths");
        // Indexes, keys, foreign keys (validated) and triggers are back as installed.
        assert_eq!(definitions("bk_bulk"), fresh);
        assert_eq!(one::<i64>("SELECT count(*) FROM bk_bulk.customer_metrics"), 450, "metrics refreshed");
        // The schema behaves as before: the key trigger is on, a child without parent is refused.
        run("INSERT INTO bk_bulk.customers (company_id, customer_name, customer_email)
             VALUES ('aaaaaaaa-aaaa-aaaa-aaaa-000000000001', 'After Bulk', ' After@Bulk.example ')");
        assert_eq!(
            one::<String>("SELECT normalized_value FROM bk_bulk.customer_matching_keys k JOIN bk_bulk.customers c ON c.id = k.customer_id
                           WHERE c.customer_name = 'After Bulk' AND k.key_type = 'email'"),
            "after@bulk.example"
        );
        let e = refused(
            "INSERT INTO bk_bulk.customer_events (customer_id, company_id, event_type)
                         VALUES ('00000000-0000-0000-0000-000000000000', 'aaaaaaaa-aaaa-aaaa-aaaa-000000000001', 'x')",
        );
        assert_eq!(e.sqlstate(), "23503", "{}", e.message);
        // No longer empty: the next generation takes the row-by-row path.
        assert!(crate::generate::bulk::not_applicable(&target("bk_bulk")).unwrap().contains("has rows"));
    }

    #[pg_test]
    fn a_run_records_its_scale_and_builds_the_environment_at_it() {
        serialize_runs();
        run("CREATE SCHEMA sc1");
        run("SELECT * FROM perf_run('1.1', 'sc1', iterations => 3, background => false, scale => 0.05)");
        assert_eq!(one::<f64>("SELECT scale FROM perf_runs WHERE target_schema = 'sc1'"), 0.05);
        // 11 companies of 50 customers (the Load Test Company and ten tenants).
        assert_eq!(
            one::<i64>("SELECT (data_volume->>'customers')::bigint FROM perf_runs WHERE target_schema = 'sc1'"),
            550
        );
        let report = one::<String>("SELECT perf_report((SELECT run_id FROM perf_runs WHERE target_schema = 'sc1'))");
        assert!(report.contains("at scale 0.05 of the plan's volume"), "{report}");
        let notes = one::<String>("SELECT notes FROM perf_runs WHERE target_schema = 'sc1'");
        assert!(notes.contains("bulk load into the freshly installed schema"), "{notes}");
    }

    #[pg_test]
    fn kept_data_of_another_scale_is_refused_before_the_run() {
        serialize_runs();
        run("CREATE SCHEMA sc2; SET LOCAL pg_perfsuite.keep_data = on");
        run("SELECT * FROM perf_run('1.1', 'sc2', iterations => 3, background => false, scale => 0.02)");
        let e = refused("SELECT * FROM perf_run('1.1', 'sc2', iterations => 3, background => false, scale => 0.03)");
        assert_eq!(e.sqlstate(), "55000");
        assert!(
            e.message.contains("have 20 customers each (scale 0.02), this run asks for 30 (scale 0.03)"),
            "{}",
            e.message
        );
        // The same scale reuses the kept data.
        run("SELECT * FROM perf_run('1.1', 'sc2', iterations => 3, background => false, scale => 0.02)");
        assert_eq!(one::<i64>("SELECT count(*) FROM perf_runs WHERE target_schema = 'sc2'"), 2);
    }

    #[pg_test]
    fn scale_out_of_range_names_the_argument() {
        serialize_runs();
        for bad in ["0", "-1", "501", "'NaN'"] {
            let e = refused(&format!("SELECT * FROM perf_run('1.1', background => false, scale => {bad})"));
            assert_eq!(e.sqlstate(), "22023");
            assert!(e.message.starts_with("scale must be between 0.01 and 500 (got "), "{}", e.message);
        }
        assert_eq!(refused("SELECT * FROM perf_run_all(scale => NULL)").sqlstate(), "22004");
    }

    #[pg_test]
    fn a_sweep_runs_each_scale_and_fits_each_timed_test() {
        serialize_runs();
        run("CREATE SCHEMA sw1");
        // Every timed test gets a fit over the three volumes (550, 1375 and 2750 customers).
        assert_eq!(
            one::<i64>(
                "SELECT count(*) FILTER (WHERE slope IS NOT NULL AND growth IS NOT NULL AND extrapolated_ms > 0)
                          FROM perf_scaling('{0.1,0.02,0.05}', 'sw1', '1.%', iterations => 3, background => false)"
            ),
            3
        );
        // One run per scale, smallest first, each with only timed tests and its data gone.
        assert_eq!(
            one::<String>("SELECT string_agg(p.scale::text, ',' ORDER BY p.run_id) FROM perf_scaling_sweeps s JOIN perf_runs p ON p.run_id = ANY (s.run_ids)"),
            "0.02,0.05,0.1"
        );
        assert_eq!(one::<i64>("SELECT count(*) FROM sw1.customers"), 0, "each run cleaned up");
        assert_eq!(
            one::<i64>("SELECT count(DISTINCT r.test_id) FROM perf_scaling_sweeps s JOIN performance_test_results r ON r.run_id = ANY (s.run_ids) WHERE r.test_id NOT LIKE 'M.%'"),
            3,
            "1.1, 1.2, 1.3: all timed"
        );
        let md = one::<String>("SELECT perf_scaling_report()");
        assert!(md.contains("# Scaling sweep") && md.contains("| 1.1 |") && md.contains("550: "), "{md}");
        let html = one::<String>("SELECT perf_scaling_report(format => 'html')");
        assert!(html.contains("<svg id=\"loglog\"") && html.contains("data-test=\"1.2\""), "{html}");
    }

    #[pg_test]
    fn sweep_arguments_are_checked() {
        serialize_runs();
        let e = refused("SELECT * FROM perf_scaling('{1}')");
        assert_eq!(e.sqlstate(), "22023");
        assert!(e.message.contains("scales must hold between 2 and 10 different values (got 1)"), "{}", e.message);
        let e = refused("SELECT * FROM perf_scaling('{1,1000}')");
        assert!(e.message.starts_with("scale must be between 0.01 and 500 (got 1000)"), "{}", e.message);
        assert_eq!(refused("SELECT * FROM perf_scaling('{1,NULL}')").sqlstate(), "22004");
        let e = refused("SELECT perf_scaling_report(123456)");
        assert!(e.message.contains("sweep 123456 does not exist"), "{}", e.message);
        let e = refused("SELECT * FROM perf_scaling('{1,2}', at_customers => 0)");
        assert!(e.message.contains("at_customers must be at least 1 (got 0)"), "{}", e.message);
    }
}
