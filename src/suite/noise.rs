//! Is a change between two runs of a test real, or noise? Decided over the per-iteration
//! samples each run keeps, never over one figure per run.
//!
//! The method, and what it assumes (docs/regressions.md says the same for DBAs):
//! - **Test:** Mann-Whitney U, two-sided, normal approximation with tie and continuity
//!   corrections. It assumes nothing about the shape of the timings (latencies are
//!   skewed and have outliers) but treats the iterations of a run as independent draws;
//!   iterations that share a cache state are not quite that, which is one reason for the
//!   effect threshold below.
//! - **Effect size:** the ratio of medians (after / before), with a 95 % bootstrap
//!   percentile interval (2,000 resamples of each run, a fixed seed so the same samples
//!   always give the same interval), and Cliff's delta (the share of pairs where the
//!   new run is slower minus the share where it is faster).
//! - **Noise band:** how far this test's median moves between runs when nothing
//!   changed, learned from its history: the range (largest / smallest - 1) of its
//!   medians over up to 10 earlier completed runs of the schema, once there are at least
//!   3. Without that history the band is 50 %. A run-wide slowdown of the machine moves
//!   every sample of a run together, so significance alone would flag it: two runs of
//!   one build on the 2-vCPU development machine differ by up to ~1.4x in the median of
//!   millisecond queries (bench/noise.sh).
//! - **Verdict:** `regressed` when the samples differ (p < 0.01), the median moved
//!   beyond the band and the threshold (default 10 %) and by at least a floor in
//!   absolute terms (default 0.1 ms: below that, microseconds of scheduling are the
//!   whole difference) in the slower direction; `improved` the other way (ratio below
//!   1 / (1 + band)); otherwise `within noise`.
//! - Fewer than [`MIN_SAMPLES`] samples on either side: no test; the verdict falls back
//!   to the threshold on the recorded figures and says so.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::stats::{median, percentile_cont};

/// Below this many samples per run the normal approximation of U is not trusted.
pub const MIN_SAMPLES: usize = 5;
/// Significance level of the two-sided test.
pub const ALPHA: f64 = 0.01;
/// The smallest relative change in the median worth flagging, unless the caller picks
/// another (the noise band may ask for more).
pub const DEFAULT_THRESHOLD: f64 = 0.10;
/// Earlier runs needed to learn a test's noise band (store::compare reads up to 10).
pub const MIN_HISTORY: usize = 3;
/// The band when a test has too little history to learn its own.
pub const NO_HISTORY_BAND: f64 = 0.5;
/// The smallest absolute change in the median (ms) worth flagging, unless the caller
/// picks another.
pub const DEFAULT_MIN_CHANGE_MS: f64 = 0.1;

/// What counts as a change worth flagging.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Relative: 0.25 is 25 %.
    pub threshold: f64,
    pub min_change_ms: f64,
}

impl Default for Bar {
    fn default() -> Bar {
        Bar { threshold: DEFAULT_THRESHOLD, min_change_ms: DEFAULT_MIN_CHANGE_MS }
    }
}
const BOOTSTRAP_RESAMPLES: usize = 2000;
/// The most samples of one run a judgement reads. A run records at most 100000 per test
/// and operators may rewrite samples_ms, so the work is bounded here: a larger side is
/// read as this many evenly spaced order statistics (its distribution, at a resolution
/// far finer than the test needs). At 2000 bootstrap resamples a judgement then takes
/// a few hundred ms at most.
pub const MAX_SAMPLES_JUDGED: usize = 2000;
const BOOTSTRAP_SEED: u64 = 0x5eed_9e2f;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    Regressed,
    Improved,
    WithinNoise,
}

impl Movement {
    pub fn as_str(self) -> &'static str {
        match self {
            Movement::Regressed => "regressed",
            Movement::Improved => "improved",
            Movement::WithinNoise => "within noise",
        }
    }
}

/// What the samples say about one test between two runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    pub movement: Movement,
    /// Median after / median before (or the recorded figures' ratio without samples).
    pub ratio: f64,
    /// 95 % bootstrap interval of `ratio`; `None` without samples.
    pub ratio_low: Option<f64>,
    pub ratio_high: Option<f64>,
    /// Two-sided Mann-Whitney p-value; `None` without samples.
    pub p_value: Option<f64>,
    /// Cliff's delta in [-1, 1]: positive means the new run is slower.
    pub cliffs_delta: Option<f64>,
    /// The relative change the median had to exceed (noise band or threshold).
    pub band: f64,
    /// "Mann-Whitney U over 20 + 20 samples; band ..." or why the figures alone decided.
    pub method: String,
}

/// The noise band for a test: the spread of its medians in earlier runs, at least the
/// threshold; NO_HISTORY_BAND without enough history. Returns the band and how it was
/// found.
pub fn noise_band(history: &[f64], threshold: f64) -> (f64, String) {
    let h: Vec<f64> = history.iter().copied().filter(|x| x.is_finite() && *x > 0.0).collect();
    if h.len() < MIN_HISTORY {
        return (
            threshold.max(NO_HISTORY_BAND),
            format!(
                "band {:.0} % (fewer than {MIN_HISTORY} earlier runs to learn it from)",
                100.0 * threshold.max(NO_HISTORY_BAND)
            ),
        );
    }
    let (lo, hi) = h.iter().fold((f64::MAX, 0.0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let spread = hi / lo - 1.0;
    let band = threshold.max(spread);
    (band, format!("band {:.0} % (spread of {} earlier runs {:.0} %)", 100.0 * band, h.len(), 100.0 * spread))
}

/// Judge `after` against `before`. `figures` are the runs' recorded statistics, used
/// when either side has too few samples; `history` is the test's median (or figure) in
/// earlier runs, oldest first. (The server calls `judge_interruptible`.)
#[cfg(test)]
pub fn judge(before: &[f64], after: &[f64], figures: (f64, f64), history: &[f64], bar: Bar) -> Judgement {
    judge_interruptible(before, after, figures, history, bar, &|| {})
}

/// `judge`, calling `interrupts` often enough (every bootstrap resample) that the
/// server can cancel a judgement over large stored histories within a few ms.
pub fn judge_interruptible(
    before: &[f64],
    after: &[f64],
    figures: (f64, f64),
    history: &[f64],
    bar: Bar,
    interrupts: &dyn Fn(),
) -> Judgement {
    let clean = |s: &[f64]| thin(s.iter().copied().filter(|x| x.is_finite()).collect::<Vec<_>>());
    let (before, after) = (clean(before), clean(after));
    interrupts();
    let (band, how) = noise_band(history, bar.threshold);
    if before.len() < MIN_SAMPLES || after.len() < MIN_SAMPLES {
        let ratio = ratio_of(figures.0, figures.1);
        let big_enough = (figures.1 - figures.0).abs() >= bar.min_change_ms;
        return Judgement {
            movement: beyond(ratio, band, big_enough),
            ratio,
            ratio_low: None,
            ratio_high: None,
            p_value: None,
            cliffs_delta: None,
            band,
            method: format!(
                "figures only: {} + {} samples (a test needs {MIN_SAMPLES} per run); {how}",
                before.len(),
                after.len()
            ),
        };
    }
    let u = mann_whitney(&before, &after);
    let (m_before, m_after) = (median(&before), median(&after));
    let ratio = ratio_of(m_before, m_after);
    interrupts();
    let (low, high) = bootstrap_ratio_interval(&before, &after, interrupts);
    let big_enough = (m_after - m_before).abs() >= bar.min_change_ms;
    Judgement {
        movement: beyond(ratio, band, u.p_value < ALPHA && big_enough),
        ratio,
        ratio_low: Some(low),
        ratio_high: Some(high),
        p_value: Some(u.p_value),
        cliffs_delta: Some(u.cliffs_delta),
        band,
        method: format!("Mann-Whitney U over {} + {} samples; {how}", before.len(), after.len()),
    }
}

impl Judgement {
    /// One line for people: "regressed: median x2.31 (95 % CI 2.10-2.55), p < 0.001".
    pub fn describe(&self) -> String {
        let ratio = format!("median x{:.2}", self.ratio);
        match (self.p_value, self.ratio_low, self.ratio_high) {
            (Some(p), Some(lo), Some(hi)) => {
                let p = if p < 0.001 { "p < 0.001".to_string() } else { format!("p = {p:.3}") };
                format!("{}: {ratio} (95 % CI {lo:.2}-{hi:.2}), {p}", self.movement.as_str())
            }
            _ => format!("{}: x{:.2} ({})", self.movement.as_str(), self.ratio, self.method),
        }
    }
}

/// `significant`: the evidence says the change is real and large enough in ms.
fn beyond(ratio: f64, band: f64, significant: bool) -> Movement {
    if significant && ratio > 1.0 + band {
        Movement::Regressed
    } else if significant && ratio < 1.0 / (1.0 + band) {
        Movement::Improved
    } else {
        Movement::WithinNoise
    }
}

/// after / before; two zero figures are "no change", a zero before is treated as tiny.
fn ratio_of(before: f64, after: f64) -> f64 {
    if before <= 0.0 {
        if after <= 0.0 {
            1.0
        } else {
            f64::INFINITY
        }
    } else {
        after / before
    }
}

/// At most MAX_SAMPLES_JUDGED of `samples`: all of them, or evenly spaced order
/// statistics (minimum and maximum included) when there are more.
fn thin(mut samples: Vec<f64>) -> Vec<f64> {
    let n = samples.len();
    if n <= MAX_SAMPLES_JUDGED {
        return samples;
    }
    samples.sort_by(f64::total_cmp);
    let step = (n - 1) as f64 / (MAX_SAMPLES_JUDGED - 1) as f64;
    (0..MAX_SAMPLES_JUDGED).map(|i| samples[((i as f64 * step).round() as usize).min(n - 1)]).collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct MannWhitney {
    /// U of `after`: pairs where after > before, ties counting half.
    pub u_after: f64,
    pub p_value: f64,
    pub cliffs_delta: f64,
}

/// Two-sided Mann-Whitney U test with average ranks for ties, the tie-corrected
/// variance and a continuity correction.
pub fn mann_whitney(before: &[f64], after: &[f64]) -> MannWhitney {
    let (n1, n2) = (before.len() as f64, after.len() as f64);
    let mut all: Vec<(f64, bool)> =
        before.iter().map(|&x| (x, false)).chain(after.iter().map(|&x| (x, true))).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = all.len();
    let (mut rank_sum_after, mut tie_term) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Positions i..=j share the average of ranks i+1..=j+1.
        let rank = (i + j + 2) as f64 / 2.0;
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        rank_sum_after += rank * all[i..=j].iter().filter(|(_, a)| *a).count() as f64;
        i = j + 1;
    }
    let u_after = rank_sum_after - n2 * (n2 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let total = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((total + 1.0) - tie_term / (total * (total - 1.0)));
    let p_value = if variance <= 0.0 {
        1.0
    } else {
        let diff = u_after - mean;
        let corrected = (diff.abs() - 0.5).max(0.0);
        erfc(corrected / variance.sqrt() / std::f64::consts::SQRT_2).min(1.0)
    };
    MannWhitney { u_after, p_value, cliffs_delta: 2.0 * u_after / (n1 * n2) - 1.0 }
}

/// 95 % percentile interval of median(after) / median(before) over bootstrap resamples.
fn bootstrap_ratio_interval(before: &[f64], after: &[f64], interrupts: &dyn Fn()) -> (f64, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(BOOTSTRAP_SEED);
    let mut resample = |s: &[f64], buf: &mut Vec<f64>| {
        buf.clear();
        buf.extend((0..s.len()).map(|_| s[rng.random_range(0..s.len())]));
        buf.sort_by(f64::total_cmp);
        percentile_cont(buf, 0.5)
    };
    let (mut a, mut b) = (Vec::with_capacity(before.len()), Vec::with_capacity(after.len()));
    let mut ratios: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| {
            interrupts();
            let mb = resample(before, &mut a);
            ratio_of(mb, resample(after, &mut b))
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    (percentile_cont(&ratios, 0.025), percentile_cont(&ratios, 0.975))
}

/// Complementary error function, Numerical Recipes' Chebyshev fit (`erfcc`): fractional
/// error below 1.2e-7 everywhere, plenty for a p-value compared with 0.01.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: &[f64] = &[];
    const STEADY: &[f64] = &[2.0, 2.02, 1.98];

    fn spread(center: f64, n: usize) -> Vec<f64> {
        // Deterministic jitter of ±5 % around center.
        (0..n).map(|i| center * (0.95 + 0.1 * ((i * 7 % n) as f64 / n as f64))).collect()
    }

    #[test]
    fn erfc_matches_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((erfc(2.0) - 0.004_677_735).abs() < 1e-8);
        assert!((erfc(-1.0) - 1.842_700_793).abs() < 1e-7);
    }

    #[test]
    fn mann_whitney_matches_a_worked_example() {
        // No overlap: U = 25 of 25, z = (12.5 - 0.5) / sqrt(25/12 * 11) = 2.5067,
        // two-sided p = erfc(z / sqrt 2) = 0.012186 (the asymptotic, continuity-corrected test).
        let r = mann_whitney(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]);
        assert_eq!(r.u_after, 25.0);
        assert!((r.p_value - 0.012_186).abs() < 1e-5, "{}", r.p_value);
        assert_eq!(r.cliffs_delta, 1.0);
        // Identical samples: no evidence of a difference.
        let same = mann_whitney(&[1.0, 1.0, 1.0], &[1.0, 1.0, 1.0]);
        assert_eq!(same.p_value, 1.0);
        assert_eq!(same.cliffs_delta, 0.0);
    }

    #[test]
    fn same_distribution_is_within_noise() {
        let j = judge(&spread(2.0, 20), &spread(2.0, 20), (2.1, 2.1), NONE, Bar::default());
        assert_eq!(j.movement, Movement::WithinNoise);
        assert!(j.p_value.unwrap() > 0.5);
        assert!(j.ratio_low.unwrap() <= 1.0 && j.ratio_high.unwrap() >= 1.0);
    }

    #[test]
    fn a_doubling_is_a_regression_and_a_halving_an_improvement() {
        let j = judge(&spread(2.0, 20), &spread(4.0, 20), (2.1, 4.2), NONE, Bar::default());
        assert_eq!(j.movement, Movement::Regressed);
        assert!(j.p_value.unwrap() < 1e-6);
        assert!(j.ratio_low.unwrap() > 1.8 && j.ratio_high.unwrap() < 2.2, "{j:?}");
        assert_eq!(j.cliffs_delta, Some(1.0));
        let j = judge(&spread(4.0, 20), &spread(2.0, 20), (4.2, 2.1), NONE, Bar::default());
        assert_eq!(j.movement, Movement::Improved);
    }

    #[test]
    fn a_significant_shift_below_the_threshold_is_noise() {
        // Every sample 5 % slower: real by the test, too small to flag at 25 %.
        let before = spread(2.0, 20);
        let after: Vec<f64> = before.iter().map(|x| x * 1.05 + 0.001).collect();
        let j = judge(&before, &after, (2.1, 2.2), STEADY, Bar::default());
        assert_eq!(j.movement, Movement::WithinNoise);
        // ...and flagged when the caller asks for 2 % and any size, on a steady history.
        let bar = Bar { threshold: 0.02, min_change_ms: 0.0 };
        assert_eq!(judge(&before, &after, (2.1, 2.2), STEADY, bar).movement, Movement::Regressed);
    }

    #[test]
    fn the_band_is_learned_from_history() {
        let (before, after) = (spread(2.0, 20), spread(2.6, 20));
        // A steady test: 1.3x is far outside its 2 % spread.
        let j = judge(&before, &after, (2.1, 2.7), STEADY, Bar::default());
        assert_eq!(j.movement, Movement::Regressed);
        assert!((j.band - 0.10).abs() < 1e-9 && j.method.contains("spread of 3 earlier runs 2 %"), "{j:?}");
        // A test whose median wandered 40 % between earlier runs: 1.3x is its noise.
        let j = judge(&before, &after, (2.1, 2.7), &[2.0, 2.8, 2.2], Bar::default());
        assert_eq!(j.movement, Movement::WithinNoise);
        assert!((j.band - 0.4).abs() < 1e-9, "{j:?}");
        // No history: the 50 % band.
        let j = judge(&before, &after, (2.1, 2.7), &[2.0, 2.1], Bar::default());
        assert_eq!((j.movement, j.band), (Movement::WithinNoise, NO_HISTORY_BAND));
    }

    #[test]
    fn microseconds_are_within_noise_however_large_the_ratio() {
        // 0.02 ms -> 0.04 ms: twice as slow, real by the test, 20 µs in absolute terms.
        let j = judge(&spread(0.02, 20), &spread(0.04, 20), (0.021, 0.042), NONE, Bar::default());
        assert!(j.p_value.unwrap() < 1e-6 && j.ratio > 1.9, "{j:?}");
        assert_eq!(j.movement, Movement::WithinNoise);
        let bar = Bar { min_change_ms: 0.01, ..Bar::default() };
        assert_eq!(
            judge(&spread(0.02, 20), &spread(0.04, 20), (0.021, 0.042), NONE, bar).movement,
            Movement::Regressed
        );
    }

    #[test]
    fn one_outlier_does_not_make_a_regression() {
        let before = spread(2.0, 20);
        let mut after = spread(2.0, 20);
        after[3] = 200.0;
        assert_eq!(judge(&before, &after, (2.1, 60.0), NONE, Bar::default()).movement, Movement::WithinNoise);
    }

    #[test]
    fn too_few_samples_fall_back_to_the_figures_and_say_so() {
        let j = judge(&[1.0, 2.0], &[], (2.0, 4.0), NONE, Bar::default());
        assert_eq!(j.movement, Movement::Regressed);
        assert_eq!(j.p_value, None);
        assert!(j.method.starts_with("figures only"), "{}", j.method);
        assert_eq!(judge(&[], &[], (2.0, 2.1), NONE, Bar::default()).movement, Movement::WithinNoise);
    }

    #[test]
    fn descriptions_name_the_verdict_and_the_evidence() {
        let j = judge(&spread(2.0, 20), &spread(4.0, 20), (2.1, 4.2), NONE, Bar::default());
        let d = j.describe();
        assert!(d.starts_with("regressed: median x2.0"), "{d}");
        assert!(d.contains("95 % CI") && d.ends_with("p < 0.001"), "{d}");
        let d = judge(&[], &[], (2.0, 2.1), NONE, Bar::default()).describe();
        assert!(d.starts_with("within noise: x1.05 (figures only"), "{d}");
    }

    #[test]
    fn a_huge_history_is_judged_from_a_bounded_sample_with_interrupt_checks() {
        let before: Vec<f64> = (0..200_000).map(|i| 1.0 + (i % 100) as f64 / 1000.0).collect();
        let after: Vec<f64> = before.iter().map(|x| x * 2.0).collect();
        assert_eq!(thin(before.clone()).len(), MAX_SAMPLES_JUDGED);
        let calls = std::cell::Cell::new(0usize);
        let j = judge_interruptible(&before, &after, (1.05, 2.1), &[], Bar::default(), &|| calls.set(calls.get() + 1));
        assert_eq!(j.movement, Movement::Regressed);
        assert!(j.method.contains("2000 + 2000 samples"), "{}", j.method);
        assert!(calls.get() > BOOTSTRAP_RESAMPLES, "{} interrupt checks", calls.get());
    }

    #[test]
    fn the_interval_is_reproducible() {
        let (a, b) = (spread(3.0, 20), spread(3.3, 20));
        assert_eq!(bootstrap_ratio_interval(&a, &b, &|| {}), bootstrap_ratio_interval(&a, &b, &|| {}));
    }
}
