//! The generated rows as COPY's text format (tab-separated columns, `\N` for NULL, one
//! row per line), for the bulk load's COPY FROM. The same columns and values the
//! batched writer's INSERTs compute in SQL: times are the anchor (the transaction's
//! start, what now() returns) minus each row's offset, rounded to the microsecond as
//! make_interval rounds it.

use std::fmt::Write;

use super::model::{uuid_text, CustomerRow, AI_RESPONSE, EVENT_DATA};

pub const CUSTOMER_COLUMNS: [&str; 12] = [
    "id",
    "company_id",
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_address",
    "status",
    "lifecycle_stage",
    "tags",
    "source",
    "created_by_user_id",
    "created_at",
];
pub const CONVERSATION_COLUMNS: [&str; 9] = [
    "company_id",
    "user_id",
    "customer_id",
    "customer_name",
    "session_id",
    "interaction_number",
    "user_message",
    "ai_response",
    "created_at",
];
pub const EVENT_COLUMNS: [&str; 5] = ["customer_id", "company_id", "event_type", "event_data", "created_at"];

/// One batch's rows for the three tables.
#[derive(Debug, Default)]
pub struct Text {
    pub customers: Vec<u8>,
    pub conversations: Vec<u8>,
    pub events: Vec<u8>,
}

/// The text of `rows` of one company; `anchor_us` is now() in microseconds since
/// 2000-01-01 UTC.
pub fn batch(rows: &[CustomerRow], company: &[u8; 16], user: &[u8; 16], anchor_us: i64) -> Text {
    let (company, user) = (uuid_text(company), uuid_text(user));
    let mut c = String::with_capacity(rows.len() * 200);
    let mut v = String::with_capacity(rows.len() * 7 * 180);
    let mut e = String::with_capacity(rows.len() * 5 * 110);
    for r in rows {
        let id = uuid_text(&r.id);
        line(
            &mut c,
            &[
                Some(&id),
                Some(&company),
                Some(&r.name),
                r.email.as_deref(),
                r.phone.as_deref(),
                r.address.as_deref(),
                Some("active"),
                Some(r.lifecycle_stage),
                Some(r.tags),
                Some(r.source),
                Some(&user),
                Some(&timestamp(anchor_us, r.created_ago_s)),
            ],
        );
        for conv in &r.conversations {
            line(
                &mut v,
                &[
                    Some(&company),
                    Some(&user),
                    Some(&id),
                    Some(&r.short_name),
                    Some(&format!("session_{id}_{}", conv.interaction_number)),
                    Some(&conv.interaction_number.to_string()),
                    Some(&format!("Test question about {}", conv.topic)),
                    Some(AI_RESPONSE),
                    Some(&timestamp(anchor_us, conv.created_ago_s)),
                ],
            );
        }
        for ev in &r.events {
            line(
                &mut e,
                &[
                    Some(&id),
                    Some(&company),
                    Some(ev.event_type),
                    Some(EVENT_DATA),
                    Some(&timestamp(anchor_us, ev.created_ago_s)),
                ],
            );
        }
    }
    Text { customers: c.into_bytes(), conversations: v.into_bytes(), events: e.into_bytes() }
}

/// One row: fields escaped, tab-separated, NULL as `\N`.
fn line(out: &mut String, fields: &[Option<&str>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match f {
            None => out.push_str("\\N"),
            Some(text) => escape(out, text),
        }
    }
    out.push('\n');
}

/// COPY text escapes: backslash, and the characters that end a field or a row.
fn escape(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// `anchor - make_interval(secs => ago_s)` as ISO 8601 text in UTC.
pub fn timestamp(anchor_us: i64, ago_s: f64) -> String {
    let us = anchor_us - (ago_s * 1e6).round_ties_even() as i64;
    const DAY_US: i64 = 86_400_000_000;
    // Days since 2000-01-01, then since 1970-01-01 (10957 days earlier).
    let days = us.div_euclid(DAY_US);
    let in_day = us.rem_euclid(DAY_US);
    let (y, m, d) = civil_from_days(days + 10_957);
    let (secs, micros) = (in_day / 1_000_000, in_day % 1_000_000);
    let mut s = String::with_capacity(32);
    let _ = write!(s, "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06}+00", secs / 3600, secs / 60 % 60, secs % 60);
    s
}

/// Year, month, day of a count of days since 1970-01-01 (proleptic Gregorian; the
/// well-known era-based conversion).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::model::Model;

    #[test]
    fn timestamps_are_utc_iso_text() {
        assert_eq!(timestamp(0, 0.0), "2000-01-01 00:00:00.000000+00");
        assert_eq!(timestamp(0, 1.5), "1999-12-31 23:59:58.500000+00");
        // 2026-12-02 02:13:31.25 UTC is 849,492,811.25 s after 2000-01-01.
        assert_eq!(timestamp(849_492_811_250_000, 0.0), "2026-12-02 02:13:31.250000+00");
        assert_eq!(timestamp(849_492_811_250_000, 86_400.0 * 366.0), "2025-12-01 02:13:31.250000+00");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn rows_are_escaped_with_nulls_and_one_line_each() {
        let mut s = String::new();
        line(&mut s, &[Some("a\tb"), None, Some("c\\d\ne")]);
        assert_eq!(s, "a\\tb\t\\N\tc\\\\d\\ne\n");
        let rows: Vec<_> = {
            let mut m = Model::new(1);
            (1..=3).map(|i| m.customer(i)).collect()
        };
        let t = batch(&rows, &[1; 16], &[2; 16], 0);
        let text = String::from_utf8(t.customers).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.lines().all(|l| l.split('\t').count() == CUSTOMER_COLUMNS.len()), "{text}");
        let conv = String::from_utf8(t.conversations).unwrap();
        assert_eq!(conv.lines().count(), rows.iter().map(|r| r.conversations.len()).sum::<usize>());
        assert!(conv.lines().all(|l| l.split('\t').count() == CONVERSATION_COLUMNS.len()));
        assert!(conv.starts_with("01010101-0101-0101-0101-010101010101\t02020202-"), "{conv}");
        let ev = String::from_utf8(t.events).unwrap();
        assert!(ev.lines().all(|l| l.split('\t').count() == EVENT_COLUMNS.len() && l.contains("{\"test\": true}")));
    }
}
