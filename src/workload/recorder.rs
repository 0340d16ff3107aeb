//! What one load client keeps while it runs (pure logic): per second of the load test,
//! histograms of response time (from when the transaction was due), service time (from
//! when it started) and schedule lag (the difference), with counts of transactions
//! done, failed and skipped; and the first transactions themselves as a bounded sample.
//! A finished second is encoded at once, so memory does not grow with the test's length
//! beyond a few hundred bytes a second.

use std::time::Duration;

use super::histogram::Latencies;

/// Transactions of each client kept one by one (the sample), whatever the test's length.
pub const SAMPLE_PER_CLIENT: usize = 50;

/// One second of one client (a second of the load test's clock, by when transactions
/// were due), encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSecond {
    pub second: i32,
    pub done: i64,
    pub failed: i64,
    pub skipped: i64,
    pub response: Vec<u8>,
    pub service: Vec<u8>,
    pub lag: Vec<u8>,
}

/// One transaction of the sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub txn: i64,
    /// When it was due, from the load test's start.
    pub due_ms: f64,
    pub lag_ms: f64,
    pub service_ms: f64,
    pub ok: bool,
}

#[derive(Default)]
struct Open {
    second: i32,
    done: i64,
    failed: i64,
    skipped: i64,
    response: Latencies,
    service: Latencies,
    lag: Latencies,
}

impl Open {
    fn is_empty(&self) -> bool {
        self.done == 0 && self.failed == 0 && self.skipped == 0
    }

    fn encode(&self) -> ClientSecond {
        ClientSecond {
            second: self.second,
            done: self.done,
            failed: self.failed,
            skipped: self.skipped,
            response: self.response.encode(),
            service: self.service.encode(),
            lag: self.lag.encode(),
        }
    }
}

#[derive(Default)]
pub struct Recorder {
    open: Open,
    seconds: Vec<ClientSecond>,
    sample: Vec<Sample>,
    transactions: i64,
    first_due: Option<Duration>,
    last_end: Option<Duration>,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// The open second for a transaction due at `due`: due times only grow, so a later
    /// second closes the open one.
    fn second(&mut self, due: Duration) -> &mut Open {
        let s = i32::try_from(due.as_secs()).unwrap_or(i32::MAX);
        if s != self.open.second {
            if !self.open.is_empty() {
                self.seconds.push(self.open.encode());
            }
            for h in [&mut self.open.response, &mut self.open.service, &mut self.open.lag] {
                h.clear();
            }
            (self.open.done, self.open.failed, self.open.skipped, self.open.second) = (0, 0, 0, s);
        }
        self.first_due.get_or_insert(due);
        &mut self.open
    }

    /// A transaction that ran: due at `due` (from the load test's start), started `lag`
    /// later, took `service`. Only successful ones enter the histograms (pgbench's
    /// latencies are of successful transactions too); failures are counted.
    pub fn record(&mut self, due: Duration, lag: Duration, service: Duration, ok: bool) {
        self.transactions += 1;
        let txn = self.transactions;
        if self.sample.len() < SAMPLE_PER_CLIENT {
            self.sample.push(Sample {
                txn,
                due_ms: due.as_secs_f64() * 1000.0,
                lag_ms: lag.as_secs_f64() * 1000.0,
                service_ms: service.as_secs_f64() * 1000.0,
                ok,
            });
        }
        self.last_end = Some(due + lag + service);
        let open = self.second(due);
        if ok {
            open.done += 1;
            open.response.record(lag + service);
            open.service.record(service);
            open.lag.record(lag);
        } else {
            open.failed += 1;
        }
    }

    /// A transaction not run because it was already later than the limit when its turn
    /// came (pgbench's skipped transactions).
    pub fn skip(&mut self, due: Duration) {
        self.second(due).skipped += 1;
    }

    /// The first transaction's due time and the last one's end, from the load test's start.
    pub fn span(&self) -> (Option<Duration>, Option<Duration>) {
        (self.first_due, self.last_end)
    }

    /// The seconds closed since the last call (to hand over as the test goes).
    pub fn take_closed(&mut self) -> Vec<ClientSecond> {
        std::mem::take(&mut self.seconds)
    }

    /// Every second not yet taken (the open one closed) and the sample.
    pub fn finish(mut self) -> (Vec<ClientSecond>, Vec<Sample>) {
        if !self.open.is_empty() {
            self.seconds.push(self.open.encode());
        }
        (self.seconds, self.sample)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn seconds_follow_the_due_times_and_keep_response_apart_from_service() {
        let mut r = Recorder::new();
        r.record(ms(100), ms(0), ms(2), true);
        r.record(ms(900), ms(500), ms(3), true); // due in second 0, ran late
        r.record(ms(1200), ms(0), ms(1), false);
        r.skip(ms(1300));
        r.record(ms(3100), ms(1), ms(2), true);
        assert_eq!(r.transactions, 4);
        assert_eq!(r.span(), (Some(ms(100)), Some(ms(3103))));
        let (seconds, sample) = r.finish();
        let counts: Vec<(i32, i64, i64, i64)> =
            seconds.iter().map(|s| (s.second, s.done, s.failed, s.skipped)).collect();
        assert_eq!(counts, vec![(0, 2, 0, 0), (1, 0, 1, 1), (3, 1, 0, 0)]);
        let response = Latencies::decode(&seconds[0].response).unwrap();
        let service = Latencies::decode(&seconds[0].service).unwrap();
        assert!(response.max_ms().unwrap() >= 503.0 && service.max_ms().unwrap() < 3.01);
        assert_eq!(sample.len(), 4);
        assert!(!sample[2].ok && sample[1].lag_ms == 500.0);
    }

    #[test]
    fn the_sample_is_bounded() {
        let mut r = Recorder::new();
        for i in 0..(SAMPLE_PER_CLIENT as u64 * 3) {
            r.record(ms(i * 10), ms(0), ms(1), true);
        }
        let taken = r.take_closed();
        assert!(r.take_closed().is_empty(), "taken once");
        let (seconds, sample) = r.finish();
        assert_eq!(sample.len(), SAMPLE_PER_CLIENT);
        let done: i64 = taken.iter().chain(&seconds).map(|s| s.done).sum();
        assert_eq!(done, SAMPLE_PER_CLIENT as i64 * 3);
        assert_eq!(seconds.len(), 1, "only the open second was left");
    }
}
