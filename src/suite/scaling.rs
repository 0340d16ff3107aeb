//! What a scaling sweep concludes from one test measured at several volumes: how its
//! time grows with the data (the slope of log time against log rows, fitted by least
//! squares), whether that is more than an index lookup should show, and when it would
//! reach its target. Pure logic; the sweep itself is runner/scaling.rs.
//!
//! An index lookup or a LIMITed index scan costs about log(n): a slope near 0 over a
//! 100x range. A slope near 1 means the time is proportional to the rows: something
//! reads a fixed share of the table (a scan, or an index scan whose range grows).

/// One measurement: the customers in the schema and the test's judged figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub customers: f64,
    pub ms: f64,
}

/// A power law `ms = a * customers^slope` fitted in log-log space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub slope: f64,
    /// ln(a)
    pub intercept: f64,
    /// Share of the variance of ln(ms) the line explains (1: a perfect power law).
    pub r2: f64,
}

impl Fit {
    pub fn predict_ms(&self, customers: f64) -> f64 {
        (self.intercept + self.slope * customers.ln()).exp()
    }

    /// The volume at which the fitted time reaches `target_ms`; None when it does not
    /// grow (then it never does) or already exceeds it at every volume.
    pub fn volume_at(&self, target_ms: f64) -> Option<f64> {
        (self.slope > FLAT && target_ms > 0.0).then(|| ((target_ms.ln() - self.intercept) / self.slope).exp())
    }
}

/// Below this slope a test counts as flat (an index lookup over a 100x range grows by
/// well under 10^0.2 = 1.6x).
pub const FLAT: f64 = 0.2;
/// From this slope on a test grows in proportion to the rows.
pub const LINEAR: f64 = 0.7;
/// Fits explaining less than this share of the variance are noise, not growth.
pub const MIN_R2: f64 = 0.6;
/// How far past the largest measured volume an extrapolation is still worth a number.
pub const FAR: f64 = 1000.0;

/// Least squares over ln(customers), ln(ms); None with fewer than two distinct volumes
/// or a non-positive figure (log of zero).
pub fn fit(points: &[Point]) -> Option<Fit> {
    let usable: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.customers > 0.0 && p.ms > 0.0 && p.ms.is_finite())
        .map(|p| (p.customers.ln(), p.ms.ln()))
        .collect();
    let n = usable.len() as f64;
    if n < 2.0 {
        return None;
    }
    let mx = usable.iter().map(|p| p.0).sum::<f64>() / n;
    let my = usable.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = usable.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx < 1e-12 {
        return None;
    }
    let sxy: f64 = usable.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = usable.iter().map(|p| (p.1 - my).powi(2)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let r2 = if syy < 1e-12 { 1.0 } else { (sxy * sxy) / (sxx * syy) };
    Some(Fit { slope, intercept, r2 })
}

/// How a test's time grows with the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Growth {
    /// Flat (or the fit explains nothing): what an index lookup shows.
    Flat,
    Sublinear,
    Linear,
    Superlinear,
}

impl Growth {
    pub fn of(fit: &Fit) -> Growth {
        match fit.slope {
            s if s < FLAT || fit.r2 < MIN_R2 => Growth::Flat,
            s if s < LINEAR => Growth::Sublinear,
            s if s <= 1.3 => Growth::Linear,
            _ => Growth::Superlinear,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Growth::Flat => "flat",
            Growth::Sublinear => "sublinear",
            Growth::Linear => "linear",
            Growth::Superlinear => "superlinear",
        }
    }

    /// Growing in proportion to the data (or faster): more than an index lookup costs.
    pub fn flagged(self) -> bool {
        matches!(self, Growth::Linear | Growth::Superlinear)
    }
}

/// The sentence a flagged test gets: its growth and the plan node that reads the most
/// rows at the largest volume (from `explain::heaviest_scan`).
pub fn flag_note(growth: Growth, fit: &Fit, heaviest: Option<&str>, plan_changed: Option<&str>) -> String {
    let mut note = format!(
        "grows {} with the data (time ~ customers^{:.2}, r² {:.2}): more than an index lookup costs",
        growth.label(),
        fit.slope,
        fit.r2
    );
    match heaviest {
        Some(node) => note.push_str(&format!("; at the largest volume {node}")),
        None => note.push_str("; no plan was recorded to say which node"),
    }
    if let Some(change) = plan_changed {
        note.push_str(&format!("; {change}"));
    }
    note
}

/// "reaches its 30 ms target at about 4.1M customers", or why it does not.
pub fn target_note(fit: &Fit, target_ms: Option<f64>, largest: f64) -> Option<String> {
    let target = target_ms?;
    Some(match fit.volume_at(target) {
        None => format!("does not grow toward its {target} ms target"),
        Some(v) if v <= largest => {
            format!("over its {target} ms target already (fitted: from about {} customers)", human(v))
        }
        // A line fitted over a 10-100x range says nothing a thousand times further out.
        Some(v) if v > largest * FAR => {
            format!("stays under its {target} ms target beyond {} customers", human(largest * FAR))
        }
        Some(v) => format!("reaches its {target} ms target at about {} customers", human(v)),
    })
}

/// 4100000 -> "4.1M", 25000 -> "25k".
pub fn human(n: f64) -> String {
    match n {
        n if !n.is_finite() => "∞".into(),
        n if n >= 1e12 => format!("{:.1e}", n),
        n if n >= 1e9 => format!("{:.1}bn", n / 1e9),
        n if n >= 1e6 => format!("{:.1}M", n / 1e6),
        n if n >= 1e3 => format!("{:.0}k", n / 1e3),
        n => format!("{n:.0}"),
    }
}

/// One test measured across a sweep, as the judge needs it.
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub test_id: String,
    pub name: String,
    pub statistic: Option<String>,
    pub target_ms: Option<f64>,
    /// Smallest volume first.
    pub points: Vec<Point>,
    /// The scans of the plan at each point ("Index Scan using i on t; ..."), same order.
    pub scans: Vec<String>,
    /// The scan reading the most rows at the largest volume (explain::heaviest_scan).
    pub heaviest_at_largest: Option<String>,
}

/// What the sweep says about one test.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub fit: Option<Fit>,
    pub growth: Option<Growth>,
    pub flagged: bool,
    /// The fitted figure at the volume the DBA named.
    pub extrapolated_ms: Option<f64>,
    /// The volume at which the fitted figure reaches the target.
    pub reaches_target_at: Option<f64>,
    pub note: String,
}

/// Judge one series; `at_customers` is the volume to extrapolate to.
pub fn judge(series: &Series, at_customers: f64) -> Verdict {
    let Some(fit) = fit(&series.points) else {
        return Verdict {
            fit: None,
            growth: None,
            flagged: false,
            extrapolated_ms: None,
            reaches_target_at: None,
            note: "fewer than two volumes with a time: no growth to fit".into(),
        };
    };
    let growth = Growth::of(&fit);
    let largest = series.points.iter().map(|p| p.customers).fold(0.0, f64::max);
    let plan_changed = match (series.scans.first(), series.scans.last()) {
        (Some(a), Some(b)) if a != b => Some(format!("its plan changed from \"{a}\" to \"{b}\"")),
        _ => None,
    };
    let mut parts = Vec::new();
    if growth.flagged() {
        parts.push(flag_note(growth, &fit, series.heaviest_at_largest.as_deref(), plan_changed.as_deref()));
    } else {
        parts.push(format!("grows {} (time ~ customers^{:.2}, r² {:.2})", growth.label(), fit.slope, fit.r2));
        if let Some(c) = plan_changed {
            parts.push(c);
        }
    }
    let extrapolated_ms = fit.predict_ms(at_customers);
    parts.push(format!("about {extrapolated_ms:.3} ms at {} customers", human(at_customers)));
    if let Some(t) = target_note(&fit, series.target_ms, largest) {
        parts.push(t);
    }
    Verdict {
        fit: Some(fit),
        growth: Some(growth),
        flagged: growth.flagged(),
        extrapolated_ms: Some(extrapolated_ms),
        reaches_target_at: series.target_ms.and_then(|t| fit.volume_at(t)),
        note: parts.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(f64, f64)]) -> Vec<Point> {
        v.iter().map(|&(customers, ms)| Point { customers, ms }).collect()
    }

    #[test]
    fn fits_a_power_law_exactly() {
        let f = fit(&pts(&[(1e4, 2.0), (1e5, 20.0), (1e6, 200.0)])).unwrap();
        assert!((f.slope - 1.0).abs() < 1e-9, "{f:?}");
        assert!((f.r2 - 1.0).abs() < 1e-9);
        assert!((f.predict_ms(1e7) - 2000.0).abs() < 1e-6);
        assert!((f.volume_at(30.0).unwrap() - 1.5e5).abs() < 1e-3);
        assert_eq!(Growth::of(&f), Growth::Linear);
        assert!(Growth::of(&f).flagged());
    }

    #[test]
    fn an_index_lookup_is_flat_and_never_reaches_its_target() {
        let f = fit(&pts(&[(1e4, 0.10), (1e5, 0.11), (1e6, 0.12)])).unwrap();
        assert!(f.slope < FLAT);
        assert_eq!(Growth::of(&f), Growth::Flat);
        assert!(!Growth::of(&f).flagged());
        assert_eq!(target_note(&f, Some(50.0), 1e6).unwrap(), "does not grow toward its 50 ms target");
    }

    #[test]
    fn noise_is_not_growth() {
        // Up, down, up: a slope, but the line explains little.
        let f = fit(&pts(&[(1e4, 1.0), (3e4, 3.0), (1e5, 0.8), (3e5, 3.2), (1e6, 1.1)])).unwrap();
        assert!(f.r2 < MIN_R2, "{f:?}");
        assert_eq!(Growth::of(&f), Growth::Flat);
    }

    #[test]
    fn needs_two_volumes_and_positive_figures() {
        assert!(fit(&pts(&[(1e4, 1.0)])).is_none());
        assert!(fit(&pts(&[(1e4, 1.0), (1e4, 2.0)])).is_none());
        assert!(fit(&pts(&[(1e4, 0.0), (1e5, 0.0)])).is_none());
        assert!(fit(&pts(&[(1e4, 1.0), (1e5, 0.0), (1e6, 100.0)])).is_some());
    }

    #[test]
    fn notes_name_the_node_and_the_volume() {
        let f = fit(&pts(&[(1.1e4, 0.5), (1.1e5, 5.0), (1.1e6, 50.0)])).unwrap();
        let n = flag_note(Growth::of(&f), &f, Some("Seq Scan on customers read 1100000 rows"), None);
        assert!(n.starts_with("grows linear with the data (time ~ customers^1.00, r² 1.00)"), "{n}");
        assert!(n.ends_with("at the largest volume Seq Scan on customers read 1100000 rows"), "{n}");
        assert_eq!(
            target_note(&f, Some(30.0), 1.1e6).unwrap(),
            "over its 30 ms target already (fitted: from about 660k customers)"
        );
        assert_eq!(target_note(&f, Some(500.0), 1.1e6).unwrap(), "reaches its 500 ms target at about 11.0M customers");
        assert_eq!(target_note(&f, None, 1.1e6), None);
        let slow = fit(&pts(&[(1e4, 0.10), (1e5, 0.20), (1e6, 0.40)])).unwrap();
        assert_eq!(target_note(&slow, Some(50.0), 1e6).unwrap(), "stays under its 50 ms target beyond 1.0bn customers");
        assert_eq!(human(4_100_000.0), "4.1M");
        assert_eq!(human(25_000.0), "25k");
    }

    #[test]
    fn judges_a_series_end_to_end() {
        let scanned = Series {
            test_id: "1.1".into(),
            target_ms: Some(50.0),
            points: pts(&[(1.1e4, 0.4), (1.1e5, 4.1), (1.1e6, 39.0)]),
            scans: vec!["Seq Scan on customers".into(), "Seq Scan on customers".into(), "Seq Scan on customers".into()],
            heaviest_at_largest: Some("Seq Scan on customers read 1100000 rows".into()),
            ..Series::default()
        };
        let v = judge(&scanned, 1.1e7);
        assert!(v.flagged);
        assert_eq!(v.growth, Some(Growth::Linear));
        assert!(v.note.contains("Seq Scan on customers read 1100000 rows"), "{}", v.note);
        assert!(v.note.contains("reaches its 50 ms target at about"), "{}", v.note);
        assert!((v.extrapolated_ms.unwrap() / 390.0 - 1.0).abs() < 0.05, "{v:?}");

        let indexed = Series {
            points: pts(&[(1.1e4, 0.10), (1.1e5, 0.11), (1.1e6, 0.12)]),
            scans: vec!["Seq Scan on customers".into(), "Index Scan using i on customers".into()],
            ..scanned.clone()
        };
        let v = judge(&indexed, 1.1e7);
        assert!(!v.flagged);
        assert!(
            v.note.contains("its plan changed from \"Seq Scan on customers\" to \"Index Scan using i on customers\""),
            "{}",
            v.note
        );
        assert_eq!(v.reaches_target_at, None);

        let one = Series { points: pts(&[(1.1e4, 0.1)]), ..scanned };
        assert!(judge(&one, 1e6).fit.is_none());
    }
}
