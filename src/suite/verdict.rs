//! The plan's verdict rules: target / acceptable / failed bands.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Stored and shown as PASS, WARN, FAIL, ERROR, SKIP (the results table's CHECK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    // Declaration order is severity order (used by `overall`).
    #[default]
    Skip,
    Pass,
    Warn,
    Fail,
    Error,
}

impl Verdict {
    /// A verdict that counts as a failure of the run (FAIL or ERROR).
    pub fn failed(self) -> bool {
        matches!(self, Verdict::Fail | Verdict::Error)
    }

    /// Not a PASS or SKIP: worth a line in findings and recommendations.
    pub fn needs_attention(self) -> bool {
        matches!(self, Verdict::Warn | Verdict::Fail | Verdict::Error)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
            Verdict::Skip => "SKIP",
        }
    }

    /// Overall verdict of a run: the worst of its tests (ERROR > FAIL > WARN > PASS);
    /// skipped tests do not lower it. A run with no test that ran is SKIP.
    pub fn overall(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts.into_iter().max().unwrap_or(Verdict::Skip)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Judge a measured time against the plan's bands.
///
/// The plan writes targets as "<50ms" and failures as ">100ms": strictly below the
/// target is PASS, strictly below the acceptable limit is WARN, anything else FAIL.
/// Without an acceptable limit there is no WARN band. Without a target the test only
/// measures and passes.
pub fn time_band(measured_ms: f64, target_ms: Option<f64>, acceptable_ms: Option<f64>) -> Verdict {
    match (target_ms, acceptable_ms) {
        (None, _) => Verdict::Pass,
        (Some(t), _) if measured_ms < t => Verdict::Pass,
        (Some(_), Some(a)) if measured_ms < a => Verdict::Warn,
        _ => Verdict::Fail,
    }
}

/// "No performance degradation with multiple companies": the same query among many
/// tenants (`many_ms`) against one tenant alone (`one_ms`). pg_perfsuite's bands (the
/// plan gives none): PASS within 1.5x or 1 ms, WARN within 3x, else FAIL. The 1 ms
/// floor keeps sub-millisecond noise from reading as degradation.
pub fn degradation(many_ms: f64, one_ms: f64) -> Verdict {
    if many_ms <= one_ms * 1.5 || many_ms - one_ms < 1.0 {
        Verdict::Pass
    } else if many_ms <= one_ms * 3.0 {
        Verdict::Warn
    } else {
        Verdict::Fail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degradation_bands() {
        assert_eq!(degradation(0.08, 0.05), Verdict::Pass, "under 1 ms apart");
        assert_eq!(degradation(14.0, 10.0), Verdict::Pass);
        assert_eq!(degradation(25.0, 10.0), Verdict::Warn);
        assert_eq!(degradation(40.0, 10.0), Verdict::Fail);
    }

    #[test]
    fn bands_follow_the_plan() {
        // Customer list: <50 target, <100 acceptable, >100 failed.
        assert_eq!(time_band(12.0, Some(50.0), Some(100.0)), Verdict::Pass);
        assert_eq!(time_band(50.0, Some(50.0), Some(100.0)), Verdict::Warn);
        assert_eq!(time_band(99.9, Some(50.0), Some(100.0)), Verdict::Warn);
        assert_eq!(time_band(100.0, Some(50.0), Some(100.0)), Verdict::Fail);
        // Count with filters: <30, no acceptable band.
        assert_eq!(time_band(31.0, Some(30.0), None), Verdict::Fail);
        assert_eq!(time_band(1e9, None, None), Verdict::Pass);
    }

    #[test]
    fn overall_is_the_worst() {
        use Verdict::*;
        assert_eq!(Verdict::overall([Pass, Warn, Pass]), Warn);
        assert_eq!(Verdict::overall([Pass, Fail, Warn]), Fail);
        assert_eq!(Verdict::overall([Error, Fail]), Error);
        assert_eq!(Verdict::overall([Pass, Skip]), Pass);
        assert_eq!(Verdict::overall([Skip]), Skip);
        assert_eq!(Verdict::overall([]), Skip);
    }
}
