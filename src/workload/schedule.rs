//! When a rate-limited client's transactions are due (open-loop load): pgbench -R's
//! schedule. Arrivals are Poisson by default (exponential gaps with the client's mean,
//! so the clients together are a Poisson process at the total rate, bursts included) or
//! regular (one every mean gap). The schedule does not wait for the server: a client
//! that falls behind starts its late transactions at once, and their latency counts
//! from when they were due (pure logic).

use rand::{Rng, SeedableRng};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrivals {
    Poisson,
    Regular,
}

impl Arrivals {
    pub fn parse(s: &str) -> Option<Arrivals> {
        match s {
            "poisson" => Some(Arrivals::Poisson),
            "regular" => Some(Arrivals::Regular),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Arrivals::Poisson => "poisson",
            Arrivals::Regular => "regular",
        }
    }
}

/// The intended start of each transaction, as an offset from the client's start.
pub struct Schedule {
    arrivals: Arrivals,
    mean_gap_s: f64,
    next_s: f64,
    rng: rand_chacha::ChaCha8Rng,
}

impl Schedule {
    /// `mean_gap`: the client's share of the rate (clients / rate). The gaps are drawn
    /// from a generator of their own seeded by the client's number, so the same client
    /// of every load test has the same schedule.
    pub fn new(arrivals: Arrivals, mean_gap: Duration, client: i32) -> Schedule {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(client as u64);
        // Not the stream the client's variables are drawn from.
        rng.set_stream(1);
        Schedule { arrivals, mean_gap_s: mean_gap.as_secs_f64(), next_s: 0.0, rng }
    }

    fn gap_s(&mut self) -> f64 {
        match self.arrivals {
            Arrivals::Regular => self.mean_gap_s,
            // Inverse transform: 1 - u is in (0, 1], so the logarithm is finite.
            Arrivals::Poisson => -(1.0 - self.rng.random::<f64>()).ln() * self.mean_gap_s,
        }
    }
}

impl Schedule {
    /// How many more transactions the schedule has due before `end` (an offset from
    /// the client's start), `cap` at most: the ones a client that fell behind never
    /// started. Counted one by one over a short window; over a long one (more than
    /// `EXACT_UP_TO` gaps) the expected count, so a client that fell hours behind at a
    /// high rate does not spend minutes drawing gaps it will never run.
    pub fn count_before(&mut self, end: Duration, cap: u64) -> u64 {
        const EXACT_UP_TO: f64 = 100_000.0;
        let window = end.as_secs_f64() - self.next_s;
        if window <= 0.0 || self.mean_gap_s <= 0.0 {
            return 0;
        }
        let expected = window / self.mean_gap_s;
        if expected > EXACT_UP_TO {
            return (expected.floor() as u64).min(cap);
        }
        let mut n = 0;
        while n < cap && self.next().is_some_and(|d| d < end) {
            n += 1;
        }
        n
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    /// The next transaction's intended start. The first one is due one gap after the
    /// start (pgbench's first is drawn too), so the clients do not all start at once.
    fn next(&mut self) -> Option<Duration> {
        self.next_s += self.gap_s();
        Some(Duration::from_secs_f64(self.next_s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kolmogorov-Smirnov distance of the gaps from an exponential distribution of their
    /// own mean.
    fn ks_exponential(gaps: &[f64]) -> f64 {
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let mut sorted = gaps.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        sorted
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let f = 1.0 - (-g / mean).exp();
                (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max)
    }

    fn gaps(s: Schedule, n: usize) -> Vec<f64> {
        let starts: Vec<f64> = s.take(n + 1).map(|d| d.as_secs_f64()).collect();
        starts.windows(2).map(|w| w[1] - w[0]).collect()
    }

    #[test]
    fn poisson_gaps_are_exponential_with_the_clients_mean() {
        let g = gaps(Schedule::new(Arrivals::Poisson, Duration::from_millis(20), 3), 5000);
        let mean = g.iter().sum::<f64>() / g.len() as f64;
        assert!((mean - 0.020).abs() < 0.020 * 0.05, "mean gap {mean}");
        // 1.63 / sqrt(n): the 1 % critical value.
        let d = ks_exponential(&g);
        assert!(d < 1.63 / (g.len() as f64).sqrt(), "KS distance {d}");
        // And a regular schedule is nothing like it.
        let r = gaps(Schedule::new(Arrivals::Regular, Duration::from_millis(20), 3), 5000);
        assert!(r.iter().all(|x| (x - 0.020).abs() < 1e-9));
        assert!(ks_exponential(&r) > 0.3);
    }

    #[test]
    fn what_a_client_left_unstarted_is_counted_exactly_or_expected() {
        let mut s = Schedule::new(Arrivals::Regular, Duration::from_millis(10), 0);
        s.next(); // due at 10 ms, started
        assert_eq!(s.count_before(Duration::from_millis(1000), u64::MAX), 98, "20, 30, ... 990 ms");
        let mut capped = Schedule::new(Arrivals::Regular, Duration::from_millis(10), 0);
        assert_eq!(capped.count_before(Duration::from_secs(1), 5), 5);
        // A day behind at a million a second: the expected count, at once.
        let mut far = Schedule::new(Arrivals::Poisson, Duration::from_micros(1), 0);
        let t = std::time::Instant::now();
        let n = far.count_before(Duration::from_secs(86_400), u64::MAX);
        assert!(t.elapsed() < Duration::from_secs(1) && (n as f64 - 86.4e9).abs() < 1e6, "{n}");
    }

    #[test]
    fn each_client_has_its_own_repeatable_schedule() {
        let a: Vec<Duration> = Schedule::new(Arrivals::Poisson, Duration::from_millis(5), 1).take(50).collect();
        let b: Vec<Duration> = Schedule::new(Arrivals::Poisson, Duration::from_millis(5), 1).take(50).collect();
        let c: Vec<Duration> = Schedule::new(Arrivals::Poisson, Duration::from_millis(5), 2).take(50).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(Arrivals::parse("poisson"), Some(Arrivals::Poisson));
        assert_eq!(Arrivals::parse("bursty"), None);
    }
}
