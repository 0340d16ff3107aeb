//! What a load test offers and what it measured, as pure logic: the open-loop schedule
//! of a rate-limited client, latency histograms, a client's per-second recording, the
//! seconds of all clients merged, and the capacity search over rising rates.

pub mod aggregate;
pub mod capacity;
pub mod histogram;
pub mod recorder;
pub mod schedule;
