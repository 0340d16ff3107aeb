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
        // Keys exactly for present values (ERRATA 12), via the schema's own trigger.
        assert_eq!(
            one::<i64>("SELECT count(*) FROM customer_matching_keys"),
            one::<i64>("SELECT count(*) + count(customer_email) + count(customer_phone) FROM customers")
        );
        assert_eq!(one::<i64>("SELECT count(*) FROM customer_metrics"), 250, "metrics refreshed");
        assert_eq!(one::<i64>("SELECT count(*) FROM customers WHERE customer_phone IS NOT NULL AND customer_phone !~ '^\\+1555[0-9]{7}$'"), 0);
        assert_eq!(one::<i64>("SELECT count(*) FROM \"VC Usage\" WHERE session_id <> 'session_' || customer_id || '_' || interaction_number"), 0);
        assert_eq!(one::<i64>("SELECT count(*) FROM customers WHERE created_at < now() - interval '365 days' OR created_at > now()"), 0);
    }

    #[pg_test]
    fn same_seed_same_data() {
        for s in ["g1", "g2", "g3"] {
            run(&format!("CREATE SCHEMA {s}; SELECT perf_install_schema('{s}');
                          INSERT INTO {s}.companies (id, name) VALUES ('{COMPANY_A}', 'A');
                          INSERT INTO {s}.users (id, email, company_id) VALUES ('{USER_A}', 'a@a', '{COMPANY_A}');"));
        }
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 120, '{USER_A}', 42, 'g1')"));
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 120, '{USER_A}', 42, 'g2')"));
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 120, '{USER_A}', 43, 'g3')"));
        assert_eq!(content_hash("g1"), content_hash("g2"));
        assert_ne!(content_hash("g1"), content_hash("g3"));
    }

    #[pg_test(error = "p_count must be between 1 and 10000000 (got 0)")]
    fn rejects_zero_count() {
        two_companies();
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 0, '{USER_A}')"));
    }

    #[pg_test(error = "p_count must not be NULL")]
    fn rejects_null_count() {
        two_companies();
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', NULL, '{USER_A}')"));
    }

    #[pg_test(error = "p_company_id 99999999-9999-9999-9999-999999999999 does not exist in public.companies")]
    fn rejects_unknown_company() {
        two_companies();
        run(&format!("SELECT generate_test_customers('99999999-9999-9999-9999-999999999999', 5, '{USER_A}')"));
    }

    #[pg_test(error = "p_user_id bbbbbbbb-0000-0000-0000-00000000000b belongs to company aaaaaaaa-0000-0000-0000-00000000000b, not to p_company_id aaaaaaaa-0000-0000-0000-00000000000a")]
    fn rejects_user_of_another_company() {
        two_companies();
        run(&format!("SELECT generate_test_customers('{COMPANY_A}', 5, '{USER_B}')"));
    }
}
