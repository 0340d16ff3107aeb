//! The capacity search (pure logic): open-loop steps of rising offered rate, doubling
//! while the target holds, then bisection between the highest rate that met it and the
//! lowest that did not, until they are within a few percent. The answer is the highest
//! rate that met the target; the knee is where latency leaves its flat part (Kneedle on
//! offered rate against the logarithm of p95).

/// What one step measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub offered_rate: f64,
    pub p95_ms: Option<f64>,
    pub met: bool,
}

/// What a step's load test counted, for [`met`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub done: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Due before the end of the step but never started (the clients fell behind).
    pub behind: i64,
}

/// The share of the transactions due in a step that must have been done for it to count
/// as kept up with: an open-loop client that falls behind leaves the rest unstarted.
pub const KEPT_UP: f64 = 0.95;

/// A step met the target when nothing failed, its p95 response time (from when each
/// transaction was due) is within the target, and the server kept up with the offered
/// rate.
pub fn met(c: Counts, p95_ms: Option<f64>, target_p95_ms: f64) -> bool {
    let due = c.done + c.failed + c.skipped + c.behind;
    c.failed == 0 && due > 0 && p95_ms.is_some_and(|p| p <= target_p95_ms) && c.done as f64 >= KEPT_UP * due as f64
}

#[derive(Debug, Clone, Copy)]
pub struct Search {
    pub start_rate: f64,
    pub max_steps: usize,
    /// Stop bisecting when the bracket is this narrow, relative to its lower end.
    pub tolerance: f64,
    /// Never offer less than this (transactions per second over all clients).
    pub min_rate: f64,
    /// Never offer more than this.
    pub max_rate: f64,
}

impl Search {
    /// The rate of the next step, or None when the search is done.
    pub fn next_rate(&self, steps: &[Step]) -> Option<f64> {
        if steps.len() >= self.max_steps {
            return None;
        }
        if steps.is_empty() {
            return Some(self.start_rate.clamp(self.min_rate, self.max_rate));
        }
        let (lo, hi) = bracket(steps);
        let next = match (lo, hi) {
            // Doubling and halving stop at the limits, which are tried once.
            (Some(lo), None) => (lo * 2.0).min(self.max_rate),
            (None, Some(hi)) => (hi / 2.0).max(self.min_rate),
            (Some(lo), Some(hi)) if (hi - lo) / lo > self.tolerance => (lo + hi) / 2.0,
            _ => return None,
        };
        // A rate already tried: the bracket cannot narrow further.
        let tried = steps.iter().any(|s| (s.offered_rate - next).abs() < 1e-9 * next.max(1.0));
        (!tried).then_some(next)
    }
}

/// The highest rate that met the target below the lowest that did not (a met step above
/// a missed one is noise around the edge and is not believed), and that lowest miss.
fn bracket(steps: &[Step]) -> (Option<f64>, Option<f64>) {
    let hi = steps.iter().filter(|s| !s.met).map(|s| s.offered_rate).reduce(f64::min);
    let lo = steps
        .iter()
        .filter(|s| s.met && hi.is_none_or(|h| s.offered_rate < h))
        .map(|s| s.offered_rate)
        .reduce(f64::max);
    (lo, hi)
}

/// The answer: the index of the step with the highest rate that met the target (below
/// the lowest miss).
pub fn capacity(steps: &[Step]) -> Option<usize> {
    let (lo, _) = bracket(steps);
    let lo = lo?;
    steps.iter().position(|s| s.met && s.offered_rate == lo)
}

/// Latency has turned upward only when the last step's p95 is at least this many times
/// the lowest p95 of the search.
const KNEE_RISE: f64 = 2.0;

/// The knee: where latency turns upward. Kneedle over the steps in order of offered
/// rate from the one with the lowest p95 on (the early steps often fall as caches
/// warm), with the rate on a linear axis and p95 on a logarithmic one (latency grows
/// by factors), both scaled to [0, 1]: the step farthest below the chord from that
/// step to the last. None with fewer than three such steps, or when the last p95 is
/// not at least `KNEE_RISE` times the lowest (latency did not rise).
pub fn knee(steps: &[Step]) -> Option<usize> {
    let mut points: Vec<(usize, f64, f64)> = steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.p95_ms.filter(|p| *p > 0.0 && p.is_finite()).map(|p| (i, s.offered_rate, p.ln())))
        .collect();
    points.sort_by(|a, b| a.1.total_cmp(&b.1));
    let lowest = points.iter().enumerate().min_by(|a, b| a.1 .2.total_cmp(&b.1 .2))?.0;
    let points = &points[lowest..];
    if points.len() < 3 || points[points.len() - 1].2 - points[0].2 < KNEE_RISE.ln() {
        return None;
    }
    let (x0, x1) = (points[0].1, points[points.len() - 1].1);
    let (y0, y1) = (points[0].2, points[points.len() - 1].2);
    if x1 - x0 <= 0.0 {
        return None;
    }
    let scaled: Vec<(usize, f64, f64)> =
        points.iter().map(|&(i, x, y)| (i, (x - x0) / (x1 - x0), (y - y0) / (y1 - y0))).collect();
    // Height of each point below the chord from the first to the last (the chord is
    // the diagonal once scaled); the knee is the largest, when positive.
    scaled
        .iter()
        .map(|p| (p.0, p.1 - p.2))
        .filter(|&(_, d)| d > 1e-9)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// Whether the answer is bracketed: some rate above it missed the target. Without one,
/// the capacity is only "at least" the highest rate tried.
pub fn bracketed(steps: &[Step]) -> bool {
    let (lo, hi) = bracket(steps);
    lo.is_some() && hi.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that keeps p95 at 2 ms up to `cap` per second and drowns above it.
    fn server(cap: f64) -> impl Fn(f64) -> Step {
        move |rate| {
            let p95 = if rate <= cap { 2.0 + rate / cap } else { 2.0 + 50.0 * (rate / cap) };
            Step { offered_rate: rate, p95_ms: Some(p95), met: p95 <= 20.0 }
        }
    }

    fn search(cap: f64, start: f64) -> Vec<Step> {
        let s = Search { start_rate: start, max_steps: 20, tolerance: 0.05, min_rate: 1.0, max_rate: 1e6 };
        let run = server(cap);
        let mut steps = Vec::new();
        while let Some(rate) = s.next_rate(&steps) {
            steps.push(run(rate));
        }
        steps
    }

    #[test]
    fn doubling_then_bisection_finds_the_capacity_within_the_tolerance() {
        let steps = search(730.0, 25.0);
        let rates: Vec<f64> = steps.iter().map(|s| s.offered_rate).collect();
        assert_eq!(&rates[..6], &[25.0, 50.0, 100.0, 200.0, 400.0, 800.0]);
        let best = steps[capacity(&steps).unwrap()].offered_rate;
        assert!((730.0 * 0.95..=730.0).contains(&best), "{best} from {rates:?}");
        assert!(steps.len() <= 11, "{rates:?}");
        // The knee sits at the edge: the last step before latency shoots up.
        let k = knee(&steps).unwrap();
        assert!(steps[k].offered_rate <= 730.0 && steps[k].offered_rate >= 400.0, "knee at {}", steps[k].offered_rate);
    }

    #[test]
    fn a_first_step_over_the_target_halves() {
        let steps = search(30.0, 100.0);
        assert_eq!(steps[0].offered_rate, 100.0);
        assert!(!steps[0].met && steps[1].offered_rate == 50.0 && steps[2].offered_rate == 25.0);
        let best = steps[capacity(&steps).unwrap()].offered_rate;
        assert!((28.5..=30.0).contains(&best), "{best}");
        // Nothing ever meets: the search ends at the lowest rate without an answer.
        let none = search(0.5, 10.0);
        assert!(capacity(&none).is_none());
        assert!(none.last().unwrap().offered_rate >= 1.0);
    }

    #[test]
    fn the_knee_is_where_latency_leaves_its_flat_part() {
        // A search measured on this machine (bench/load.sh): flat near 1 ms to 3200/s,
        // 16.6 ms at 6400/s, then drowning.
        let measured = [
            (50.0, 2.20),
            (100.0, 1.65),
            (200.0, 0.98),
            (400.0, 0.87),
            (800.0, 0.91),
            (1600.0, 0.87),
            (3200.0, 1.27),
            (6400.0, 16.62),
            (12800.0, 1240.06),
            (9600.0, 732.16),
            (8000.0, 449.02),
            (7200.0, 88.70),
        ];
        let steps: Vec<Step> =
            measured.iter().map(|&(r, p)| Step { offered_rate: r, p95_ms: Some(p), met: p <= 100.0 }).collect();
        assert_eq!(steps[knee(&steps).unwrap()].offered_rate, 3200.0);
        assert_eq!(steps[capacity(&steps).unwrap()].offered_rate, 7200.0);
    }

    #[test]
    fn a_met_step_above_a_miss_is_not_believed() {
        let step = |r: f64, met: bool| Step { offered_rate: r, p95_ms: Some(1.0), met };
        let steps = vec![step(100.0, true), step(200.0, false), step(400.0, true)];
        assert_eq!(capacity(&steps), Some(0));
    }

    #[test]
    fn met_needs_no_failures_the_target_and_keeping_up() {
        let c = Counts { done: 100, ..Default::default() };
        assert!(met(c, Some(10.0), 10.0));
        assert!(!met(c, Some(10.1), 10.0));
        assert!(!met(Counts { failed: 1, ..c }, Some(1.0), 10.0));
        assert!(!met(Counts { behind: 6, ..c }, Some(1.0), 10.0), "94 % done is falling behind");
        assert!(met(Counts { behind: 5, ..c }, Some(1.0), 10.0));
        assert!(!met(Counts::default(), None, 10.0));
        // A flat line has no knee.
        let flat: Vec<Step> = (1..5).map(|i| Step { offered_rate: i as f64, p95_ms: Some(1.0), met: true }).collect();
        assert_eq!(knee(&flat), None);
    }
}
