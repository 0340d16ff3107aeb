//! Latency statistics over one test's timed iterations.
//!
//! Percentiles use linear interpolation between closest ranks, the definition of
//! PostgreSQL's `percentile_cont`, so figures here agree with the plan's analysis query.

/// Summary of a latency sample in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub avg: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    /// Sample standard deviation (n-1), as SQL `stddev`; 0 for a single sample.
    pub stddev: f64,
}

/// `percentile_cont(fraction)` over an ascending-sorted, non-empty slice.
pub fn percentile_cont(sorted: &[f64], fraction: f64) -> f64 {
    assert!(!sorted.is_empty(), "percentile of an empty sample");
    let pos = fraction.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The median of `samples` (in any order), as `percentile_cont(0.5)`; NaN for none.
pub fn median(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile_cont(&sorted, 0.5)
}

impl Summary {
    /// Summarise samples; `None` for an empty sample.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let avg = sorted.iter().sum::<f64>() / n as f64;
        let stddev =
            if n > 1 { (sorted.iter().map(|x| (x - avg).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() } else { 0.0 };
        Some(Summary {
            n,
            min: sorted[0],
            avg,
            p50: percentile_cont(&sorted, 0.50),
            p95: percentile_cont(&sorted, 0.95),
            p99: percentile_cont(&sorted, 0.99),
            max: sorted[n - 1],
            stddev,
        })
    }

    /// The figure a verdict is taken on.
    pub fn statistic(&self, stat: Statistic) -> f64 {
        match stat {
            Statistic::Min => self.min,
            Statistic::Avg => self.avg,
            Statistic::P50 => self.p50,
            Statistic::P95 => self.p95,
            Statistic::P99 => self.p99,
            Statistic::Max => self.max,
        }
    }
}

/// Which summary figure a test is judged on (registry column `statistic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    Min,
    Avg,
    P50,
    P95,
    P99,
    Max,
}

impl Statistic {
    pub fn parse(s: &str) -> Option<Statistic> {
        Some(match s {
            "min" => Statistic::Min,
            "avg" => Statistic::Avg,
            "p50" => Statistic::P50,
            "p95" => Statistic::P95,
            "p99" => Statistic::P99,
            "max" => Statistic::Max,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Statistic::Min => "min",
            Statistic::Avg => "avg",
            Statistic::P50 => "p50",
            Statistic::P95 => "p95",
            Statistic::P99 => "p99",
            Statistic::Max => "max",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_percentile_cont() {
        // SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY x) FROM generate_series(1,10) x; -> 9.55
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!((percentile_cont(&xs, 0.95) - 9.55).abs() < 1e-9);
        assert_eq!(percentile_cont(&xs, 0.5), 5.5);
        assert_eq!(percentile_cont(&[7.0], 0.99), 7.0);
    }

    #[test]
    fn summary_of_unsorted_sample() {
        let s = Summary::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((s.n, s.min, s.max, s.avg), (4, 1.0, 4.0, 2.5));
        // stddev(1,2,3,4) = 1.2909944
        assert!((s.stddev - 1.290_994_4).abs() < 1e-6);
        assert_eq!(s.statistic(Statistic::P50), 2.5);
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn statistic_names_round_trip() {
        for s in ["min", "avg", "p50", "p95", "p99", "max"] {
            assert_eq!(Statistic::parse(s).unwrap().name(), s);
        }
        assert!(Statistic::parse("p42").is_none());
    }
}
