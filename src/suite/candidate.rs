//! The index a sequential scan's filter asks for: B-tree on the columns it compares with
//! `=` (partial on those it tests for NULL), or GIN with `gin_trgm_ops` on a column it
//! matches with LIKE/ILIKE when nothing is compared with `=`. Read from EXPLAIN's
//! filter text, as printed by PostgreSQL.
//!
//! The filter and the relation's name reach here from stored findings, which operators
//! may write, and from the plan of SQL another role wrote: a statement built from them
//! must not be able to say anything but "this index on these columns". So a column is
//! taken only when it is a whole identifier (a plain one, or one complete double-quoted
//! identifier followed by a space), and the relation's name is always written quoted
//! as one identifier.

/// A candidate index: its columns and method, built into a statement by `ddl`.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub relation: String,
    /// B-tree key columns, or the one trigram column.
    pub columns: Vec<String>,
    /// `WHERE col IS NULL AND ...` of a partial index.
    pub null_columns: Vec<String>,
    pub trigram: bool,
}

impl Candidate {
    /// The candidate for a Seq Scan on `relation` with `filter`; None when the filter
    /// compares nothing an index could serve.
    pub fn for_filter(relation: &str, filter: &str) -> Option<Candidate> {
        let (eq, null) = index_columns(filter);
        let like = like_columns(filter);
        if !eq.is_empty() {
            Some(Candidate { relation: relation.to_string(), columns: eq, null_columns: null, trigram: false })
        } else {
            like.first().map(|c| Candidate {
                relation: relation.to_string(),
                columns: vec![c.clone()],
                null_columns: vec![],
                trigram: true,
            })
        }
    }

    /// `CREATE INDEX ON <relation> ...` with the relation and the trigram operator class
    /// written as given: the caller passes them quoted and qualified.
    pub fn ddl(&self, relation: &str, trgm_ops: &str) -> String {
        if self.trigram {
            return format!("CREATE INDEX ON {relation} USING gin ({} {trgm_ops})", self.columns[0]);
        }
        let predicate = if self.null_columns.is_empty() {
            String::new()
        } else {
            let tests: Vec<String> = self.null_columns.iter().map(|c| format!("{c} IS NULL")).collect();
            format!(" WHERE {}", tests.join(" AND "))
        };
        format!("CREATE INDEX ON {relation} ({}){predicate}", self.columns.join(", "))
    }

    /// The statement as a DBA would type it in the schema: `CREATE INDEX ON customers ...`
    /// (the relation quoted when it is not a plain lower-case name).
    pub fn plain_ddl(&self) -> String {
        self.ddl(&quote_ident(&self.relation), "gin_trgm_ops")
    }
}

/// Columns a filter compares with `=` or tests for NULL, in order: the columns an index
/// for this filter should lead with. `((company_id = '…'::uuid) AND (deleted_at IS NULL))`
/// gives `company_id` (equality) and reports `deleted_at IS NULL` as a partial-index predicate.
pub fn index_columns(filter: &str) -> (Vec<String>, Vec<String>) {
    let mut eq = Vec::new();
    let mut null = Vec::new();
    for (ident, rest) in filter.split(" AND ").filter_map(comparison) {
        if rest.starts_with("= ") && !eq.contains(&ident) {
            eq.push(ident);
        } else if rest.starts_with("IS NULL") && !null.contains(&ident) {
            null.push(ident);
        }
    }
    (eq, null)
}

/// Columns a filter matches with LIKE/ILIKE (`~~`, `~~*`): a trigram index serves
/// those, a b-tree does not when the pattern starts with a wildcard.
pub fn like_columns(filter: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (ident, rest) in filter.split(" OR ").flat_map(|p| p.split(" AND ")).filter_map(comparison) {
        if (rest.starts_with("~~ ") || rest.starts_with("~~* ")) && !out.contains(&ident) {
            out.push(ident);
        }
    }
    out
}

/// One condition of an EXPLAIN filter, "(company_id = 'x'::uuid)", as its leading
/// column and the rest ("= 'x'::uuid"); None when it does not start with a whole
/// identifier followed by a space.
fn comparison(part: &str) -> Option<(String, &str)> {
    let p = part.trim_matches(|c| c == '(' || c == ')' || c == ' ');
    let len = identifier_len(p)?;
    let rest = &p[len..];
    rest.starts_with(' ').then(|| (p[..len].to_string(), rest.trim_start()))
}

/// The length of the identifier `s` starts with: a plain one (a letter or `_`, then
/// letters, digits, `_`), or a double-quoted one with `""` for a quote inside.
fn identifier_len(s: &str) -> Option<usize> {
    let mut chars = s.char_indices();
    match chars.next()? {
        (_, '"') => {
            let mut in_quote_pair = false;
            for (i, c) in chars {
                if c == '"' {
                    if in_quote_pair {
                        in_quote_pair = false;
                    } else if s[i + 1..].starts_with('"') {
                        in_quote_pair = true;
                    } else {
                        return Some(i + 1);
                    }
                }
            }
            None
        }
        (_, c) if c.is_ascii_alphabetic() || c == '_' => {
            Some(s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len()))
        }
        _ => None,
    }
}

/// A name as one SQL identifier: as it is when plain lower-case, else double-quoted
/// with inner quotes doubled (PostgreSQL's quote_ident, keywords aside: a keyword as a
/// table name is quoted by the plan already).
pub fn quote_ident(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_columns() {
        let (eq, null) = index_columns("((deleted_at IS NULL) AND (company_id = 'x'::uuid))");
        assert_eq!(eq, vec!["company_id"]);
        assert_eq!(null, vec!["deleted_at"]);
        assert_eq!(index_columns("(customer_name % 'john'::text)"), (vec![], vec![]));
        assert_eq!(like_columns("(normalized_value ~~ '%john%'::text)"), vec!["normalized_value"]);
        assert_eq!(
            like_columns("((customer_name ~~* '%john%'::text) OR (customer_email ~~* '%john%'::text))"),
            vec!["customer_name", "customer_email"]
        );
        assert!(like_columns("(company_id = 'x'::uuid)").is_empty());
    }

    #[test]
    fn statements() {
        let c = Candidate::for_filter("customers", "((deleted_at IS NULL) AND (company_id = 'x'::uuid))").unwrap();
        assert_eq!(c.plain_ddl(), "CREATE INDEX ON customers (company_id) WHERE deleted_at IS NULL");
        assert_eq!(
            c.ddl("public.customers", "public.gin_trgm_ops"),
            "CREATE INDEX ON public.customers (company_id) WHERE deleted_at IS NULL"
        );
        let t = Candidate::for_filter("customer_matching_keys", "(normalized_value ~~ '%john%'::text)").unwrap();
        assert_eq!(
            t.ddl("s.customer_matching_keys", "ext.gin_trgm_ops"),
            "CREATE INDEX ON s.customer_matching_keys USING gin (normalized_value ext.gin_trgm_ops)"
        );
        assert!(Candidate::for_filter("customers", "(customer_name % 'john'::text)").is_none());
    }

    #[test]
    fn nothing_but_an_index_on_columns_can_be_said() {
        // A relation name that is a statement stays one quoted identifier.
        let c =
            Candidate::for_filter("sut.customers ((opsch.evil(1))) WHERE x IN", "(company_id = 'x'::uuid)").unwrap();
        assert_eq!(c.plain_ddl(), "CREATE INDEX ON \"sut.customers ((opsch.evil(1))) WHERE x IN\" (company_id)");
        assert_eq!(
            Candidate::for_filter("VC Usage", "(a = 1)").unwrap().plain_ddl(),
            "CREATE INDEX ON \"VC Usage\" (a)"
        );
        // Words glued to a quoted identifier (an operator class, an ordering) are not a column.
        let (eq, _) =
            index_columns("((customer_name <> 'q') AND (customer_name\"C\"DESC = 1) AND (company_id = 'x'::uuid))");
        assert_eq!(eq, vec!["company_id"]);
        assert_eq!(index_columns("(\"Odd \"\"Name\" = 1)").0, vec!["\"Odd \"\"Name\""]);
        assert_eq!(index_columns("(f(x) = 1)").0, Vec::<String>::new());
        assert_eq!(quote_ident("customers"), "customers");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
