//! What a background worker is asked to do, encoded into `bgw_extra` (128 bytes, so
//! the encoding is compact JSON with one-letter keys; the Rust names say what they
//! are) and `bgw_main_arg` (database and role OIDs).

use serde::{Deserialize, Serialize};

/// Longest encoding `bgw_extra` holds (128 bytes with the terminating NUL).
pub const MAX_EXTRA: usize = 127;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "j")]
pub enum Job {
    /// Run the suite.
    #[serde(rename = "r")]
    Run {
        #[serde(rename = "s")]
        schema: String,
        /// test_id LIKE pattern
        #[serde(rename = "p")]
        pattern: String,
        #[serde(rename = "i", skip_serializing_if = "Option::is_none", default)]
        iterations: Option<i32>,
        #[serde(rename = "r")]
        seed: i64,
        /// role the worker acts as after connecting as the session user (0: that one),
        /// through pg::secctx, which SQL cannot leave
        #[serde(rename = "u")]
        role: u32,
        /// the caller's pg_perfsuite.test_time_limit (ms): a worker does not see the
        /// caller's SET, only postgresql.conf and ALTER DATABASE/ROLE settings
        #[serde(rename = "l")]
        time_limit_ms: i32,
        /// the caller's other settings, as `Flags::bits`
        #[serde(rename = "f")]
        flags: u8,
        /// the plan's environment at this multiple of its volume
        #[serde(rename = "x", default = "one")]
        scale: f64,
    },
    /// Test 5.4's second session: run the concurrent statement of test `test_id` in
    /// `schema` as `role`, then hold its locks until the handshake lock is released.
    #[serde(rename = "h")]
    Hold {
        #[serde(rename = "t")]
        test_id: String,
        #[serde(rename = "s")]
        schema: String,
        #[serde(rename = "u")]
        role: u32,
    },
    /// One client of a load test: run `script` against `schema`, `transactions` times
    /// (0: for `duration_ms`), starting after `delay_ms`, one every `pace_ns` ns on
    /// average (0: back to back) arriving as `arrivals` says, skipping transactions
    /// already `skip_us` late (0: none).
    #[serde(rename = "c")]
    LoadClient {
        #[serde(rename = "l")]
        load_id: i64,
        #[serde(rename = "c")]
        client: i32,
        #[serde(rename = "n")]
        script: String,
        #[serde(rename = "s")]
        schema: String,
        #[serde(rename = "t")]
        transactions: i32,
        #[serde(rename = "d")]
        duration_ms: i64,
        #[serde(rename = "r")]
        delay_ms: i64,
        #[serde(rename = "p", default)]
        pace_ns: i64,
        #[serde(rename = "a", default)]
        arrivals: String,
        #[serde(rename = "k", default)]
        skip_us: i64,
        #[serde(rename = "u")]
        role: u32,
    },
}

fn one() -> f64 {
    1.0
}

/// Boolean settings of the caller that a background run honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    pub allow_existing_data: bool,
    pub keep_data: bool,
    pub trust_schema_owners: bool,
    pub cold_cache: bool,
    /// Only the timed tests (a scaling sweep's runs).
    pub timed_only: bool,
    pub measure_advice: bool,
}

impl Flags {
    pub fn bits(self) -> u8 {
        (self.allow_existing_data as u8)
            | (self.keep_data as u8) << 1
            | (self.trust_schema_owners as u8) << 2
            | (self.cold_cache as u8) << 3
            | (self.timed_only as u8) << 4
            | (self.measure_advice as u8) << 5
    }

    pub fn from_bits(b: u8) -> Flags {
        Flags {
            allow_existing_data: b & 1 != 0,
            keep_data: b & 2 != 0,
            trust_schema_owners: b & 4 != 0,
            cold_cache: b & 8 != 0,
            timed_only: b & 16 != 0,
            measure_advice: b & 32 != 0,
        }
    }
}

impl Job {
    pub fn encode(&self) -> Result<String, String> {
        let text = serde_json::to_string(self).map_err(|e| e.to_string())?;
        if text.len() > MAX_EXTRA {
            return Err(format!(
                "the run's parameters take {} bytes, more than the {MAX_EXTRA} a background worker can be given",
                text.len()
            ));
        }
        Ok(text)
    }

    pub fn decode(text: &str) -> Result<Job, String> {
        serde_json::from_str(text).map_err(|e| format!("bad worker job {text:?}: {e}"))
    }
}

/// Database and login role OIDs packed into one Datum-sized integer.
pub fn pack_oids(database: u32, role: u32) -> u64 {
    ((database as u64) << 32) | role as u64
}

pub fn unpack_oids(v: u64) -> (u32, u32) {
    ((v >> 32) as u32, v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_within_the_limit() {
        let j = Job::Run {
            schema: "public".into(),
            pattern: "%".into(),
            iterations: Some(5),
            seed: 42,
            role: 16384,
            time_limit_ms: 300_000,
            flags: 3,
            scale: 100.0,
        };
        let text = j.encode().unwrap();
        assert!(text.len() <= MAX_EXTRA, "{text}");
        assert_eq!(Job::decode(&text).unwrap(), j);
        let h = Job::Hold { test_id: "5.4".into(), schema: "public".into(), role: 0 };
        assert_eq!(Job::decode(&h.encode().unwrap()).unwrap(), h);
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let j = Job::Run {
            schema: "s".repeat(63),
            pattern: "p".repeat(60),
            iterations: None,
            seed: i64::MAX,
            role: u32::MAX,
            time_limit_ms: 0,
            flags: 0,
            scale: 0.05,
        };
        assert!(j.encode().unwrap_err().contains("more than the 127"));
    }

    #[test]
    fn flags_round_trip() {
        for bits in 0..64u8 {
            let f = Flags {
                allow_existing_data: bits & 1 != 0,
                keep_data: bits & 2 != 0,
                trust_schema_owners: bits & 4 != 0,
                cold_cache: bits & 8 != 0,
                timed_only: bits & 16 != 0,
                measure_advice: bits & 32 != 0,
            };
            assert_eq!(Flags::from_bits(f.bits()), f);
        }
    }

    #[test]
    fn oids_pack() {
        assert_eq!(unpack_oids(pack_oids(16384, 10)), (16384, 10));
        assert_eq!(unpack_oids(pack_oids(u32::MAX, u32::MAX)), (u32::MAX, u32::MAX));
    }
}
