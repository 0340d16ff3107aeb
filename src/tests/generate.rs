#[pgrx::pg_schema]
mod tests {
    use crate::tests::{one, run, two_companies, COMPANY_A, USER_A, USER_B};
    use pgrx::prelude::*;

    fn content_hash(schema: &str) -> String {
        // Everything generated except timestamps (relative to now()): ids, names,
        // contacts, tags, keys, conversation and event content, in a fixed order.
        one::<String>(&format!(
            "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
               SELECT concat_ws(',', id, customer_name, customer_email, customer_phone, customer_address,
                                lifecycle_stage, tags::text, source) AS x FROM {schema}.customers
               UNION ALL SELECT concat_ws(',', id, customer_id, session_id, interaction_number, user_message) FROM {schema}.\"VC Usage\"
               UNION ALL SELECT concat_ws(',', id, customer_id, event_type, event_data::text) FROM {schema}.customer_events
               UNION ALL SELECT concat_ws(',', customer_id, key_type, normalized_value) FROM {schema}.customer_matching_keys) t"
        ))
    }

    #[pg_test]
    fn generates_the_plans_shape() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        two_companies();
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 250, '{USER_A}', 1)"));
        assert_eq!(one::<i64>(&format!("SELECT count(*) FROM customers WHERE company_id = '{COMPANY_A}'")), 250);
        assert_eq!(
            one::<i64>("SELECT count(*) FROM (SELECT customer_id, count(*) n FROM \"VC Usage\" GROUP BY 1) t WHERE n BETWEEN 3 AND 10"),
            250
        );
        assert_eq!(
            one::<i64>("SELECT count(*) FROM (SELECT customer_id, count(*) n FROM customer_events GROUP BY 1) t WHERE n BETWEEN 3 AND 7"),
            250
        );
        // Keys exactly for present values, via the schema's own trigger.
        assert_eq!(
            one::<i64>("SELECT count(*) FROM customer_matching_keys"),
            one::<i64>("SELECT count(*) + count(customer_email) + count(customer_phone) FROM customers")
        );
        assert_eq!(one::<i64>("SELECT count(*) FROM customer_metrics"), 250, "metrics refreshed");
        assert_eq!(one::<i64>("SELECT count(*) FROM customers WHERE customer_phone IS NOT NULL AND customer_phone !~ '^\\+1555[0-9]{7}$'"), 0);
        assert_eq!(one::<i64>("SELECT count(*) FROM \"VC Usage\" WHERE session_id <> 'session_' || customer_id || '_' || interaction_number"), 0);
        assert_eq!(
            one::<i64>(
                "SELECT count(*) FROM customers WHERE created_at < now() - interval '365 days' OR created_at > now()"
            ),
            0
        );
    }

    #[pg_test]
    fn same_seed_same_data() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        for s in ["g1", "g2", "g3"] {
            run(&format!(
                "CREATE SCHEMA {s}; SELECT perf_install_schema('{s}');
                          INSERT INTO {s}.companies (id, name) VALUES ('{COMPANY_A}', 'A');
                          INSERT INTO {s}.users (id, email, company_id) VALUES ('{USER_A}', 'a@a', '{COMPANY_A}');"
            ));
        }
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 120, '{USER_A}', 42, 'g1')"));
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 120, '{USER_A}', 42, 'g2')"));
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 120, '{USER_A}', 43, 'g3')"));
        assert_eq!(content_hash("g1"), content_hash("g2"));
        assert_ne!(content_hash("g1"), content_hash("g3"));
    }

    #[pg_test(error = "p_count must be between 1 and 10000000 (got 0)")]
    fn rejects_zero_count() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        two_companies();
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 0, '{USER_A}')"));
    }

    #[pg_test(error = "p_count must not be NULL")]
    fn rejects_null_count() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        two_companies();
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', NULL, '{USER_A}')"));
    }

    #[pg_test(error = "p_company_id 99999999-9999-9999-9999-999999999999 does not exist in public.companies")]
    fn rejects_unknown_company() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        two_companies();
        run(&format!("SELECT generate_test_customers('99999999-9999-9999-9999-999999999999', 5, '{USER_A}')"));
    }

    #[pg_test(
        error = "p_user_id bbbbbbbb-0000-0000-0000-00000000000b belongs to company aaaaaaaa-0000-0000-0000-00000000000b, not to p_company_id aaaaaaaa-0000-0000-0000-00000000000a"
    )]
    fn rejects_user_of_another_company() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        two_companies();
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 5, '{USER_B}')"));
    }

    fn reference_target() -> crate::sut::Target {
        crate::sut::ensure_schema(Some("public"), false)
    }

    #[pg_test]
    fn child_foreign_keys_checked_once_per_batch_on_the_reference_schema() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        two_companies();
        let plan = crate::generate::writer::Children::plan(&reference_target());
        let columns = |d: &Result<Vec<crate::generate::fk_batch::BatchCheck>, String>| {
            let mut c: Vec<String> = d.as_ref().expect("batch checks").iter().map(|k| k.columns.join("+")).collect();
            c.sort();
            c
        };
        // The customer is referenced together with its company (a tenant cannot attach
        // rows to another company's customer); the batch check covers both columns.
        assert_eq!(columns(&plan.conversations), ["company_id", "company_id+customer_id", "company_id+user_id"]);
        assert_eq!(columns(&plan.events), ["company_id", "company_id+customer_id"]);
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 120, '{USER_A}', 7)"));
        assert_eq!(one::<String>("SELECT current_setting('session_replication_role')"), "origin", "setting put back");
        // Every child row has its parents (what the skipped per-row checks guaranteed).
        assert_eq!(
            one::<i64>("SELECT count(*) FROM \"VC Usage\" v WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = v.customer_id)
                        OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = v.user_id)
                        OR NOT EXISTS (SELECT 1 FROM companies o WHERE o.id = v.company_id)"),
            0
        );
        assert_eq!(one::<i64>("SELECT count(*) FROM customer_events e WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = e.customer_id)"), 0);
    }

    /// A customer a user's trigger silently drops leaves its conversations without a
    /// parent: the batch check refuses them exactly as PostgreSQL's per-row check would.
    #[pg_test(
        error = "insert or update on table \"VC Usage\" violates foreign key constraint \"VC Usage_company_id_customer_id_fkey\""
    )]
    fn batch_check_refuses_children_of_a_missing_customer() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        two_companies();
        run("CREATE FUNCTION drop_some() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN IF NEW.customer_email IS NULL THEN RETURN NULL; END IF; RETURN NEW; END $$;
             CREATE TRIGGER drop_some BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION drop_some();");
        assert!(crate::generate::writer::Children::plan(&reference_target()).conversations.is_ok());
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 50, '{USER_A}', 7)"));
    }

    /// A user's own trigger on a child table must fire for every generated row, so that
    /// table keeps PostgreSQL's per-row checks.
    #[pg_test]
    fn user_trigger_on_a_child_table_keeps_per_row_checks_and_fires() {
        // Catalog rows every schema install or grant touches (the tenant role, the
        // schemas' ACLs): tests that change them take turns, or they deadlock.
        crate::tests::serialize_runs();
        two_companies();
        run("CREATE TABLE event_audit (n bigint NOT NULL DEFAULT 0); INSERT INTO event_audit VALUES (0);
             CREATE FUNCTION audit_event() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN UPDATE event_audit SET n = n + 1; RETURN NEW; END $$;
             CREATE TRIGGER audit_event AFTER INSERT ON customer_events FOR EACH ROW EXECUTE FUNCTION audit_event();");
        let plan = crate::generate::writer::Children::plan(&reference_target());
        assert_eq!(plan.events.as_ref().unwrap_err(), "trigger audit_event must fire for every row");
        assert!(plan.conversations.is_ok(), "the other table is unaffected");
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 40, '{USER_A}', 7)"));
        assert_eq!(one::<i64>("SELECT n FROM event_audit"), one::<i64>("SELECT count(*) FROM customer_events"));
        assert!(one::<i64>("SELECT n FROM event_audit") >= 120);
    }
}
