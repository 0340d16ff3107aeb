//! The tables and columns of the customer-management schema that the plan's SQL uses.
//! A user's own schema is tested as it is once it has at least these.

/// (relation, columns the plan's queries, helpers and triggers read or write)
pub const REQUIRED: &[(&str, &[&str])] = &[
    ("companies", &["id", "name"]),
    ("users", &["id", "email", "company_id"]),
    (
        "customers",
        &[
            "id",
            "company_id",
            "customer_name",
            "customer_email",
            "customer_phone",
            "customer_address",
            "customer_notes",
            "status",
            "lifecycle_stage",
            "tags",
            "source",
            "created_by_user_id",
            "created_at",
            "deleted_at",
        ],
    ),
    ("customer_matching_keys", &["customer_id", "key_type", "key_value", "normalized_value"]),
    (
        "VC Usage",
        &[
            "company_id",
            "user_id",
            "customer_id",
            "customer_name",
            "customer_email",
            "customer_phone",
            "session_id",
            "interaction_number",
            "user_message",
            "ai_response",
            "created_at",
        ],
    ),
    ("customer_events", &["customer_id", "company_id", "event_type", "event_data", "created_at"]),
    ("customer_conversation_summaries", &["customer_id", "session_id"]),
    ("customer_metrics", &["customer_id", "total_conversations"]),
];

pub fn relation_names() -> Vec<&'static str> {
    REQUIRED.iter().map(|(t, _)| *t).collect()
}

/// Which of the required relations exist, given the relations found.
#[derive(Debug, PartialEq, Eq)]
pub enum Presence {
    None,
    All,
    /// Some but not all: (present, missing).
    Partial(Vec<&'static str>, Vec<&'static str>),
}

pub fn presence(found: &[String]) -> Presence {
    let (present, missing): (Vec<&str>, Vec<&str>) =
        relation_names().into_iter().partition(|r| found.iter().any(|f| f == r));
    match (present.is_empty(), missing.is_empty()) {
        (true, _) => Presence::None,
        (false, true) => Presence::All,
        (false, false) => Presence::Partial(present, missing),
    }
}

/// Required columns not found among `found` (relation, column) pairs, as "table.column".
pub fn missing_columns(found: &[(String, String)]) -> Vec<String> {
    REQUIRED
        .iter()
        .flat_map(|(table, cols)| cols.iter().map(move |c| (*table, *c)))
        .filter(|(t, c)| !found.iter().any(|(ft, fc)| ft == t && fc == c))
        .map(|(t, c)| format!("{t}.{c}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_classifies() {
        assert_eq!(presence(&[]), Presence::None);
        let all: Vec<String> = relation_names().iter().map(|s| s.to_string()).collect();
        assert_eq!(presence(&all), Presence::All);
        match presence(&["customers".to_string(), "unrelated".to_string()]) {
            Presence::Partial(p, m) => {
                assert_eq!(p, vec!["customers"]);
                assert!(m.contains(&"companies") && m.len() == REQUIRED.len() - 1);
            }
            other => panic!("expected Partial, got {other:?}"),
        }
    }

    #[test]
    fn reports_missing_columns() {
        let mut found: Vec<(String, String)> =
            REQUIRED.iter().flat_map(|(t, cs)| cs.iter().map(move |c| (t.to_string(), c.to_string()))).collect();
        assert!(missing_columns(&found).is_empty());
        found.retain(|(t, c)| !(t == "customers" && c == "deleted_at"));
        assert_eq!(missing_columns(&found), vec!["customers.deleted_at"]);
    }
}
