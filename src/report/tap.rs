//! TAP output in pgTAP's shape, so `pg_prove` and any TAP harness read it: a plan line
//! `1..N`, then `ok N - description` / `not ok N - description`, SKIP as a directive,
//! diagnostics as `# ` lines. WARN (within the acceptable band) is a pass with a note.

use std::fmt::Write;

use super::model::{ReportData, Verdict};
use super::summary;

/// One line of TAP: every control character (newline, carriage return, tab, ...) becomes
/// a space, so no field can start a line of its own (a forged `ok 99`).
pub fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

pub fn render(data: &ReportData) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "1..{}", data.results.len());
    for (i, r) in data.results.iter().enumerate() {
        let n = i + 1;
        // A `#` starts a directive (TODO, SKIP) unless escaped, and a backslash already
        // there would turn the escape back into a plain `\` before a live `#`.
        let desc = one_line(&format!("{} {}", r.test_id, r.name)).replace('\\', "\\\\").replace('#', "\\#");
        let notes = one_line(r.notes.as_deref().unwrap_or(""));
        let notes = notes.as_str();
        match r.status {
            Verdict::Pass => {
                let _ = writeln!(o, "ok {n} - {desc}");
            }
            Verdict::Warn => {
                let _ = writeln!(o, "ok {n} - {desc}");
                let _ = writeln!(o, "# WARN: {notes}");
            }
            Verdict::Skip => {
                let _ = writeln!(o, "ok {n} - {desc} # SKIP {}", notes.trim_start_matches("SKIP: "));
            }
            other => {
                let _ = writeln!(o, "not ok {n} - {desc}");
                let _ = writeln!(o, "# {other}: {notes}");
            }
        }
        if let (Some(w), Some(res)) = (&r.waits, &r.resources) {
            if r.status != Verdict::Skip {
                let _ = writeln!(o, "# {}; {}", summary::top_waits(w, 3), summary::resources_line(res));
            }
        }
    }
    let failed = data.results.iter().filter(|r| r.status.failed()).count();
    if failed > 0 {
        let _ = writeln!(
            o,
            "# Looks like you failed {failed} test{} of {}",
            if failed == 1 { "" } else { "s" },
            data.results.len()
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_name_cannot_make_a_failure_a_todo() {
        use crate::report::model::{ReportData, ResultRow, Verdict};
        let r = ResultRow {
            test_id: "4.2".into(),
            name: "count \\# TODO not a failure".into(),
            status: Verdict::Fail,
            ..Default::default()
        };
        let tap = super::render(&ReportData { results: vec![r], ..Default::default() });
        assert!(tap.contains("not ok 1 - 4.2 count \\\\\\# TODO not a failure"), "{tap}");
    }

    #[test]
    fn fields_stay_on_their_line() {
        assert_eq!(one_line("a\nok 99 - forged\r\tb"), "a ok 99 - forged  b");
        assert_eq!(one_line("plain"), "plain");
    }
}
