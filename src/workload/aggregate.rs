//! The clients' seconds merged into the load test's figures (pure logic): per second of
//! the test over all clients, and for the whole test. Histograms merge exactly, so the
//! whole test's p99 is the p99 of every transaction, not an average of the clients'.

use std::collections::BTreeMap;

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
pub struct Merged {
    pub seconds: Vec<Second>,
    pub done: i64,
    pub failed: i64,
    pub skipped: i64,
    pub response: Latencies,
    pub service: Latencies,
    pub lag: Latencies,
    /// Rows whose histograms could not be read (not written by a client of ours).
    pub unreadable: usize,
}

/// Merge every client's seconds. A row whose histograms do not decode is counted in
/// `unreadable` and left out, rather than failing the test after it ran.
pub fn merge(rows: impl IntoIterator<Item = (i32, ClientSecond)>) -> Merged {
    let mut by_second: BTreeMap<i32, (Second, std::collections::BTreeSet<i32>)> = BTreeMap::new();
    let mut merged = Merged::default();
    for (client, row) in rows {
        let decoded = (Latencies::decode(&row.response), Latencies::decode(&row.service), Latencies::decode(&row.lag));
        let (Ok(response), Ok(service), Ok(lag)) = decoded else {
            merged.unreadable += 1;
            continue;
        };
        let (s, clients) = by_second
            .entry(row.second)
            .or_insert_with(|| (Second { second: row.second, ..Default::default() }, Default::default()));
        clients.insert(client);
        s.done = s.done.saturating_add(row.done.max(0));
        s.failed = s.failed.saturating_add(row.failed.max(0));
        s.skipped = s.skipped.saturating_add(row.skipped.max(0));
        s.response.merge(&response);
        s.service.merge(&service);
        s.lag.merge(&lag);
    }
    for (_, (mut s, clients)) in by_second {
        s.active_clients = i32::try_from(clients.len()).unwrap_or(i32::MAX);
        merged.done = merged.done.saturating_add(s.done);
        merged.failed = merged.failed.saturating_add(s.failed);
        merged.skipped = merged.skipped.saturating_add(s.skipped);
        merged.response.merge(&s.response);
        merged.service.merge(&s.service);
        merged.lag.merge(&s.lag);
        merged.seconds.push(s);
    }
    merged
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
        let rows = a.finish().0.into_iter().map(|s| (0, s)).chain(b.finish().0.into_iter().map(|s| (1, s)));
        let mut rows: Vec<(i32, ClientSecond)> = rows.collect();
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
        let m = merge(rows);
        assert_eq!(m.unreadable, 1);
        assert_eq!((m.done, m.failed), (190, 10));
        assert_eq!(m.seconds.iter().map(|s| (s.second, s.active_clients)).collect::<Vec<_>>(), vec![(0, 1), (1, 2)]);
        assert_eq!(m.response.count(), 190);
        assert!(m.response.max_ms().unwrap() > 900.0, "the late transaction shows in the response time");
        assert!(m.service.max_ms().unwrap() < 2.01, "and not in the service time");
        assert_eq!(m.lag.quantile_ms(0.5), Some(0.0), "no lag without a schedule");
    }
}
