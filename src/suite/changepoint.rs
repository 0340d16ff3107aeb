//! Change points in a test's history: the runs where its figure shifted and stayed.
//!
//! E-divisive means (Matteson and James, 2014; the method Apache Otava, formerly
//! Hunter, applies to benchmark histories), on the logarithm of each run's figure so
//! that a doubling counts the same at 0.1 ms and at 100 ms. In a stretch of runs, the
//! split that best separates the runs before from the runs after (the largest energy
//! statistic) is tested against the same statistic over random reorderings of the
//! stretch; it is a change point when at most `ALPHA` of the reorderings separate as
//! well and the medians on either side differ by the noise bar perf_compare uses (10 %
//! and 0.1 ms). Both sides are then searched the same way.
//!
//! False alarms: on a history without a shift, the best split passes the permutation
//! test with probability at most `ALPHA` (5 %), and must also move the median past the
//! noise bar; about 5 % of stable histories show a change point (measured by the unit
//! test below on simulated noisy histories: 11 of 200). The reorderings come from a fixed seed: the same history always
//! gives the same answer.

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::stats::median;

/// The permutation test's significance level.
pub const ALPHA: f64 = 0.05;
/// Random reorderings per tested split.
pub const PERMUTATIONS: usize = 199;
/// Fewest runs on either side of a change point.
pub const MIN_SIDE: usize = 2;

/// Indexes into `figures` (oldest first) of the runs where a shift began, in order.
/// Figures must be positive (milliseconds); others are not looked at.
#[cfg(test)]
pub fn change_points(figures: &[f64], min_change: f64, min_change_ms: f64) -> Vec<usize> {
    change_points_interruptible(figures, min_change, min_change_ms, &|| {})
}

/// `change_points`, calling `interrupts` before every reordering, so that the server
/// can cancel the search over a long history.
pub fn change_points_interruptible(
    figures: &[f64],
    min_change: f64,
    min_change_ms: f64,
    interrupts: &dyn Fn(),
) -> Vec<usize> {
    // NaN and infinite figures (stored rows operators may write) would poison every
    // sum: they count as the smallest figure, which no shift is made of.
    let logs: Vec<f64> = figures.iter().map(|f| if f.is_finite() { f.max(1e-6).ln() } else { 1e-6f64.ln() }).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let mut found = Vec::new();
    let mut stack = vec![(0usize, logs.len())];
    while let Some((a, b)) = stack.pop() {
        let Some((tau, q)) = best_split(&logs[a..b]) else { continue };
        let mut shuffled = logs[a..b].to_vec();
        let mut as_good = 0usize;
        for _ in 0..PERMUTATIONS {
            interrupts();
            shuffled.shuffle(&mut rng);
            if best_split(&shuffled).is_some_and(|(_, qp)| qp >= q - 1e-12) {
                as_good += 1;
            }
        }
        let p = (1 + as_good) as f64 / (1 + PERMUTATIONS) as f64;
        let (before, after) = (median(&figures[a..a + tau]), median(&figures[a + tau..b]));
        let moved = (after - before).abs();
        if p <= ALPHA && moved >= min_change * before.min(after) && moved >= min_change_ms {
            found.push(a + tau);
            stack.push((a, a + tau));
            stack.push((a + tau, b));
        }
    }
    found.sort_unstable();
    found
}

/// The split of `x` with the largest energy statistic: (its index, the statistic).
/// As E-divisive, the runs after the split are compared up to every possible end, not
/// only to the end of `x`: a shift that was undone later (an index dropped, then put
/// back) still stands out. None when `x` is too short to split with `MIN_SIDE` on each
/// side.
fn best_split(x: &[f64]) -> Option<(usize, f64)> {
    let n = x.len();
    if n < 2 * MIN_SIDE {
        return None;
    }
    // s[i][j]: the sum of |x[p] - x[q]| over p < i, q < j, so that any block of pairs
    // sums in four lookups.
    let w = n + 1;
    let mut s = vec![0.0f64; w * w];
    for i in 0..n {
        for j in 0..n {
            s[(i + 1) * w + j + 1] = (x[i] - x[j]).abs() + s[i * w + j + 1] + s[(i + 1) * w + j] - s[i * w + j];
        }
    }
    let block =
        |i0: usize, i1: usize, j0: usize, j1: usize| s[i1 * w + j1] - s[i0 * w + j1] - s[i1 * w + j0] + s[i0 * w + j0];
    let pairs = |c: f64| c * (c - 1.0) / 2.0;
    let mut best: Option<(usize, f64)> = None;
    for tau in MIN_SIDE..=n - MIN_SIDE {
        let m = tau as f64;
        let within_left = block(0, tau, 0, tau) / 2.0;
        for kappa in tau + MIN_SIDE..=n {
            let r = (kappa - tau) as f64;
            let across = block(0, tau, tau, kappa);
            let within_right = block(tau, kappa, tau, kappa) / 2.0;
            let q = (m * r / (m + r)) * (2.0 * across / (m * r) - within_left / pairs(m) - within_right / pairs(r));
            if best.is_none_or(|(_, b)| q > b) {
                best = Some((tau, q));
            }
        }
    }
    best
}

/// Why a test's figure shifted at a run, as far as its history tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The canary shifted in the same runs (one run either side): the machine changed.
    Machine,
    /// The canary did not move: the schema, its data or the settings changed;
    /// `plan_changed` when the test's plan fingerprint changed at that run.
    ThisTest { plan_changed: bool },
    /// The runs around it have no canary figure (recorded before the canary existed).
    Unknown,
}

impl Cause {
    /// `at`: the run where the test shifted; `canary_at`: where the canary shifted;
    /// `canary_known`: whether the runs on both sides of `at` have canary figures.
    pub fn of(at: usize, canary_at: &[usize], canary_known: bool, plan_changed: bool) -> Cause {
        if !canary_known {
            Cause::Unknown
        } else if canary_at.iter().any(|c| c.abs_diff(at) <= 1) {
            Cause::Machine
        } else {
            Cause::ThisTest { plan_changed }
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cause::Machine => "the canary shifted in the same runs: the machine changed, not the database",
            Cause::ThisTest { plan_changed: true } => {
                "the canary did not move: the schema, its data or the settings changed, and the plan changed in this run"
            }
            Cause::ThisTest { plan_changed: false } => {
                "the canary did not move: the schema, its data or the settings changed (same plan)"
            }
            Cause::Unknown => "no canary figure around this run (runs before 0.3.0): machine or database cannot be told apart",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_index_is_found_where_it_began() {
        let with = [0.021, 0.023, 0.020, 0.024];
        let without = [1.8, 1.6, 2.0, 1.7];
        let history: Vec<f64> = with.iter().chain(without.iter()).copied().collect();
        assert_eq!(change_points(&history, 0.10, 0.1), vec![4]);
        // Back again later: two shifts.
        let back: Vec<f64> = history.iter().chain(with.iter()).copied().collect();
        assert_eq!(change_points(&back, 0.10, 0.1), vec![4, 8]);
    }

    #[test]
    fn a_shift_with_the_canary_is_the_machine() {
        assert_eq!(Cause::of(4, &[5], true, false), Cause::Machine);
        assert_eq!(Cause::of(4, &[], true, true), Cause::ThisTest { plan_changed: true });
        assert_eq!(Cause::of(4, &[8], true, false), Cause::ThisTest { plan_changed: false });
        assert_eq!(Cause::of(4, &[4], false, false), Cause::Unknown);
    }

    #[test]
    fn noise_is_not_a_change_point() {
        // A stable test on a noisy machine: +-20 % around 5 ms, no shift.
        let noisy = [5.1, 4.2, 5.9, 4.8, 5.5, 4.4, 6.0, 5.0, 4.6, 5.7, 4.9, 5.3];
        assert!(change_points(&noisy, 0.10, 0.1).is_empty());
        // A shift too small to matter (0.02 ms) is not one either, however clean.
        let tiny = [0.10, 0.10, 0.10, 0.10, 0.12, 0.12, 0.12, 0.12];
        assert!(change_points(&tiny, 0.10, 0.1).is_empty());
        assert!(change_points(&[1.0, 2.0, 3.0], 0.10, 0.1).is_empty());
    }

    #[test]
    fn false_alarms_stay_under_alpha() {
        // 200 stable histories of 12 runs each (log-normal noise, sigma 0.2): the share
        // with a change point is the stated rate, give or take two standard errors of
        // 200 draws (5 % +- 3 %): a method that found shifts in noise would show far more.
        use rand::Rng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut alarms = 0;
        for _ in 0..200 {
            let h: Vec<f64> = (0..12)
                .map(|_| {
                    // Box-Muller from two uniforms.
                    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
                    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                    5.0 * (0.2 * z).exp()
                })
                .collect();
            if !change_points(&h, 0.10, 0.1).is_empty() {
                alarms += 1;
            }
        }
        assert!(alarms <= 16, "{alarms} of 200 stable histories had a change point");
    }
}
