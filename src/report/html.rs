//! A self-contained HTML page: the report's tables, a latency chart per timed test
//! against its target band, and the p95 trend across recent runs. Inline CSS and SVG
//! only, so it can be mailed or archived. Every chart element carries its numbers in
//! data- attributes and a <title> tooltip.

use std::fmt::Write;

use super::advice::Recommendation;
use super::markdown::is_timed;
use super::model::{ReportData, ResultRow};
use super::summary::{self, fmt_ms, fmt_num};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}th{background:#f3f3f3}\
.PASS{background:#d9f2d9}.WARN{background:#fff1c2}.FAIL,.ERROR{background:#f8d0d0}.SKIP{background:#e6e6e6}\
svg text{font-size:11px;font-family:sans-serif}.muted{color:#666}";

const W: f64 = 520.0;
const LABEL: f64 = 150.0;

/// One row of the latency chart: bands 0..target (green), target..acceptable (amber),
/// beyond (red); a whisker min..max, a box p50..p95, a mark at the verdict's figure.
fn latency_row(o: &mut String, r: &ResultRow, y: f64) {
    let target = r.target_ms.unwrap_or(0.0);
    let acceptable = r.acceptable_ms.unwrap_or(target);
    let measured = r.measured_ms.unwrap_or(0.0);
    let per_record = r.records.is_some();
    // Per-record tests carry per-record figures only in measured_ms.
    let (min, p50, p95, max) = if per_record {
        (None, None, None, None)
    } else {
        (r.min_ms, r.p50_ms, r.p95_ms, r.max_ms)
    };
    let top = [Some(acceptable * 1.2), Some(target * 1.5), max, Some(measured)].into_iter().flatten().fold(0.0, f64::max);
    let scale = if top > 0.0 { (W - LABEL - 10.0) / (top * 1.05) } else { 1.0 };
    let x = |v: f64| LABEL + v * scale;
    let _ = write!(
        o,
        "<g data-test=\"{}\" data-p95=\"{}\" data-target=\"{}\" data-measured=\"{}\" data-status=\"{}\">",
        esc(&r.test_id),
        p95.map(fmt_num).unwrap_or_default(),
        fmt_num(target),
        fmt_num(measured),
        r.status
    );
    let _ = write!(
        o,
        "<title>{} {}: {} {} ms{} (target &lt;{} ms), {}</title>",
        esc(&r.test_id),
        esc(&r.name),
        r.statistic.as_deref().unwrap_or(""),
        fmt_ms(measured),
        if per_record { " per record" } else { "" },
        fmt_num(target),
        r.status
    );
    let _ = write!(o, "<text x=\"0\" y=\"{}\">{}</text>", y + 12.0, esc(&r.test_id));
    let band = |o: &mut String, from: f64, to: f64, color: &str| {
        if to > from {
            let _ = write!(o, "<rect x=\"{:.1}\" y=\"{y}\" width=\"{:.1}\" height=\"16\" fill=\"{color}\"/>", x(from), (to - from) * scale);
        }
    };
    band(o, 0.0, target, "#d9f2d9");
    band(o, target, acceptable, "#fff1c2");
    band(o, acceptable.max(target), top * 1.05, "#f8d0d0");
    if let (Some(lo), Some(hi)) = (min, max) {
        let _ = write!(o, "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#555\"/>", x(lo), x(hi), y + 8.0, y + 8.0);
    }
    if let (Some(a), Some(b)) = (p50, p95) {
        let _ = write!(o, "<rect x=\"{:.1}\" y=\"{}\" width=\"{:.1}\" height=\"8\" fill=\"#4a78b5\"/>", x(a), y + 4.0, ((b - a) * scale).max(1.0));
    }
    let _ = write!(o, "<circle cx=\"{:.1}\" cy=\"{}\" r=\"4\" fill=\"#111\"/>", x(measured), y + 8.0);
    let _ = write!(o, "<text x=\"{:.1}\" y=\"{}\">{} ms</text>", (x(measured) + 6.0).min(W - 60.0), y + 12.0, fmt_ms(measured));
    o.push_str("</g>");
}

fn latency_chart(o: &mut String, data: &ReportData) {
    let rows: Vec<&ResultRow> = data.results.iter().filter(|r| is_timed(r) && r.measured_ms.is_some()).collect();
    if rows.is_empty() {
        return;
    }
    let h = rows.len() as f64 * 22.0 + 10.0;
    let _ = writeln!(o, "<h2>Latency against target bands</h2><p class=\"muted\">green: under target; amber: acceptable; red: failed. Line: min–max; box: p50–p95; dot: the verdict's figure.</p>");
    let _ = write!(o, "<svg id=\"latency\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\">");
    for (i, r) in rows.iter().enumerate() {
        latency_row(o, r, 5.0 + i as f64 * 22.0);
    }
    o.push_str("</svg>\n");
}

/// Sparklines of each test's figure over recent runs, with the target as a dashed line.
fn trend_chart(o: &mut String, data: &ReportData) {
    let mut tests: Vec<&str> = data.history.iter().map(|p| p.test_id.as_str()).collect();
    tests.dedup();
    tests.sort();
    tests.dedup();
    let series: Vec<(&str, Vec<_>)> = tests
        .into_iter()
        .map(|t| (t, data.history.iter().filter(|p| p.test_id == t).collect::<Vec<_>>()))
        .filter(|(_, pts)| pts.len() >= 2)
        .collect();
    if series.is_empty() {
        return;
    }
    let _ = writeln!(o, "<h2>Trend across runs</h2>");
    let (w, h) = (W, 24.0 * series.len() as f64 + 10.0);
    let _ = write!(o, "<svg id=\"trend\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">");
    for (i, (test, pts)) in series.iter().enumerate() {
        let y0 = 5.0 + i as f64 * 24.0;
        let target = data.results.iter().find(|r| r.test_id == *test).and_then(|r| r.target_ms);
        let top = pts.iter().map(|p| p.measured_ms).chain(target).fold(0.0, f64::max).max(1e-9);
        let step = (w - LABEL - 20.0) / (pts.len() - 1) as f64;
        let yy = |v: f64| y0 + 18.0 - v / top * 18.0;
        let _ = write!(o, "<g data-test=\"{}\"><text x=\"0\" y=\"{}\">{}</text>", esc(test), y0 + 14.0, esc(test));
        if let Some(t) = target {
            let _ = write!(o, "<line x1=\"{LABEL}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#c33\" stroke-dasharray=\"3,3\"/>", w - 20.0, yy(t), yy(t));
        }
        let points: Vec<String> = pts.iter().enumerate().map(|(k, p)| format!("{:.1},{:.1}", LABEL + k as f64 * step, yy(p.measured_ms))).collect();
        let _ = write!(o, "<polyline fill=\"none\" stroke=\"#4a78b5\" points=\"{}\"/>", points.join(" "));
        for (k, p) in pts.iter().enumerate() {
            let _ = write!(
                o,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" data-run=\"{}\" data-ms=\"{}\"><title>run {}: {} ms</title></circle>",
                LABEL + k as f64 * step,
                yy(p.measured_ms),
                p.run_id,
                fmt_num(p.measured_ms),
                p.run_id,
                fmt_ms(p.measured_ms)
            );
        }
        o.push_str("</g>");
    }
    o.push_str("</svg>\n");
}

pub fn render(data: &ReportData, recs: &[Recommendation]) -> String {
    let run = &data.run;
    let c = summary::counts(&data.results);
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pg_perfsuite run {}</title><style>{CSS}</style></head><body>\n",
        run.run_id
    );
    let _ = writeln!(o, "<h1>Performance Test Report — run {}</h1>", run.run_id);
    let _ = writeln!(
        o,
        "<p><b>Test Date</b>: {} &nbsp; <b>Environment</b>: {} ({}, {}) &nbsp; <b>Data Volume</b>: {} customers, {} conversations</p>",
        esc(run.started_at.as_deref().unwrap_or("-")),
        esc(&run.pg_version),
        esc(&run.database),
        esc(&run.database_size),
        run.data_volume.get("customers").copied().unwrap_or(0),
        run.data_volume.get("VC Usage").copied().unwrap_or(0)
    );
    let overall = run.overall.as_deref().unwrap_or(&run.status);
    let _ = writeln!(
        o,
        "<h2>Executive Summary</h2><p>Overall Result: <span id=\"overall\" class=\"{}\">{}</span> — {} passed, {} warned, {} failed, {} errors, {} skipped</p>",
        esc(overall),
        esc(overall),
        c.pass,
        c.warn,
        c.fail,
        c.error,
        c.skip
    );
    let _ = writeln!(o, "<h2>Success Criteria Summary</h2><table><tr><th>Test Scenario</th><th>Test</th><th>Target</th><th>Actual</th><th>Status</th></tr>");
    for cr in summary::criteria(data) {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            cr.scenario,
            cr.test_id,
            esc(&cr.target),
            esc(&cr.actual),
            cr.status,
            cr.status
        );
    }
    o.push_str("</table>\n");
    latency_chart(&mut o, data);
    trend_chart(&mut o, data);
    let _ = writeln!(o, "<h2>Detailed Results</h2><table id=\"results\"><tr><th>Test</th><th>Name</th><th>Statistic</th><th>Target ms</th><th>Actual</th><th>Status</th><th>Notes</th></tr>");
    for r in &data.results {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            esc(&r.test_id),
            esc(&r.name),
            esc(r.statistic.as_deref().unwrap_or("-")),
            r.target_ms.map(fmt_num).unwrap_or_else(|| "-".into()),
            r.measured_ms.map(fmt_ms).or(r.actual_value.map(fmt_num)).unwrap_or_else(|| "-".into()),
            r.status,
            r.status,
            esc(r.notes.as_deref().unwrap_or(""))
        );
    }
    o.push_str("</table>\n<h2>Recommendations</h2>");
    if recs.is_empty() {
        o.push_str("<p>None: this run shows no evidence of a problem.</p>");
    } else {
        o.push_str("<ol>");
        for r in recs {
            let _ = write!(o, "<li><b>{}</b>: {}<br>→ {}</li>", r.kind, esc(&r.evidence), esc(&r.action));
        }
        o.push_str("</ol>");
    }
    o.push_str("\n</body></html>\n");
    o
}
