//! The report of a scaling sweep: per test its growth with the data, the plan node it
//! comes from, and where it meets its target; in markdown, or as an HTML page with a
//! log-log chart (html::scaling_page).

use std::fmt::Write;

use super::summary::fmt_ms;
use crate::suite::scaling::{human, Series, Verdict};

/// A sweep and what it concluded, test by test.
#[derive(Debug, Clone)]
pub struct SweepReport {
    pub sweep_id: i64,
    pub target_schema: String,
    pub scales: Vec<f64>,
    pub at_customers: f64,
    pub tests: Vec<(Series, Verdict)>,
}

impl SweepReport {
    pub fn flagged(&self) -> impl Iterator<Item = &(Series, Verdict)> {
        self.tests.iter().filter(|(_, v)| v.flagged)
    }
}

pub fn markdown(r: &SweepReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Scaling sweep {}\n", r.sweep_id);
    let scales: Vec<String> = r.scales.iter().map(|s| s.to_string()).collect();
    let _ = writeln!(
        o,
        "Schema `{}`, scales {} of the plan's volume; extrapolated to {} customers.\n",
        r.target_schema,
        scales.join(", "),
        human(r.at_customers)
    );
    let flagged: Vec<&str> = r.flagged().map(|(s, _)| s.test_id.as_str()).collect();
    if flagged.is_empty() {
        let _ = writeln!(o, "**What breaks first**: no test grows in proportion to the data.\n");
    } else {
        let _ = writeln!(
            o,
            "**What breaks first**: {} grow{} in proportion to the data (more than an index lookup costs).\n",
            flagged.join(", "),
            if flagged.len() == 1 { "s" } else { "" }
        );
    }
    let _ = writeln!(o, "| Test | Name | Statistic | Target (ms) | Measured (ms) by customers | Slope | r² | Growth | At {} (ms) | Notes |", human(r.at_customers));
    let _ = writeln!(
        o,
        "|------|------|-----------|-------------|-----------------------------|-------|----|--------|------|-------|"
    );
    for (s, v) in &r.tests {
        let measured: Vec<String> =
            s.points.iter().map(|p| format!("{}: {}", human(p.customers), fmt_ms(p.ms))).collect();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.test_id,
            cell(&s.name),
            s.statistic.as_deref().unwrap_or("-"),
            s.target_ms.map(fmt_ms).unwrap_or_else(|| "-".into()),
            measured.join(", "),
            v.fit.map(|f| format!("{:.2}", f.slope)).unwrap_or_else(|| "-".into()),
            v.fit.map(|f| format!("{:.2}", f.r2)).unwrap_or_else(|| "-".into()),
            match (v.growth, v.flagged) {
                (Some(g), true) => format!("**{}** ⚠", g.label()),
                (Some(g), false) => g.label().to_string(),
                (None, _) => "-".into(),
            },
            v.extrapolated_ms.map(fmt_ms).unwrap_or_else(|| "-".into()),
            cell(&v.note)
        );
    }
    o
}

/// Text in a markdown table cell: pipes and line breaks would end the cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A sweep of two tests (one scanning, one indexed) for the renderers' unit tests.
#[cfg(test)]
pub fn tests_sample() -> SweepReport {
    tests::sample()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::scaling::{judge, Point};

    pub fn sample() -> SweepReport {
        let series = |id: &str, ms: [f64; 3], node: &str| Series {
            test_id: id.into(),
            name: format!("test {id} | <b>"),
            statistic: Some("p95".into()),
            target_ms: Some(50.0),
            points: [1.1e4, 1.1e5, 1.1e6].iter().zip(ms).map(|(&customers, ms)| Point { customers, ms }).collect(),
            scans: vec![node.into(); 3],
            heaviest_at_largest: Some(format!("{node} read 1100000 rows")),
        };
        let tests = [
            series("1.1", [0.4, 4.0, 40.0], "Seq Scan on customers"),
            series("2.2", [0.01, 0.011, 0.012], "Index Scan using idx_customers_email on customers"),
        ]
        .into_iter()
        .map(|s| {
            let v = judge(&s, 1.1e7);
            (s, v)
        })
        .collect();
        SweepReport {
            sweep_id: 3,
            target_schema: "public".into(),
            scales: vec![1.0, 10.0, 100.0],
            at_customers: 1.1e7,
            tests,
        }
    }

    #[test]
    fn says_what_breaks_first_and_why() {
        let md = markdown(&sample());
        assert!(md.contains("**What breaks first**: 1.1 grows in proportion to the data"), "{md}");
        assert!(
            md.contains("| 1.1 | test 1.1 \\| <b> | p95 | 50.0 | 11k: 0.40, 110k: 4.00, 1.1M: 40.0 | 1.00 |"),
            "{md}"
        );
        assert!(md.contains("**linear** ⚠"), "{md}");
        assert!(md.contains("Seq Scan on customers read 1100000 rows"), "{md}");
        assert!(md.contains("| 2.2 |") && md.contains("| flat |"), "{md}");
    }
}
