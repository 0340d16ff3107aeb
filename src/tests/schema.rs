#[pgrx::pg_schema]
mod tests {
    use crate::tests::{one, run, two_companies, COMPANY_A, COMPANY_B, USER_A};
    use pgrx::prelude::*;

    #[pg_test]
    fn schema_installs_once_and_leaves_existing_tables_alone() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        let first = one::<String>("SELECT perf_install_schema()");
        assert!(first.starts_with("installed"), "{first}");
        run("INSERT INTO companies (id, name) VALUES (gen_random_uuid(), 'kept')");
        let second = one::<String>("SELECT perf_install_schema()");
        assert!(second.contains("already present"), "{second}");
        assert_eq!(one::<i64>("SELECT count(*) FROM companies WHERE name = 'kept'"), 1);
        // Not extension members: DROP EXTENSION must not take customer data with it.
        assert_eq!(
            one::<i64>(
                "SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid \
                 WHERE e.extname = 'pg_perfsuite' AND d.deptype = 'e' AND d.classid = 'pg_class'::regclass \
                   AND d.objid = 'public.customers'::regclass"
            ),
            0
        );
    }

    #[pg_test(error = "target_schema \"no_such_schema\" does not exist")]
    fn schema_install_rejects_unknown_schema() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        run("SELECT perf_install_schema('no_such_schema')");
    }

    #[pg_test(error = "target_schema must not be NULL")]
    fn schema_install_rejects_null() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        run("SELECT perf_install_schema(NULL)");
    }

    #[pg_test(
        error = "schema \"partial\" has part of the customer-management schema (present: customers; missing: companies, users, customer_matching_keys, VC Usage, customer_events, customer_conversation_summaries, customer_metrics); pg_perfsuite will not add tables beside a user's own"
    )]
    fn schema_install_refuses_partial_set() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        run("CREATE SCHEMA partial; CREATE TABLE partial.customers (id uuid)");
        run("SELECT perf_install_schema('partial')");
    }

    #[pg_test(error = "the tables in schema \"thin\" lack columns the Phase 3B plan uses: customers.deleted_at")]
    fn schema_check_names_missing_columns() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        run("CREATE SCHEMA thin; SELECT perf_install_schema('thin'); ALTER TABLE thin.customers DROP COLUMN deleted_at CASCADE");
        run("SELECT perf_install_schema('thin')");
    }

    #[pg_test]
    fn installs_into_a_named_schema_with_quoting() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        run(r#"CREATE SCHEMA "Perf SUT""#);
        let msg = one::<String>(r#"SELECT perf_install_schema('Perf SUT')"#);
        assert!(msg.contains("Perf SUT"), "{msg}");
        assert_eq!(one::<i64>(r#"SELECT count(*) FROM "Perf SUT"."VC Usage""#), 0);
    }

    #[pg_test]
    fn tenant_role_sees_only_its_live_rows() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        two_companies();
        run(&format!(
            "INSERT INTO customers (company_id, customer_name) VALUES ('{COMPANY_A}', 'a1'), ('{COMPANY_A}', 'a2');
             INSERT INTO customers (company_id, customer_name, deleted_at) VALUES ('{COMPANY_A}', 'a-deleted', now());
             INSERT INTO customers (company_id, customer_name) SELECT '{COMPANY_B}', 'b' || i FROM generate_series(1, 3) i;"
        ));
        assert!(!one::<bool>("SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = 'perfsuite_tenant'"),);
        run(&format!(
            "SELECT set_config('app.current_company_id', '{COMPANY_A}', true); SET LOCAL ROLE perfsuite_tenant"
        ));
        assert_eq!(one::<i64>("SELECT count(*) FROM customers"), 2, "own live customers only");
        assert_eq!(one::<i64>(&format!("SELECT count(*) FROM customers WHERE company_id = '{COMPANY_B}'")), 0);
        assert_eq!(one::<i64>("SELECT count(*) FROM customers WHERE deleted_at IS NOT NULL"), 0);
        assert_eq!(one::<i64>("SELECT count(*) FROM customer_matching_keys"), 3, "keys of A's 3 customers (name only)");
        assert_eq!(one::<i64>("SELECT count(*) FROM companies"), 1);
        // With no company set, a tenant sees nothing.
        run("SELECT set_config('app.current_company_id', '', true)");
        assert_eq!(one::<i64>("SELECT count(*) FROM customers"), 0);
        run("RESET ROLE");
        assert_eq!(one::<i64>("SELECT count(*) FROM customers"), 6, "the owner sees everything");
    }

    #[pg_test]
    fn matching_keys_follow_customers() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        two_companies();
        // Through a CTE: Spi::get_one fetches with a row limit, which would stop the
        // INSERT before its AFTER STATEMENT trigger (the key sync) fires.
        let id = one::<pgrx::Uuid>(&format!(
            "WITH c AS (INSERT INTO customers (company_id, customer_name, customer_email, customer_phone)
             VALUES ('{COMPANY_A}', 'John Smith', ' John.Smith@Example.com', '+1-555-123-4567') RETURNING id) SELECT id FROM c"
        ));
        let keys = |t: &str| {
            Spi::get_one::<String>(&format!(
                "SELECT (SELECT normalized_value FROM customer_matching_keys WHERE customer_id = '{id}' AND key_type = '{t}')"
            ))
            .unwrap()
        };
        assert_eq!(keys("name").as_deref(), Some("john smith"));
        assert_eq!(keys("email").as_deref(), Some("john.smith@example.com"));
        assert_eq!(keys("phone").as_deref(), Some("15551234567"), "test 2.3 finds John by phone");
        run(&format!("UPDATE customers SET customer_phone = NULL, customer_email = 'js@x.org' WHERE id = '{id}'"));
        assert_eq!(keys("phone"), None, "a cleared phone drops its key");
        assert_eq!(keys("email").as_deref(), Some("js@x.org"), "no key left at the old value");
        // A client that inserts a key itself (the plan's helper does) updates instead of duplicating.
        run(&format!(
            "INSERT INTO customer_matching_keys (customer_id, key_type, key_value, normalized_value) VALUES ('{id}', 'name', 'J', 'j')"
        ));
        assert_eq!(one::<i64>(&format!("SELECT count(*) FROM customer_matching_keys WHERE customer_id = '{id}'")), 2);
        assert_eq!(keys("name").as_deref(), Some("j"));
    }

    #[pg_test]
    fn auto_sync_creates_then_matches_customer() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        two_companies();
        let insert = |email: &str, phone: &str, session: &str| {
            one::<pgrx::Uuid>(&format!(
                "INSERT INTO \"VC Usage\" (company_id, user_id, customer_name, customer_email, customer_phone, session_id, interaction_number, user_message, ai_response)
                 VALUES ('{COMPANY_A}', '{USER_A}', 'Bulk Customer 1', {email}, {phone}, '{session}', 1, 'q', 'a') RETURNING customer_id"
            ))
        };
        let first = insert("'bulk1@example.com'", "'+15550000001'", "s1");
        assert_eq!(one::<i64>(&format!("SELECT count(*) FROM customers WHERE id = '{first}' AND source = 'chat'")), 1);
        assert_eq!(
            one::<i64>(&format!("SELECT count(*) FROM customer_matching_keys WHERE customer_id = '{first}'")),
            3
        );
        // Same person again, by email in other case, then by phone only: no duplicate.
        assert_eq!(insert("'BULK1@example.com'", "NULL", "s2"), first);
        assert_eq!(insert("NULL", "'+1 (555) 000-0001'", "s3"), first);
        assert_eq!(one::<i64>(&format!("SELECT count(*) FROM customers WHERE company_id = '{COMPANY_A}'")), 1);
        // A new email is a new person even with a known phone (the plan's 3.1 relies on it).
        assert_ne!(insert("'someone.else@example.com'", "'+15550000001'", "s4"), first);
        // Another company's identical email is another customer.
        let other = one::<pgrx::Uuid>(&format!(
            "INSERT INTO \"VC Usage\" (company_id, customer_email, session_id) VALUES ('{COMPANY_B}', 'bulk1@example.com', 'x') RETURNING customer_id"
        ));
        assert_ne!(other, first);
    }
}
