//! Latency distributions as HDR histograms (the `hdrhistogram` crate): every latency
//! from 1 µs to an hour kept at 3 significant digits (a value is known to within
//! 0.1 %) in a fixed-size counts array, so a client records millions of transactions
//! in a few hundred kilobytes of memory and a few hundred bytes on disk, and the
//! histograms of clients and seconds merge into the histogram of the whole test.
//!
//! Stored as HDR's V2 encoding (the counts run-length and varint encoded), not its
//! deflated form: a row an operator could have written is checked by its header before
//! anything is allocated for it, and an uncompressed encoding cannot inflate into
//! something larger than the row.

use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use std::time::Duration;

/// The longest latency kept exactly (in µs): one hour. Longer ones are recorded as an hour.
const HIGHEST_US: u64 = 3_600_000_000;
/// Significant digits: a recorded value is within 0.1 % of the latency.
const SIGNIFICANT_DIGITS: u8 = 3;

/// The encoding's header: cookie, payload length, normalizing offset, digits, lowest,
/// highest, conversion ratio. Everything but the payload length must be ours.
const HEADER_LEN: usize = 40;

/// One latency distribution, in microseconds.
#[derive(Clone)]
pub struct Latencies(Histogram<u64>);

impl std::fmt::Debug for Latencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Latencies({} values)", self.count())
    }
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    pub fn new() -> Latencies {
        Latencies(Histogram::new_with_bounds(1, HIGHEST_US, SIGNIFICANT_DIGITS).expect("constant, valid bounds"))
    }

    /// Record one latency (over an hour counts as an hour).
    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).min(HIGHEST_US);
        self.0.saturating_record(us);
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Add another distribution (clients, seconds); counts saturate rather than wrap.
    pub fn merge(&mut self, other: &Latencies) {
        if self.0.add(&other.0).is_err() {
            // Only a count beyond u64 fails; never from recorded transactions.
            for v in other.0.iter_recorded() {
                self.0.saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
    }

    pub fn clear(&mut self) {
        self.0.reset();
    }

    /// The latency at `quantile` (0..=1) in milliseconds; None when nothing was recorded.
    /// HDR reports the highest value equivalent to the bucket, as pgbench's -l figures
    /// would round up.
    pub fn quantile_ms(&self, quantile: f64) -> Option<f64> {
        (!self.is_empty()).then(|| us_to_ms(self.0.value_at_quantile(quantile.clamp(0.0, 1.0))))
    }

    pub fn min_ms(&self) -> Option<f64> {
        (!self.is_empty()).then(|| us_to_ms(self.0.min()))
    }

    pub fn max_ms(&self) -> Option<f64> {
        (!self.is_empty()).then(|| us_to_ms(self.0.max()))
    }

    pub fn mean_ms(&self) -> Option<f64> {
        (!self.is_empty()).then(|| self.0.mean() / 1000.0)
    }

    pub fn stddev_ms(&self) -> Option<f64> {
        (self.count() > 1).then(|| self.0.stdev() / 1000.0)
    }

    /// How many latencies were over `limit_ms` (to the histogram's precision).
    pub fn count_over_ms(&self, limit_ms: f64) -> u64 {
        let limit_us = (limit_ms * 1000.0).clamp(0.0, HIGHEST_US as f64) as u64;
        let first_over = self.0.highest_equivalent(limit_us).saturating_add(1);
        if first_over > HIGHEST_US {
            return 0;
        }
        self.0.count_between(first_over, HIGHEST_US)
    }

    /// The V2 encoding (a few hundred bytes for a second of one client).
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        // Counts are u64 recorded by saturation: never above i64::MAX in practice, and
        // the only other failure is an I/O error on a Vec, which cannot happen.
        V2Serializer::new().serialize(&self.0, &mut buf).expect("encoding a histogram into memory");
        buf
    }

    /// A histogram from its encoding; refused unless its header is exactly ours (same
    /// range and precision) and its payload length is the bytes that follow it, so a
    /// forged row cannot make us allocate more than a histogram of our own: the decoder
    /// sizes its buffer from that length before reading anything.
    pub fn decode(bytes: &[u8]) -> Result<Latencies, String> {
        static OURS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let ours = OURS.get_or_init(|| Latencies::new().encode());
        if bytes.len() < HEADER_LEN || bytes[..4] != ours[..4] || bytes[8..HEADER_LEN] != ours[8..HEADER_LEN] {
            return Err("not a pg_perfsuite latency histogram (unknown header)".into());
        }
        let payload = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        if payload != bytes.len() - HEADER_LEN {
            return Err(format!("histogram payload of {payload} bytes stated, {} present", bytes.len() - HEADER_LEN));
        }
        let h: Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).map_err(|e| format!("{e:?}"))?;
        Ok(Latencies(h))
    }
}

fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The relative precision that follows from three significant digits.
    const RELATIVE_PRECISION: f64 = 0.001;

    /// The exact percentile of sorted values the way PostgreSQL's percentile_disc does.
    fn exact(sorted: &[u64], q: f64) -> u64 {
        let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[i]
    }

    #[test]
    fn percentiles_match_the_exact_ones_within_the_stated_precision() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // A long-tailed mix: most around a millisecond, some stalls of a second.
        let mut values: Vec<u64> = (0..30_000)
            .map(|i| if i % 97 == 0 { rng.random_range(200_000..1_200_000) } else { rng.random_range(300..3_000) })
            .collect();
        let mut h = Latencies::new();
        for &v in &values {
            h.record(Duration::from_micros(v));
        }
        values.sort_unstable();
        assert_eq!(h.count(), values.len() as u64);
        for q in [0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let want = exact(&values, q) as f64 / 1000.0;
            let got = h.quantile_ms(q).unwrap();
            assert!(
                (got - want).abs() <= want * RELATIVE_PRECISION + 0.001,
                "q {q}: histogram {got} ms, exact {want} ms"
            );
        }
        let mean = values.iter().sum::<u64>() as f64 / values.len() as f64 / 1000.0;
        assert!((h.mean_ms().unwrap() - mean).abs() <= mean * RELATIVE_PRECISION);
        let over = values.iter().filter(|&&v| v > 100_000).count() as u64;
        assert_eq!(h.count_over_ms(100.0), over);
    }

    #[test]
    fn histograms_merge_and_survive_their_encoding() {
        let (mut a, mut b) = (Latencies::new(), Latencies::new());
        for i in 1..=1000u64 {
            a.record(Duration::from_micros(i * 10));
            b.record(Duration::from_millis(i));
        }
        let bytes = a.encode();
        assert!(bytes.len() < 4000, "{} bytes", bytes.len());
        let mut merged = Latencies::decode(&bytes).unwrap();
        merged.merge(&Latencies::decode(&b.encode()).unwrap());
        assert_eq!(merged.count(), 2000);
        assert_eq!(merged.max_ms(), Some(1000.447)); // 1 s, to the bucket's highest equivalent
        assert!(merged.min_ms().unwrap() <= 0.01);
        // Recording over an hour saturates rather than failing.
        let mut long = Latencies::new();
        long.record(Duration::from_secs(7200));
        long.record(Duration::ZERO);
        assert_eq!(long.count(), 2);
        assert!(long.max_ms().unwrap() >= 3_600_000.0);
    }

    #[test]
    fn a_foreign_or_forged_encoding_is_refused() {
        assert!(Latencies::decode(b"").is_err());
        assert!(Latencies::decode(&[0u8; 64]).is_err());
        // A histogram of another range or precision: same cookie, other header.
        let other: Histogram<u64> = Histogram::new_with_bounds(1, u64::MAX / 4, 5).unwrap();
        let mut bytes = Vec::new();
        V2Serializer::new().serialize(&other, &mut bytes).unwrap();
        assert!(Latencies::decode(&bytes).is_err());
        // Ours, cut short.
        let mut h = Latencies::new();
        h.record(Duration::from_millis(3));
        let good = h.encode();
        assert!(Latencies::decode(&good[..good.len() - 1]).is_err());
        assert!(Latencies::decode(&good).is_ok());
        // A payload length that is not the bytes present (the decoder would zero-fill a
        // buffer of that size first: 4 GB for 0xffffffff).
        let mut huge = good.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Latencies::decode(&huge).unwrap_err().contains("4294967295 bytes stated"));
        let mut padded = good.clone();
        padded.extend_from_slice(&[0u8; 16]);
        assert!(Latencies::decode(&padded).is_err());
    }
}
