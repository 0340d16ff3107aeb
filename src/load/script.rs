//! Load scripts, pgbench-style: statements separated by `;` at the end of a line,
//! variables written `:name` (not `::cast`), bound as text parameters `$1, $2, ...`
//! (cast them in the SQL: `:company_id::uuid`). Variables are fixed strings or a list
//! to pick from at random per transaction (pgbench's `\set x random(...)`).

use rand::Rng;
use serde_json::Value;

/// One statement with its variables replaced by `$n`, and their names in `$n` order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub vars: Vec<String>,
}

pub fn parse(script: &str) -> Result<Vec<Statement>, String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in script.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with(';') {
            out.push(bind_vars(current.trim().trim_end_matches(';').trim()));
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(bind_vars(current.trim()));
    }
    if out.is_empty() {
        return Err("the script has no statements".into());
    }
    Ok(out)
}

fn bind_vars(sql: &str) -> Statement {
    let chars: Vec<char> = sql.chars().collect();
    let mut vars: Vec<String> = Vec::new();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    let mut in_quote = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            in_quote = !in_quote;
        }
        let starts_var = !in_quote
            && c == ':'
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic() || *n == '_')
            && (i == 0 || chars[i - 1] != ':');
        if starts_var {
            let name: String = chars[i + 1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '_').collect();
            let n = match vars.iter().position(|v| *v == name) {
                Some(p) => p + 1,
                None => {
                    vars.push(name.clone());
                    vars.len()
                }
            };
            out.push_str(&format!("${n}"));
            i += 1 + name.len();
            continue;
        }
        out.push(c);
        i += 1;
    }
    Statement { sql: out, vars }
}

/// Values of the variables for one transaction.
pub fn pick(vars: &[String], values: &Value, rng: &mut impl Rng) -> Result<Vec<String>, String> {
    vars.iter()
        .map(|name| match values.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(Value::Array(choices)) if !choices.is_empty() => {
                let v = &choices[rng.random_range(0..choices.len())];
                Ok(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
            }
            _ => Err(format!("variable :{name} has no value (give it one in the variables argument)")),
        })
        .collect()
}

/// Every variable the statements use has a value.
pub fn check_variables(statements: &[Statement], values: &Value) -> Result<(), String> {
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    for s in statements {
        pick(&s.vars, values, &mut rng)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statements_and_variables() {
        let s = parse(
            "-- list\nSELECT * FROM customers\nWHERE company_id = :company_id::uuid AND name = ':not_a_var'\nLIMIT 50;\n\
             SELECT * FROM customers WHERE company_id = :company_id::uuid AND customer_name % :search_term LIMIT 10;",
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].sql, "SELECT * FROM customers\nWHERE company_id = $1::uuid AND name = ':not_a_var'\nLIMIT 50");
        assert_eq!(s[0].vars, vec!["company_id"]);
        assert_eq!(s[1].sql, "SELECT * FROM customers WHERE company_id = $1::uuid AND customer_name % $2 LIMIT 10");
        assert_eq!(s[1].vars, vec!["company_id", "search_term"]);
        assert!(parse("-- only a comment\n").is_err());
    }

    #[test]
    fn picks_fixed_and_random_values() {
        let values = json!({"company_id": ["a", "b"], "search_term": "john", "n": 5});
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(7);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let v = pick(&["company_id".into(), "search_term".into(), "n".into()], &values, &mut rng).unwrap();
            assert_eq!(&v[1..], ["john", "5"]);
            seen.insert(v[0].clone());
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec!["a", "b"]);
        assert!(pick(&["missing".into()], &values, &mut rng).unwrap_err().contains(":missing"));
    }
}
