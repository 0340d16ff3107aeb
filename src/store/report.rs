//! What a report is built from: one run, its results, the run before it and the
//! recent history, read in one statement (one snapshot).

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::{raise, OrInternal};
use crate::report::model::ReportData;

const LOAD: &str = include_str!("../../sql/queries/report.sql");

/// The report data of `run_id` (the latest run when None); P0002 when there is none.
pub fn load(run_id: Option<i64>) -> ReportData {
    // As text: a number no float can hold (1e400 in a jsonb column) or nesting deeper
    // than a JSON reader allows would fail a conversion to JSON before any check here.
    let doc =
        Spi::get_one_with_args::<String>(&format!("SELECT ({})::pg_catalog.text", LOAD.trim_end()), &[run_id.into()])
            .ok()
            .flatten();
    let Some(doc) = doc else {
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
    // Runs and results are rows operators may write: whatever they hold, the report is
    // made. Numbers no float holds and values nested too deep become null; NaN and
    // infinite figures (the JSON strings "NaN", "Infinity") become missing; each part of
    // the document (the run, each result, the previous run, the history, ...) is read
    // on its own, and a part that does not read is left out, never failing the rest.
    let doc: serde_json::Value = serde_json::from_str(&readable_json(&doc)).or_internal("report document as JSON");
    report_data(without_non_finite(one_line_text(doc, None)))
}

/// The document's parts, each read on its own: a result that does not read as one is
/// left out (and counted in the run's notes), any other part that does not read is
/// empty.
fn report_data(doc: serde_json::Value) -> ReportData {
    use serde::de::DeserializeOwned;
    use serde_json::Value;
    fn part<T: DeserializeOwned + Default>(doc: &Value, key: &str) -> T {
        doc.get(key).cloned().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
    }
    /// A list part read element by element: one unreadable row leaves out itself only.
    fn list_part<T: DeserializeOwned>(doc: &Value, key: &str) -> Vec<T> {
        let items = doc.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
        items.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect()
    }
    let rows: Vec<Value> = doc.get("results").and_then(Value::as_array).cloned().unwrap_or_default();
    let total = rows.len();
    let results: Vec<crate::report::model::ResultRow> =
        rows.into_iter().filter_map(|r| serde_json::from_value(r).ok()).collect();
    let mut data = ReportData {
        run: part(&doc, "run"),
        previous: part(&doc, "previous"),
        health: part(&doc, "health"),
        history: part(&doc, "history"),
        monitor: part(&doc, "monitor"),
        load_tests: list_part(&doc, "load_tests"),
        capacity: list_part(&doc, "capacity"),
        results,
    };
    if data.results.len() < total {
        let unread =
            format!("{} of {total} results of this run could not be read and are left out", total - data.results.len());
        data.run.notes = Some(match data.run.notes.take() {
            Some(n) if !n.is_empty() => format!("{n}; {unread}"),
            _ => unread,
        });
    }
    data
}

/// Deepest nesting a report document keeps (a JSON reader stops at 128).
const MAX_DEPTH: usize = 64;

/// `json` (valid JSON text) with every number no f64 holds, and every value nested
/// deeper than `MAX_DEPTH`, written as null; strings are copied as they are.
fn readable_json(json: &str) -> String {
    let b = json.as_bytes();
    let mut out = String::with_capacity(json.len());
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let end = string_end(b, i);
                out.push_str(&json[i..end]);
                i = end;
            }
            b'[' | b'{' if depth >= MAX_DEPTH => {
                out.push_str("null");
                i = value_end(b, i);
            }
            b'[' | b'{' => {
                depth += 1;
                out.push(b[i] as char);
                i += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                out.push(b[i] as char);
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let end = i + b[i..]
                    .iter()
                    .take_while(|c| matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                    .count();
                let token = &json[i..end];
                out.push_str(if token.parse::<f64>().is_ok_and(f64::is_finite) { token } else { "null" });
                i = end;
            }
            _ => {
                // Multi-byte characters occur only inside strings; anything else here is
                // ASCII punctuation, whitespace, or a literal (true, false, null).
                out.push(b[i] as char);
                i += 1;
            }
        }
    }
    out
}

/// Index just past the string that starts at `i` (a `"`), escapes included.
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Index just past the array or object that starts at `i`.
fn value_end(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = string_end(b, i);
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
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
    fn numbers_and_depths_no_reader_takes_become_null() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let text =
            format!(r#"{{"a": 1e400, "b": [-1e999, 2.5, "1e400 \" ["], "c": {deep}, "d": -9223372036854775808}}"#);
        let clean = super::readable_json(&text);
        let v: serde_json::Value = serde_json::from_str(&clean).expect(&clean);
        assert_eq!(v["a"], serde_json::Value::Null);
        assert_eq!(v["b"], serde_json::json!([null, 2.5, "1e400 \" ["]));
        assert_eq!(v["d"], serde_json::json!(-9223372036854775808i64));
        let mut depth = 0;
        let mut x = &v["c"];
        while let Some(inner) = x.get(0) {
            depth += 1;
            x = inner;
        }
        assert!(depth < 64, "{depth}");
    }

    #[test]
    fn a_part_that_does_not_read_is_left_out() {
        let doc = serde_json::json!({
            "run": {"run_id": 3, "status": "completed", "settings": {"work_mem": 5}},
            "results": [{"test_id": "1.1", "name": "ok", "status": "PASS"}, {"test_id": null, "name": 1}],
            "previous": {"run_id": "x"},
        });
        let data = super::report_data(doc);
        assert_eq!(data.results.len(), 1);
        assert!(data.previous.is_none());
        assert_eq!(data.run.run_id, 0, "the run part did not read: empty, not a failure");
        assert_eq!(data.run.notes.as_deref(), Some("1 of 2 results of this run could not be read and are left out"));
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
