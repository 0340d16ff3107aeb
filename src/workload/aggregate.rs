//! The clients' seconds merged into the load test's figures (pure logic): per second of
//! the test over all clients, and for the whole test. Histograms merge exactly, so the
//! whole test's p99 is the p99 of every transaction, not an average of the clients'.
//!
//! Rows are merged as they are read, in order of second: one second is open at a time,
//! so memory stays at a few histograms however long the test ran and whatever rows the
//! hand-over table holds.

use std::collections::BTreeSet;

use super::histogram::Latencies;
use super::recorder::ClientSecond;

/// One second of the load test, all clients together.
#[derive(Debug, Default)]
pub struct Second {
    pub second: i32,
    pub done: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Clients that had a transaction due in this second (the ramp-up shows here).
    pub active_clients: i32,
    pub response: Latencies,
    pub service: Latencies,
    pub lag: Latencies,
}

/// The whole load test.
#[derive(Debug, Default)]
pub struct Totals {
    pub done: i64,
    pub failed: i64,
    pub skipped: i64,
    pub response: Latencies,
    pub service: Latencies,
    pub lag: Latencies,
    /// Rows whose histograms could not be read (not written by a client of ours).
    pub unreadable: usize,
}

/// Merges rows given in order of second; hands back each second as it closes.
#[derive(Default)]
pub struct Merger {
    open: Option<(Second, BTreeSet<i32>)>,
    totals: Totals,
}

impl Merger {
    pub fn new() -> Merger {
        Merger::default()
    }

    /// Add one client's second. Rows come in order of second: a later second closes the
    /// open one, which is returned. A row whose histograms do not decode is counted in
    /// `unreadable` and left out, rather than failing the test after it ran.
    pub fn push(&mut self, client: i32, row: &ClientSecond) -> Option<Second> {
        let decoded = (Latencies::decode(&row.response), Latencies::decode(&row.service), Latencies::decode(&row.lag));
        let (Ok(response), Ok(service), Ok(lag)) = decoded else {
            self.totals.unreadable += 1;
            return None;
        };
        let closed = match &self.open {
            Some((s, _)) if s.second != row.second => self.close(),
            _ => None,
        };
        let (s, clients) =
            self.open.get_or_insert_with(|| (Second { second: row.second, ..Default::default() }, BTreeSet::new()));
        clients.insert(client);
        s.done = s.done.saturating_add(row.done.max(0));
        s.failed = s.failed.saturating_add(row.failed.max(0));
        s.skipped = s.skipped.saturating_add(row.skipped.max(0));
        s.response.merge(&response);
        s.service.merge(&service);
        s.lag.merge(&lag);
        closed
    }

    /// A row that was not read at all (too large to be one of ours).
    pub fn skip_unreadable(&mut self) {
        self.totals.unreadable += 1;
    }

    fn close(&mut self) -> Option<Second> {
        let (mut s, clients) = self.open.take()?;
        s.active_clients = i32::try_from(clients.len()).unwrap_or(i32::MAX);
        let t = &mut self.totals;
        t.done = t.done.saturating_add(s.done);
        t.failed = t.failed.saturating_add(s.failed);
        t.skipped = t.skipped.saturating_add(s.skipped);
        t.response.merge(&s.response);
        t.service.merge(&s.service);
        t.lag.merge(&s.lag);
        Some(s)
    }

    /// The last second (if any) and the whole test.
    pub fn finish(mut self) -> (Option<Second>, Totals) {
        let last = self.close();
        (last, self.totals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::recorder::Recorder;
    use std::time::Duration;

    #[test]
    fn clients_merge_into_seconds_and_a_whole() {
        let ms = Duration::from_millis;
        let mut a = Recorder::new();
        let mut b = Recorder::new();
        for i in 0..100 {
            a.record(ms(i * 20), ms(0), ms(2), true);
            b.record(ms(1000 + i * 10), ms(if i == 55 { 900 } else { 0 }), ms(1), i % 10 != 0);
        }
        let mut rows: Vec<(i32, ClientSecond)> =
            a.finish().0.into_iter().map(|s| (0, s)).chain(b.finish().0.into_iter().map(|s| (1, s))).collect();
        rows.push((
            2,
            ClientSecond {
                second: 1,
                done: 5,
                failed: 0,
                skipped: 0,
                response: vec![1, 2],
                service: vec![],
                lag: vec![],
            },
        ));
        rows.sort_by_key(|(c, r)| (r.second, *c));
        let mut m = Merger::new();
        let mut seconds: Vec<Second> = rows.iter().filter_map(|(c, r)| m.push(*c, r)).collect();
        let (last, t) = m.finish();
        seconds.extend(last);
        assert_eq!(t.unreadable, 1);
        assert_eq!((t.done, t.failed), (190, 10));
        assert_eq!(seconds.iter().map(|s| (s.second, s.active_clients)).collect::<Vec<_>>(), vec![(0, 1), (1, 2)]);
        assert_eq!(t.response.count(), 190);
        assert!(t.response.max_ms().unwrap() > 900.0, "the late transaction shows in the response time");
        assert!(t.service.max_ms().unwrap() < 2.01, "and not in the service time");
        assert_eq!(t.lag.quantile_ms(0.5), Some(0.0), "no lag without a schedule");
    }

    #[test]
    fn memory_does_not_grow_with_the_seconds() {
        // Thousands of seconds pass through one open second: nothing is kept per second.
        let mut one = Recorder::new();
        one.record(Duration::from_millis(1), Duration::ZERO, Duration::from_millis(1), true);
        let row = one.finish().0.remove(0);
        let mut m = Merger::new();
        let mut closed = 0;
        for s in 0..5000 {
            closed += m.push(0, &ClientSecond { second: s, ..row.clone() }).map_or(0, |_| 1);
        }
        let (last, t) = m.finish();
        assert_eq!((closed, last.map(|s| s.second), t.done), (4999, Some(4999), 5000));
    }
}
