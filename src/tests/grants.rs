#[pgrx::pg_schema]
mod tests {
    use crate::tests::{one, run, serialize_runs};
    use pgrx::prelude::*;

    /// A role that is not a superuser, given perf_grant_operator and a schema of its
    /// own, runs the plan's scenario 1 and the tenant tests; after perf_revoke_operator
    /// it can no longer call the functions.
    #[pg_test]
    fn an_operator_role_runs_the_plan_after_one_grant() {
        serialize_runs();
        if one::<bool>("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')") {
            // A DBA's part: an operator may not be allowed to create extensions.
            run("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public");
        }
        run("CREATE ROLE perf_op_t NOLOGIN NOSUPERUSER; CREATE SCHEMA opx AUTHORIZATION perf_op_t");
        assert!(!one::<bool>("SELECT has_function_privilege('perf_op_t', 'perf_run(text,text,integer,bigint,boolean,boolean,double precision)', 'EXECUTE')"));
        let functions =
            one::<i64>("SELECT objects FROM perf_grant_operator('perf_op_t') WHERE granted = 'EXECUTE on functions'");
        assert_eq!(
            functions,
            one::<i64>(
                "SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                         WHERE e.extname = 'pg_perfsuite' AND d.deptype = 'e' AND d.classid = 'pg_proc'::regclass"
            )
        );
        run("SET ROLE perf_op_t");
        let statuses = Spi::connect(|c| {
            c.select(
                "SELECT test_id || ' ' || status FROM perf_run('%', target_schema => 'opx', iterations => 2, background => false)
                  WHERE test_id IN ('1.1', '1.2', '1.3', '4.4', '5.1', '5.3')",
                None,
                &[],
            )
            .unwrap()
            .map(|r| r.get::<String>(1).unwrap().unwrap())
            .collect::<Vec<_>>()
        });
        run("RESET ROLE");
        assert_eq!(statuses, ["1.1 PASS", "1.2 PASS", "1.3 PASS", "4.4 PASS", "5.1 PASS", "5.3 PASS"]);
        assert_eq!(
            one::<String>(
                "SELECT tableowner::text FROM pg_tables WHERE schemaname = 'opx' AND tablename = 'customers'"
            ),
            "perf_op_t"
        );
        run("SELECT * FROM perf_revoke_operator('perf_op_t')");
        assert!(!one::<bool>("SELECT has_function_privilege('perf_op_t', 'perf_run(text,text,integer,bigint,boolean,boolean,double precision)', 'EXECUTE')"));
        assert!(!one::<bool>("SELECT has_table_privilege('perf_op_t', 'perf_runs', 'INSERT')"));
        // Its schema's tenant role is its own, and it is no member of it.
        let own_tenant = one::<String>("SELECT 'perfsuite_tenant_' || oid FROM pg_roles WHERE rolname = 'perf_op_t'");
        assert!(one::<bool>(&format!(
            "SELECT has_table_privilege('{own_tenant}', 'opx.customers', 'SELECT')
                AND NOT pg_has_role('perf_op_t', '{own_tenant}', 'MEMBER')"
        )));
        assert!(!one::<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'perfsuite_tenant')
                    AND has_table_privilege('perfsuite_tenant', 'opx.customers', 'SELECT')"
        ));
    }

    #[pg_test(error = "role \"perf_nobody_here\" does not exist")]
    fn grant_refuses_an_unknown_role() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        run("SELECT * FROM perf_grant_operator('perf_nobody_here')");
    }

    #[pg_test(
        error = "role must not be \"perfsuite_tenant\": the isolation tests run as the perfsuite_tenant* roles, which must stay plain tenants"
    )]
    fn grant_refuses_the_tenant_role() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        run("SELECT * FROM perf_install_schema()");
        run("SELECT * FROM perf_grant_operator('perfsuite_tenant')");
    }
}
