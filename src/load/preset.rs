//! Named load-test shapes from the plan, so a DBA runs "the plan's JMeter thread group"
//! by name instead of copying its numbers (pure data).

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    pub name: &'static str,
    pub description: &'static str,
    pub clients: i32,
    /// Transactions per client; 0: run for `duration`.
    pub transactions: i32,
    pub duration: Duration,
    pub ramp_up: Duration,
    pub script: &'static str,
    pub latency_limit_ms: f64,
}

pub const PRESETS: &[Preset] = &[
    // ThreadGroup: num_threads 50, ramp_time 10, duration 300; DurationAssertion 100 ms.
    // The sampler is GET /rest/v1/customers: the customer list, script plan-list.
    Preset {
        name: "jmeter",
        description:
            "the plan's JMeter thread group: 50 users started over 10 s, 300 s in all, each response under 100 ms",
        clients: 50,
        transactions: 0,
        duration: Duration::from_secs(300),
        ramp_up: Duration::from_secs(10),
        script: "plan-list",
        latency_limit_ms: 100.0,
    },
    // pgbench -c 10 -j 2 -t 100 -f customer_queries.sql
    Preset {
        name: "pgbench",
        description: "the plan's pgbench run: 10 clients, 100 transactions each of the list + search script",
        clients: 10,
        transactions: 100,
        duration: Duration::ZERO,
        ramp_up: Duration::ZERO,
        script: "plan",
        latency_limit_ms: 100.0,
    },
    // The plan's risk factor "trigger cascade under load" (test L.2 in a run).
    Preset {
        name: "write",
        description: "the auto-sync trigger under concurrent writes: 10 clients, 50 chat conversations each without customer_id, 50 people drawn at random",
        clients: 10,
        transactions: 50,
        duration: Duration::ZERO,
        ramp_up: Duration::ZERO,
        script: "plan-write",
        latency_limit_ms: 100.0,
    },
];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// "jmeter, pgbench": for error messages.
pub fn names() -> String {
    PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jmeter_preset_is_the_plans_thread_group() {
        let p = find("jmeter").unwrap();
        assert_eq!((p.clients, p.transactions), (50, 0));
        assert_eq!((p.ramp_up.as_secs(), p.duration.as_secs()), (10, 300));
        assert_eq!((p.script, p.latency_limit_ms), ("plan-list", 100.0));
        assert!(p.ramp_up < p.duration);
    }

    #[test]
    fn unknown_names_are_none_and_names_lists_all() {
        assert!(find("gatling").is_none());
        assert_eq!(names(), "jmeter, pgbench, write");
    }
}
