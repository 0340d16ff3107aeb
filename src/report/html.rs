//! A self-contained HTML page: the report's tables, a latency chart per timed test
//! against its target band, and the p95 trend across recent runs. Inline CSS and SVG
//! only, so it can be mailed or archived. Every chart element carries its numbers in
//! data- attributes and a <title> tooltip.

use std::fmt::{self, Display, Write};

use super::advice::Recommendation;
use super::markdown::is_timed;
use super::model::{CapacityStep, ReportData, ResultRow};
use super::summary::{self, fmt_ms, fmt_num};

/// The one escaping path: every value interpolated into the page goes through this
/// wrapper (the `h!` macro wraps each argument), so text from the database (test names,
/// notes, statistics, errors) can never become markup.
struct Esc<'a, T: ?Sized>(&'a T);

/// Writes through to a formatter, escaping what HTML and attribute values treat as syntax.
struct Escaper<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl Write for Escaper<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '&' => self.0.write_str("&amp;")?,
                '<' => self.0.write_str("&lt;")?,
                '>' => self.0.write_str("&gt;")?,
                '"' => self.0.write_str("&quot;")?,
                '\'' => self.0.write_str("&#39;")?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

impl<T: Display + ?Sized> Display for Esc<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep a precision such as {:.1} for numbers.
        let precision = f.precision();
        let mut w = Escaper(f);
        match precision {
            Some(p) => write!(w, "{:.*}", p, self.0),
            None => write!(w, "{}", self.0),
        }
    }
}

/// `write!` with every argument escaped. Format strings hold only markup and inline
/// numeric constants; all data comes in as arguments.
macro_rules! h {
    ($o:expr, $fmt:literal $(, $arg:expr)* $(,)?) => {{
        let _ = write!($o, $fmt $(, Esc(&$arg))*);
    }};
}

/// `h!` plus a newline.
macro_rules! hln {
    ($o:expr, $fmt:literal $(, $arg:expr)* $(,)?) => {{
        h!($o, $fmt $(, $arg)*);
        $o.push('\n');
    }};
}

const CSS: &str =
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}\
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
    let (min, p50, p95, max) =
        if per_record { (None, None, None, None) } else { (r.min_ms, r.p50_ms, r.p95_ms, r.max_ms) };
    let top =
        [Some(acceptable * 1.2), Some(target * 1.5), max, Some(measured)].into_iter().flatten().fold(0.0, f64::max);
    let scale = if top > 0.0 { (W - LABEL - 10.0) / (top * 1.05) } else { 1.0 };
    let x = |v: f64| LABEL + v * scale;
    h!(
        o,
        "<g data-test=\"{}\" data-p95=\"{}\" data-target=\"{}\" data-measured=\"{}\" data-status=\"{}\">",
        r.test_id,
        p95.map(fmt_num).unwrap_or_default(),
        fmt_num(target),
        fmt_num(measured),
        r.status
    );
    h!(
        o,
        "<title>{} {}: {} {} ms{} (target &lt;{} ms), {}</title>",
        r.test_id,
        r.name,
        r.statistic.as_deref().unwrap_or(""),
        fmt_ms(measured),
        if per_record { " per record" } else { "" },
        fmt_num(target),
        r.status
    );
    h!(o, "<text x=\"0\" y=\"{}\">{}</text>", y + 12.0, r.test_id);
    let band = |o: &mut String, from: f64, to: f64, color: &str| {
        if to > from {
            h!(
                o,
                "<rect x=\"{:.1}\" y=\"{}\" width=\"{:.1}\" height=\"16\" fill=\"{}\"/>",
                x(from),
                y,
                (to - from) * scale,
                color
            );
        }
    };
    band(o, 0.0, target, "#d9f2d9");
    band(o, target, acceptable, "#fff1c2");
    band(o, acceptable.max(target), top * 1.05, "#f8d0d0");
    if let (Some(lo), Some(hi)) = (min, max) {
        h!(o, "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#555\"/>", x(lo), x(hi), y + 8.0, y + 8.0);
    }
    if let (Some(a), Some(b)) = (p50, p95) {
        h!(
            o,
            "<rect x=\"{:.1}\" y=\"{}\" width=\"{:.1}\" height=\"8\" fill=\"#4a78b5\"/>",
            x(a),
            y + 4.0,
            ((b - a) * scale).max(1.0)
        );
    }
    h!(o, "<circle cx=\"{:.1}\" cy=\"{}\" r=\"4\" fill=\"#111\"/>", x(measured), y + 8.0);
    h!(o, "<text x=\"{:.1}\" y=\"{}\">{} ms</text>", (x(measured) + 6.0).min(W - 60.0), y + 12.0, fmt_ms(measured));
    o.push_str("</g>");
}

fn latency_chart(o: &mut String, data: &ReportData) {
    let rows: Vec<&ResultRow> = data.results.iter().filter(|r| is_timed(r) && r.measured_ms.is_some()).collect();
    if rows.is_empty() {
        return;
    }
    let h = rows.len() as f64 * 22.0 + 10.0;
    hln!(o, "<h2>Latency against target bands</h2><p class=\"muted\">green: under target; amber: acceptable; red: failed. Line: min–max; box: p50–p95; dot: the verdict's figure.</p>");
    h!(o, "<svg id=\"latency\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\">");
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
    hln!(o, "<h2>Trend across runs</h2>");
    let (w, h) = (W, 24.0 * series.len() as f64 + 10.0);
    h!(o, "<svg id=\"trend\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">");
    for (i, (test, pts)) in series.iter().enumerate() {
        let y0 = 5.0 + i as f64 * 24.0;
        let target = data.results.iter().find(|r| r.test_id == *test).and_then(|r| r.target_ms);
        let top = pts.iter().map(|p| p.measured_ms).chain(target).fold(0.0, f64::max).max(1e-9);
        let step = (w - LABEL - 20.0) / (pts.len() - 1) as f64;
        let yy = |v: f64| y0 + 18.0 - v / top * 18.0;
        h!(o, "<g data-test=\"{}\"><text x=\"0\" y=\"{}\">{}</text>", test, y0 + 14.0, test);
        if let Some(t) = target {
            h!(o, "<line x1=\"{LABEL}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#c33\" stroke-dasharray=\"3,3\"/>", w - 20.0, yy(t), yy(t));
        }
        let points: Vec<String> = pts
            .iter()
            .enumerate()
            .map(|(k, p)| format!("{:.1},{:.1}", LABEL + k as f64 * step, yy(p.measured_ms)))
            .collect();
        h!(o, "<polyline fill=\"none\" stroke=\"#4a78b5\" points=\"{}\"/>", points.join(" "));
        for (k, p) in pts.iter().enumerate() {
            h!(
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

/// CPU and memory over the run, one point per monitoring sample (each names its test),
/// with the plan's limits (CPU 80 %, memory 90 %) as dashed lines.
fn monitor_chart(o: &mut String, data: &ReportData) {
    let points = &data.monitor;
    if points.len() < 2 {
        return;
    }
    let (w, h, top) = (W, 140.0, 10.0);
    let step = (w - 40.0) / (points.len() - 1) as f64;
    let x = |i: usize| 30.0 + i as f64 * step;
    let y = |pct: f64| top + (100.0 - pct.clamp(0.0, 100.0)) * 1.1;
    hln!(o, "<h2>Machine during the run</h2><p class=\"muted\">blue: CPU busy % over each test; grey: memory used %; dashed: the plan's limits (CPU 80 %, memory 90 %). Hover a point for its test.</p>");
    h!(o, "<svg id=\"monitor\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">");
    for (limit, colour) in [(80.0, "#4a78b5"), (90.0, "#888")] {
        h!(
            o,
            "<line x1=\"30\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-dasharray=\"3,3\"/>",
            w - 10.0,
            y(limit),
            y(limit),
            colour
        );
    }
    h!(o, "<text x=\"0\" y=\"{:.1}\">100%</text><text x=\"0\" y=\"{:.1}\">0%</text>", y(100.0) + 4.0, y(0.0));
    for (series, colour, get) in [
        ("cpu", "#4a78b5", (|p: &crate::report::model::MonitorPoint| p.cpu_pct) as fn(&_) -> Option<f64>),
        ("memory", "#888", |p| p.mem_pct),
    ] {
        let line: Vec<String> =
            points.iter().enumerate().filter_map(|(i, p)| get(p).map(|v| format!("{:.1},{:.1}", x(i), y(v)))).collect();
        h!(o, "<polyline class=\"{}\" fill=\"none\" stroke=\"{}\" points=\"{}\"/>", series, colour, line.join(" "));
        for (i, p) in points.iter().enumerate() {
            if let Some(v) = get(p) {
                h!(
                    o,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\" fill=\"{}\" data-test=\"{}\" data-{}=\"{:.1}\"><title>{}: {} {:.0} %</title></circle>",
                    x(i),
                    y(v),
                    colour,
                    p.test_id,
                    series,
                    v,
                    p.test_id,
                    series,
                    v
                );
            }
        }
    }
    o.push_str("</svg>\n");
}

/// A table from headers and rows of cells, every cell escaped.
fn table(o: &mut String, id: &str, headers: &[&str], rows: &[Vec<String>]) {
    h!(o, "<table id=\"{}\"><tr>", id);
    for hd in headers {
        h!(o, "<th>{}</th>", hd);
    }
    o.push_str("</tr>\n");
    for row in rows {
        o.push_str("<tr>");
        for c in row {
            h!(o, "<td>{}</td>", c);
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
}

/// The run's load tests and capacity steps as tables.
fn load_tables(o: &mut String, data: &ReportData) {
    if !data.load_tests.is_empty() {
        hln!(o, "<h2>Load tests</h2><p class=\"muted\">Response time counts from when each transaction was due, service time from when it started.</p>");
        table(o, "load", &summary::LOAD_HEADERS, &summary::load_rows(data));
    }
    if !data.capacity.is_empty() {
        hln!(o, "<h2>Capacity</h2>");
        for answer in summary::capacity_answers(data) {
            hln!(o, "<p>{}</p>", answer);
        }
        table(o, "capacity", &summary::CAPACITY_HEADERS, &summary::capacity_rows(data));
    }
}

/// Latency against throughput, one chart per capacity search of the run.
fn capacity_charts(o: &mut String, data: &ReportData) {
    let mut ids: Vec<i64> = data.capacity.iter().map(|s| s.capacity_id).collect();
    ids.dedup();
    for id in ids {
        let steps: Vec<&CapacityStep> = data.capacity.iter().filter(|s| s.capacity_id == id).collect();
        capacity_chart(o, id, &steps);
    }
}

/// One search: a point per step (achieved transactions per second across, p95 up),
/// steps that met the target filled, the target as a dashed line, the capacity and the
/// knee ringed.
fn capacity_chart(o: &mut String, id: i64, steps: &[&CapacityStep]) {
    let pts: Vec<&CapacityStep> = steps
        .iter()
        .copied()
        .filter(|s| s.achieved_tps.is_some_and(f64::is_finite) && s.p95_ms.is_some_and(f64::is_finite))
        .collect();
    if pts.len() < 2 {
        return;
    }
    let (w, h, left, bottom, top) = (W, 220.0, 50.0, 190.0, 10.0);
    let max_x = pts.iter().filter_map(|s| s.achieved_tps).fold(0.0, f64::max).max(1e-9);
    let target = pts.iter().find_map(|s| s.target_p95_ms);
    let max_y = pts.iter().filter_map(|s| s.p95_ms).chain(target).fold(0.0, f64::max).max(1e-9) * 1.05;
    let x = |v: f64| left + v / max_x * (w - left - 20.0);
    let y = |v: f64| bottom - v / max_y * (bottom - top);
    hln!(o, "<p class=\"muted\">Search {}: p95 response time (up) against achieved transactions per second (across), one point per step; filled: met the target (dashed); ringed red: the capacity; ringed blue: the knee.</p>", id);
    h!(o, "<svg class=\"capacity-chart\" data-search=\"{}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">", id);
    h!(o, "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{bottom}\" y2=\"{bottom}\" stroke=\"#888\"/>", w - 10.0);
    h!(o, "<line x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{bottom}\" stroke=\"#888\"/>");
    h!(o, "<text x=\"0\" y=\"{:.1}\">{} ms</text>", top + 8.0, fmt_ms(max_y));
    h!(o, "<text x=\"{:.1}\" y=\"{:.1}\">{}/s</text>", w - 70.0, bottom + 16.0, format!("{max_x:.0}"));
    if let Some(t) = target {
        h!(
            o,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#c33\" stroke-dasharray=\"3,3\"/>",
            w - 10.0,
            y(t),
            y(t)
        );
    }
    let mut by_rate = pts.clone();
    by_rate.sort_by(|a, b| a.offered_rate.total_cmp(&b.offered_rate));
    let line: Vec<String> = by_rate
        .iter()
        .map(|s| format!("{:.1},{:.1}", x(s.achieved_tps.unwrap_or(0.0)), y(s.p95_ms.unwrap_or(0.0))))
        .collect();
    h!(o, "<polyline fill=\"none\" stroke=\"#4a78b5\" points=\"{}\"/>", line.join(" "));
    for s in &by_rate {
        let (cx, cy) = (x(s.achieved_tps.unwrap_or(0.0)), y(s.p95_ms.unwrap_or(0.0)));
        let fill = if s.met { "#4a78b5" } else { "#fff" };
        h!(
            o,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\" stroke=\"#4a78b5\" data-offered=\"{:.1}\" data-tps=\"{:.1}\" data-p95=\"{}\"><title>offered {:.1}/s: {:.1}/s at p95 {} ms</title></circle>",
            cx,
            cy,
            fill,
            s.offered_rate,
            s.achieved_tps.unwrap_or(0.0),
            fmt_num(s.p95_ms.unwrap_or(0.0)),
            s.offered_rate,
            s.achieved_tps.unwrap_or(0.0),
            fmt_ms(s.p95_ms.unwrap_or(0.0))
        );
        for (flag, colour, class) in [(s.capacity, "#c33", "capacity"), (s.knee, "#36c", "knee")] {
            if flag {
                h!(
                    o,
                    "<circle class=\"{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"7\" fill=\"none\" stroke=\"{}\"/>",
                    class,
                    cx,
                    cy,
                    colour
                );
            }
        }
    }
    o.push_str("</svg>\n");
}

/// Colours of the wait classes ("CPU", then PostgreSQL's wait-event types), so the same
/// class has the same colour in every bar.
fn wait_colour(event: &str) -> &'static str {
    match event.split(':').next().unwrap_or("") {
        "CPU" => "#4c9f70",
        "Lock" => "#d9534f",
        "LWLock" => "#f0ad4e",
        "IO" => "#5b8bd9",
        "IPC" => "#9b72cf",
        "Client" => "#8c8c8c",
        "Timeout" => "#c7a26b",
        "Activity" => "#b0b0b0",
        _ => "#6bc3c9",
    }
}

/// One stacked bar per scenario: the share of its tests' samples in each wait event.
fn waits_chart(o: &mut String, data: &ReportData) {
    let per = summary::scenario_waits(&data.results);
    if per.is_empty() {
        return;
    }
    let h = per.len() as f64 * 22.0 + 10.0;
    hln!(o, "<h2>What the tests waited on</h2><p class=\"muted\">Per scenario, the wait events of the backends running its tests, sampled every 10 ms; CPU: running, not waiting.</p>");
    h!(o, "<svg id=\"waits\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\">");
    let width = W - LABEL - 10.0;
    for (i, (scenario, p)) in per.iter().enumerate() {
        let y = 5.0 + i as f64 * 22.0;
        let label = scenario.map(|s| format!("scenario {s}")).unwrap_or_else(|| "other".into());
        h!(o, "<text x=\"0\" y=\"{:.1}\">{} ({} samples)</text>", y + 13.0, label, p.samples);
        let mut x = LABEL;
        for e in &p.events {
            let w = e.share * width;
            h!(
                o,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"16\" fill=\"{}\" data-event=\"{}\" data-share=\"{:.3}\"><title>{}: {} samples ({:.0} %)</title></rect>",
                x,
                y,
                w,
                wait_colour(&e.event),
                e.event,
                e.share,
                e.event,
                e.samples,
                e.share * 100.0
            );
            x += w;
        }
    }
    o.push_str("</svg>\n");
}

/// A scaling sweep as a page: what breaks first, a log-log chart of every test's figure
/// against the customers in the schema (flagged tests in red, a line per test), and
/// the table of slopes, fits and extrapolations.
pub fn scaling_page(r: &super::scaling::SweepReport) -> String {
    use crate::suite::scaling::human;
    let mut o = String::new();
    hln!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pg_perfsuite scaling sweep {}</title><style>{CSS}</style></head><body>",
        r.sweep_id
    );
    hln!(o, "<h1>Scaling sweep {}</h1>", r.sweep_id);
    let scales: Vec<String> = r.scales.iter().map(|s| s.to_string()).collect();
    hln!(
        o,
        "<p>Schema {}, scales {} of the plan's volume; extrapolated to {} customers.</p>",
        r.target_schema,
        scales.join(", "),
        human(r.at_customers)
    );
    let flagged: Vec<&str> = r.flagged().map(|(s, _)| s.test_id.as_str()).collect();
    hln!(
        o,
        "<p id=\"breaks-first\"><b>What breaks first</b>: {}</p>",
        if flagged.is_empty() {
            "no test grows in proportion to the data".to_string()
        } else {
            format!("{} (grows in proportion to the data)", flagged.join(", "))
        }
    );
    loglog_chart(&mut o, r);
    hln!(o, "<table><tr><th>Test</th><th>Name</th><th>Target (ms)</th><th>Slope</th><th>r²</th><th>Growth</th><th>At {} (ms)</th><th>Notes</th></tr>", human(r.at_customers));
    for (s, v) in &r.tests {
        hln!(
            o,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if v.flagged { "FAIL" } else { "" },
            s.test_id,
            s.name,
            s.target_ms.map(fmt_ms).unwrap_or_else(|| "-".into()),
            v.fit.map(|f| format!("{:.2}", f.slope)).unwrap_or_else(|| "-".into()),
            v.fit.map(|f| format!("{:.2}", f.r2)).unwrap_or_else(|| "-".into()),
            v.growth.map(|g| g.label()).unwrap_or("-"),
            v.extrapolated_ms.map(fmt_ms).unwrap_or_else(|| "-".into()),
            v.note
        );
    }
    hln!(o, "</table></body></html>");
    o
}

/// log10(figure) against log10(customers): a slope of 1 on this chart is linear growth.
fn loglog_chart(o: &mut String, r: &super::scaling::SweepReport) {
    let points: Vec<(f64, f64)> = r
        .tests
        .iter()
        .flat_map(|(s, _)| s.points.iter())
        .filter(|p| p.customers > 0.0 && p.ms > 0.0)
        .map(|p| (p.customers.log10(), p.ms.log10()))
        .collect();
    if points.is_empty() {
        return;
    }
    let (x0, x1) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let (x0, x1, y0, y1) = (x0.floor(), x1.ceil().max(x0.floor() + 1.0), y0.floor(), y1.ceil().max(y0.floor() + 1.0));
    let (w, h, left, right, top, bottom) = (720.0, 380.0, 50.0, 110.0, 10.0, 30.0);
    let px = |x: f64| left + (x - x0) / (x1 - x0) * (w - left - right);
    let py = |y: f64| top + (y1 - y) / (y1 - y0) * (h - top - bottom);
    h!(o, "<svg id=\"loglog\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">");
    let mut e = x0;
    while e <= x1 {
        h!(o, "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{top}\" y2=\"{:.1}\" stroke=\"#eee\"/>", px(e), px(e), h - bottom);
        h!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\">{} customers</text>",
            px(e) - 20.0,
            h - 10.0,
            crate::suite::scaling::human(10f64.powf(e))
        );
        e += 1.0;
    }
    let mut e = y0;
    while e <= y1 {
        h!(o, "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/>", w - right, py(e), py(e));
        h!(o, "<text x=\"2\" y=\"{:.1}\">{} ms</text>", py(e) + 4.0, fmt_ms(10f64.powf(e)));
        e += 1.0;
    }
    for (s, v) in &r.tests {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| p.customers > 0.0 && p.ms > 0.0)
            .map(|p| (px(p.customers.log10()), py(p.ms.log10())))
            .collect();
        let Some(&(lx, ly)) = pts.last() else { continue };
        let colour = if v.flagged { "#c33" } else { "#4a78b5" };
        let line: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        h!(
            o,
            "<g data-test=\"{}\" data-slope=\"{}\" data-flagged=\"{}\"><polyline fill=\"none\" stroke=\"{}\" points=\"{}\"><title>{}: slope {}</title></polyline>",
            s.test_id,
            v.fit.map(|f| format!("{:.2}", f.slope)).unwrap_or_default(),
            v.flagged,
            colour,
            line.join(" "),
            s.test_id,
            v.fit.map(|f| format!("{:.2}", f.slope)).unwrap_or_else(|| "-".into())
        );
        h!(o, "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{}\">{}</text></g>", lx + 4.0, ly + 4.0, colour, s.test_id);
    }
    o.push_str("</svg>\n");
}

pub fn render(data: &ReportData, recs: &[Recommendation]) -> String {
    let run = &data.run;
    let c = summary::counts(&data.results);
    let mut o = String::new();
    h!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pg_perfsuite run {}</title><style>{CSS}</style></head><body>\n",
        run.run_id
    );
    hln!(o, "<h1>Performance Test Report — run {}</h1>", run.run_id);
    hln!(
        o,
        "<p><b>Test Date</b>: {} &nbsp; <b>Environment</b>: {} ({}, {}) &nbsp; <b>Data Volume</b>: {} customers, {} conversations (scale {})</p>",
        run.started_at.as_deref().unwrap_or("-"),
        run.pg_version,
        run.database,
        run.database_size,
        run.data_volume.get("customers").copied().unwrap_or(0),
        run.data_volume.get("VC Usage").copied().unwrap_or(0),
        run.scale.unwrap_or(1.0)
    );
    let overall = run.overall.as_deref().unwrap_or(&run.status);
    hln!(
        o,
        "<h2>Executive Summary</h2><p>Overall Result: <span id=\"overall\" class=\"{}\">{}</span> — {} passed, {} warned, {} failed, {} errors, {} skipped</p>",
        overall,
        overall,
        c.pass,
        c.warn,
        c.fail,
        c.error,
        c.skip
    );
    hln!(o, "<h2>Success Criteria Summary</h2><table><tr><th>Test Scenario</th><th>Test</th><th>Target</th><th>Actual</th><th>Status</th></tr>");
    for cr in summary::criteria(data) {
        hln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            cr.scenario,
            cr.test_id,
            cr.target,
            cr.actual,
            cr.status,
            cr.status
        );
    }
    o.push_str("</table>\n");
    latency_chart(&mut o, data);
    trend_chart(&mut o, data);
    monitor_chart(&mut o, data);
    waits_chart(&mut o, data);
    load_tables(&mut o, data);
    capacity_charts(&mut o, data);
    hln!(o, "<h2>Detailed Results</h2><table id=\"results\"><tr><th>Test</th><th>Name</th><th>Statistic</th><th>Target ms</th><th>Actual</th><th>Status</th><th>Notes</th><th>Waits and cost</th></tr>");
    for r in &data.results {
        let cost = match (&r.waits, &r.resources) {
            (Some(w), Some(res)) if r.status != super::model::Verdict::Skip => {
                format!("{}; {}", summary::top_waits(w, 3), summary::resources_line(res))
            }
            _ => String::new(),
        };
        hln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            r.test_id,
            r.name,
            r.statistic.as_deref().unwrap_or("-"),
            r.target_ms.map(fmt_num).unwrap_or_else(|| "-".into()),
            r.measured_ms.map(fmt_ms).or(r.actual_value.map(fmt_num)).unwrap_or_else(|| "-".into()),
            r.status,
            r.status,
            r.notes.as_deref().unwrap_or(""),
            cost
        );
    }
    o.push_str("</table>\n<h2>Recommendations</h2>");
    if recs.is_empty() {
        o.push_str("<p>None: this run shows no evidence of a problem.</p>");
    } else {
        o.push_str("<ol>");
        for r in recs {
            h!(o, "<li><b>{}</b>: {}<br>→ {}</li>", r.kind, r.evidence, r.action);
        }
        o.push_str("</ol>");
    }
    o.push_str("\n</body></html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{HistoryPoint, ResultRow};

    const EVIL: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>";

    /// Every text field a run can carry holds markup; none of it may survive as markup.
    #[test]
    fn scaling_page_draws_the_loglog_chart_and_escapes_names() {
        let r = crate::report::scaling::tests_sample();
        let page = scaling_page(&r);
        assert!(page.contains("<svg id=\"loglog\""), "{page}");
        assert!(page.contains("data-test=\"1.1\" data-slope=\"1.00\" data-flagged=\"true\""), "{page}");
        assert!(page.contains("data-test=\"2.2\"") && page.contains("data-flagged=\"false\""), "{page}");
        assert!(page.contains("test 1.1 | &lt;b&gt;") && !page.contains("<b>Test"), "names escaped");
        assert!(page.contains("<b>What breaks first</b>: 1.1 (grows in proportion to the data)"), "{page}");
    }

    #[test]
    fn no_field_becomes_markup() {
        let row = |id: &str| ResultRow {
            test_id: format!("{id}{EVIL}"),
            name: EVIL.into(),
            statistic: Some(EVIL.into()),
            status: crate::report::model::Verdict::Fail,
            notes: Some(EVIL.into()),
            target_ms: Some(50.0),
            acceptable_ms: Some(100.0),
            measured_ms: Some(12.5),
            p50_ms: Some(10.0),
            p95_ms: Some(12.5),
            min_ms: Some(9.0),
            max_ms: Some(20.0),
            kind: Some("timed_query".into()),
            query_type: Some(EVIL.into()),
            error_message: Some(EVIL.into()),
            // Wait events are named by PostgreSQL, but extensions name their own.
            waits: Some(crate::pg::waits::profile(vec![(EVIL.into(), 3), ("CPU".into(), 1)], 1)),
            resources: Some(Default::default()),
            ..Default::default()
        };
        let mut data = ReportData { results: vec![row("1.1"), row("1.2")], ..Default::default() };
        data.run.started_at = Some(EVIL.into());
        data.run.pg_version = EVIL.into();
        data.run.database = EVIL.into();
        data.run.database_size = EVIL.into();
        data.run.status = EVIL.into();
        data.run.overall = Some(EVIL.into());
        data.history =
            (1..=3).map(|k| HistoryPoint { run_id: k, test_id: format!("1.1{EVIL}"), measured_ms: k as f64 }).collect();
        data.monitor = (1..=3)
            .map(|k| crate::report::model::MonitorPoint {
                test_id: format!("{k}{EVIL}"),
                cpu_pct: Some(30.0 * k as f64),
                mem_pct: Some(20.0),
                ..Default::default()
            })
            .collect();
        data.load_tests = vec![crate::report::model::LoadTest {
            load_id: 7,
            script: EVIL.into(),
            arrivals: Some(EVIL.into()),
            rate: Some(200.0),
            p99_ms: Some(905.0),
            service_p99_ms: Some(0.5),
            ..Default::default()
        }];
        data.capacity = [(50.0, 2.0, true), (100.0, 3.0, true), (200.0, 400.0, false)]
            .iter()
            .enumerate()
            .map(|(i, &(rate, p95, met))| crate::report::model::CapacityStep {
                capacity_id: 1,
                step: i as i64 + 1,
                offered_rate: rate,
                achieved_tps: Some(rate.min(150.0)),
                p95_ms: Some(p95),
                met,
                capacity: i == 1,
                knee: i == 1,
                target_p95_ms: Some(100.0),
                clients: Some(10),
                script: EVIL.into(),
                ..Default::default()
            })
            .collect();
        let recs = vec![Recommendation {
            kind: "error",
            test_id: Some(EVIL.into()),
            evidence: EVIL.into(),
            action: EVIL.into(),
            index_ddl: Some(EVIL.into()),
            measured_speedup: None,
            write_penalty_pct: None,
        }];
        let page = render(&data, &recs);
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(!page.contains("\"'>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("<svg id=\"latency\""), "the charts were drawn");
        assert!(page.contains("<svg id=\"monitor\"") && page.contains("data-cpu=\"90.0\""), "{page}");
        assert!(page.contains("<svg id=\"waits\""), "the waits chart was drawn: {page}");
        assert!(page.contains("<table id=\"load\">") && page.contains("<td>- / 0.50</td>"), "{page}");
        assert!(
            page.contains("<svg class=\"capacity-chart\" data-search=\"1\""),
            "latency against throughput was drawn: {page}"
        );
        assert!(page.contains("class=\"capacity\"") && page.contains("data-offered=\"100.0\" data-tps=\"100.0\""));
        assert!(page.contains("100.0 transactions/s within p95 100 ms"), "{page}");
    }

    #[test]
    fn numbers_keep_their_precision() {
        let mut o = String::new();
        h!(o, "{:.1}|{}|{:.3}", 1.25f64, "a<b", 2.0f64);
        assert_eq!(o, "1.2|a&lt;b|2.000");
    }
}
