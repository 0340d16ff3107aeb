//! What a report is built from: one run, its results, the run before it and the
//! recent history, read in one statement (one snapshot).

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::{raise, OrInternal};
use crate::report::model::ReportData;

const LOAD: &str = include_str!("../../sql/queries/report.sql");

/// The report data of `run_id` (the latest run when None); P0002 when there is none.
pub fn load(run_id: Option<i64>) -> ReportData {
    let doc = Spi::get_one_with_args::<pgrx::JsonB>(LOAD, &[run_id.into()]).ok().flatten();
    let Some(pgrx::JsonB(doc)) = doc else {
        match run_id {
            Some(id) => raise(
                Code::ERRCODE_NO_DATA_FOUND,
                format!("run {id} does not exist"),
                Some("SELECT run_id, started_at, status FROM perf_runs ORDER BY run_id DESC; lists the runs."),
            ),
            None => raise(
                Code::ERRCODE_NO_DATA_FOUND,
                "there are no runs to report on",
                Some("Run SELECT * FROM perf_run_all(); first."),
            ),
        }
    };
    // Invariant: the document is built by LOAD with the fields ReportData declares
    // (all optional or defaulted); a mismatch is a bug in this file, not user input.
    // Except one: results are rows operators may write, and PostgreSQL turns a NaN or
    // infinite numeric into the JSON strings "NaN" / "Infinity". Such a figure is read
    // as missing rather than failing the whole report.
    let doc = one_line_text(doc, None);
    match serde_json::from_value(doc.clone()) {
        Ok(data) => data,
        Err(_) => serde_json::from_value(without_non_finite(doc)).or_internal("report document matches ReportData"),
    }
}

/// Every string of `doc` with its control characters (newlines, carriage returns, tabs,
/// escape sequences) turned into spaces, but the tests' SQL (whose line comments need
/// their newlines). Names, notes and messages are operators' text: on one line they
/// cannot start a heading or a table row of their own in a report, nor reach a
/// terminal as escape codes.
fn one_line_text(doc: serde_json::Value, key: Option<&str>) -> serde_json::Value {
    use serde_json::Value;
    match doc {
        Value::String(s) if key != Some("sql") && s.chars().any(char::is_control) => {
            Value::String(s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|v| one_line_text(v, key)).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| {
                    let v = one_line_text(v, Some(&k));
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

/// `doc` with every "NaN", "Infinity" and "-Infinity" string made null (in an object)
/// or dropped (from an array).
fn without_non_finite(doc: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let non_finite = |v: &Value| matches!(v.as_str(), Some("NaN" | "Infinity" | "-Infinity"));
    match doc {
        Value::Array(items) => {
            Value::Array(items.into_iter().filter(|v| !non_finite(v)).map(without_non_finite).collect())
        }
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| if non_finite(&v) { (k, Value::Null) } else { (k, without_non_finite(v)) })
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_kept_on_one_line_but_sql() {
        let doc = serde_json::json!({"name": "a\n## forged\r\u{1b}]52;x", "sql": "SELECT 1 -- c\nFROM t", "n": [{"notes": "x\ty"}]});
        assert_eq!(
            super::one_line_text(doc, None),
            serde_json::json!({"name": "a ## forged  ]52;x", "sql": "SELECT 1 -- c\nFROM t", "n": [{"notes": "x y"}]})
        );
    }

    #[test]
    fn non_finite_figures_become_missing() {
        let doc = serde_json::json!({"a": "NaN", "b": [1.0, "Infinity", 2.0], "c": {"d": "-Infinity", "e": "x"}});
        assert_eq!(
            super::without_non_finite(doc),
            serde_json::json!({"a": null, "b": [1.0, 2.0], "c": {"d": null, "e": "x"}})
        );
    }
}
