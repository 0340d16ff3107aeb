//! TAP output in pgTAP's shape, so `pg_prove` and any TAP harness read it: a plan line
//! `1..N`, then `ok N - description` / `not ok N - description`, SKIP as a directive,
//! diagnostics as `# ` lines. WARN (within the acceptable band) is a pass with a note.

use std::fmt::Write;

use super::model::ReportData;

pub fn render(data: &ReportData) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "1..{}", data.results.len());
    for (i, r) in data.results.iter().enumerate() {
        let n = i + 1;
        let desc = format!("{} {}", r.test_id, r.name).replace('#', "\\#");
        let notes = r.notes.as_deref().unwrap_or("");
        match r.status.as_str() {
            "PASS" => {
                let _ = writeln!(o, "ok {n} - {desc}");
            }
            "WARN" => {
                let _ = writeln!(o, "ok {n} - {desc}");
                let _ = writeln!(o, "# WARN: {notes}");
            }
            "SKIP" => {
                let _ = writeln!(o, "ok {n} - {desc} # SKIP {}", notes.trim_start_matches("SKIP: "));
            }
            other => {
                let _ = writeln!(o, "not ok {n} - {desc}");
                let _ = writeln!(o, "# {other}: {notes}");
            }
        }
    }
    let failed = data.results.iter().filter(|r| matches!(r.status.as_str(), "FAIL" | "ERROR")).count();
    if failed > 0 {
        let _ = writeln!(o, "# Looks like you failed {failed} test{} of {}", if failed == 1 { "" } else { "s" }, data.results.len());
    }
    o
}
