//! Safety ("staging only", made enforceable) and perf_cleanup removing exactly what
//! pg_perfsuite generated.

#[pgrx::pg_schema]
mod tests {
    use crate::pg::subxact::{in_subtransaction, OnSuccess};
    use crate::tests::{one, run, serialize_runs};
    use pgrx::prelude::*;

    const FOREIGN: &str = "cccccccc-0000-0000-0000-00000000000c";

    /// A schema with the reference tables and one company the extension did not create.
    fn schema_with_foreign_company(schema: &str) {
        run(&format!("CREATE SCHEMA {schema}; SELECT perf_install_schema('{schema}')"));
        run(&format!(
            "INSERT INTO {schema}.companies (id, name) VALUES ('{FOREIGN}', 'Real Customer Inc');
             INSERT INTO {schema}.users (id, email, company_id) VALUES ('{FOREIGN}', 'ops@real', '{FOREIGN}');
             INSERT INTO {schema}.customers (company_id, customer_name, customer_email, created_by_user_id)
             SELECT '{FOREIGN}', 'Real ' || i, 'real' || i || '@real.example', '{FOREIGN}' FROM generate_series(1, 5) i;"
        ));
    }

    #[pg_test(
        error = "schema \"safe1\" holds 1 company that pg_perfsuite did not generate; the plan is for staging or test databases only, and its scenarios insert, update and soft-delete rows"
    )]
    fn a_run_refuses_data_it_did_not_generate() {
        serialize_runs();
        schema_with_foreign_company("safe1");
        run("SELECT * FROM perf_run('1.2', target_schema => 'safe1', iterations => 1, background => false)");
    }

    #[pg_test]
    fn refusal_changes_nothing_and_opting_in_runs() {
        serialize_runs();
        schema_with_foreign_company("safe2");
        let runs_before = one::<i64>("SELECT count(*) FROM perf_runs");
        let refused = in_subtransaction(OnSuccess::Rollback, || {
            run("SELECT * FROM perf_run('1.2', target_schema => 'safe2', iterations => 1, background => false)")
        })
        .expect_err("refused");
        assert_eq!(refused.sqlstate(), "55000");
        assert!(refused.hint.unwrap().contains("SET pg_perfsuite.allow_existing_data = on"));
        assert_eq!(one::<i64>("SELECT count(*) FROM perf_runs"), runs_before);
        assert_eq!(one::<i64>("SELECT count(*) FROM safe2.companies"), 1);
        // Opting in runs the plan beside the user's company, which it leaves alone.
        run("SET LOCAL pg_perfsuite.allow_existing_data = on");
        let status = one::<String>(
            "SELECT status FROM perf_run('1.2', target_schema => 'safe2', iterations => 1, background => false)",
        );
        assert!(["PASS", "WARN", "FAIL"].contains(&status.as_str()), "{status}");
        assert_eq!(one::<i64>(&format!("SELECT count(*) FROM safe2.customers WHERE company_id = '{FOREIGN}'")), 5);
        assert_eq!(one::<i64>("SELECT count(*) FROM perf_generated_companies WHERE target_schema = 'safe2'"), 11);
    }

    #[pg_test]
    fn cleanup_removes_exactly_the_generated_companies() {
        serialize_runs();
        schema_with_foreign_company("clean1");
        run("SELECT * FROM perf_generate(2, 30, 42, 'clean1')");
        assert_eq!(one::<i64>("SELECT count(*) FROM perf_generated_companies WHERE target_schema = 'clean1'"), 2);
        let generated_customers =
            one::<i64>(&format!("SELECT count(*) FROM clean1.customers WHERE company_id <> '{FOREIGN}'"));
        assert_eq!(generated_customers, 60);
        let deleted = one::<i64>("SELECT rows_deleted FROM perf_cleanup('clean1') WHERE relation = 'customers'");
        assert_eq!(deleted, 60);
        // The company that was there before is untouched, with everything under it.
        assert_eq!(one::<i64>("SELECT count(*) FROM clean1.customers"), 5);
        assert_eq!(one::<i64>("SELECT count(*) FROM clean1.companies"), 1);
        assert_eq!(
            one::<i64>(&format!("SELECT count(*) FROM clean1.customer_matching_keys WHERE company_id = '{FOREIGN}'")),
            10
        );
        assert_eq!(one::<i64>("SELECT count(*) FROM clean1.\"VC Usage\""), 0);
        assert_eq!(one::<i64>("SELECT count(*) FROM perf_generated_companies WHERE target_schema = 'clean1'"), 0);
        // Twice is safe: nothing left to delete.
        assert_eq!(one::<i64>("SELECT coalesce(sum(rows_deleted), 0)::bigint FROM perf_cleanup('clean1')"), 0);
        // A schema without the tables: nothing to do, nothing installed.
        run("CREATE SCHEMA clean_empty");
        assert_eq!(one::<i64>("SELECT count(*) FROM perf_cleanup('clean_empty')"), 0);
        assert_eq!(one::<i64>("SELECT count(*) FROM pg_tables WHERE schemaname = 'clean_empty'"), 0);
    }

    #[pg_test]
    fn a_company_that_existed_before_is_never_claimed() {
        serialize_runs();
        // The user already has the plan's Load Test Company (they followed the plan by hand).
        run("CREATE SCHEMA clean2; SELECT perf_install_schema('clean2')");
        run("INSERT INTO clean2.companies (id, name) VALUES ('aaaaaaaa-aaaa-aaaa-aaaa-000000000001', 'mine')");
        run("SELECT * FROM perf_generate(2, 10, 42, 'clean2')");
        assert_eq!(
            one::<String>("SELECT string_agg(company_id::text, ',' ORDER BY company_id) FROM perf_generated_companies WHERE target_schema = 'clean2'"),
            "aaaaaaaa-aaaa-aaaa-aaaa-000000000002"
        );
        run("SELECT * FROM perf_cleanup('clean2')");
        assert_eq!(one::<i64>("SELECT count(*) FROM clean2.companies WHERE name = 'mine'"), 1);
    }
}
