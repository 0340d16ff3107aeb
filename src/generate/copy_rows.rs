//! The generated rows in COPY's binary format, for the bulk load's COPY FROM: each
//! value in its type's send format, so the server parses nothing (no uuid or timestamp
//! text to read). The same columns and values the batched writer's INSERTs compute in
//! SQL: times are the anchor (the transaction's start, what now() returns) minus each
//! row's offset, rounded to the microsecond as make_interval rounds it.
//!
//! Format: the 11-byte signature, flags and header-extension length; per row the field
//! count, then per field its length (-1: NULL) and bytes; a -1 field count ends the
//! data. Integers are big-endian; timestamptz is microseconds since 2000-01-01; jsonb is
//! a version byte and text; text[] is (dimensions, has-nulls, element type, length and
//! lower bound per dimension, elements).

use super::model::{CustomerRow, AI_RESPONSE, EVENT_DATA};

/// The columns each table gets from the generator (on both paths: the batched INSERTs
/// fill the same ones, which is why fk_batch may take them as never NULL).
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
pub const KEY_COLUMNS: [&str; 5] = ["customer_id", "company_id", "key_type", "key_value", "normalized_value"];

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// pg_type OID of text, the element type of text[].
const TEXT_OID: i32 = 25;

/// One batch's rows for the four tables, each a complete COPY stream. A bulk load hands
/// the buffers back to be written over by a later batch (`batch`'s `reuse`), so that a
/// load of any size keeps the same few buffers instead of allocating new ones per
/// batch, whose freed space the allocator would keep around in fragments.
#[derive(Debug, Default)]
pub struct Streams {
    pub customers: Vec<u8>,
    pub keys: Vec<u8>,
    pub conversations: Vec<u8>,
    pub events: Vec<u8>,
}

/// The matching keys the reference schema's customers trigger writes for a new
/// customer: one per non-NULL name, email and phone, normalized as the trigger does it
/// (lower(name), lower(btrim(email)), the phone's digits). The model's values are ASCII
/// letters (no I, whose lower case some locales change), digits and punctuation, for
/// which Rust's lower case is PostgreSQL's in every locale; a test compares these keys
/// with the trigger's on the same rows.
pub fn keys(r: &CustomerRow) -> Vec<(&'static str, &str, String)> {
    let mut k = vec![("name", r.name.as_str(), r.name.to_lowercase())];
    if let Some(e) = &r.email {
        k.push(("email", e.as_str(), e.trim_matches(' ').to_lowercase()));
    }
    if let Some(p) = &r.phone {
        k.push(("phone", p.as_str(), p.chars().filter(|c| c.is_ascii_digit()).collect()));
    }
    k
}

/// A COPY binary stream being written.
struct Stream(Vec<u8>);

impl Stream {
    /// A stream written over `b` (emptied; its capacity kept, grown to `capacity`).
    fn over(mut b: Vec<u8>, capacity: usize) -> Stream {
        b.clear();
        b.reserve(capacity);
        b.extend_from_slice(SIGNATURE);
        b.extend_from_slice(&0i32.to_be_bytes()); // flags
        b.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        Stream(b)
    }

    fn row(&mut self, fields: i16) -> &mut Self {
        self.0.extend_from_slice(&fields.to_be_bytes());
        self
    }

    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(&(v.len() as i32).to_be_bytes());
        self.0.extend_from_slice(v);
        self
    }

    fn text(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(s) => self.bytes(s.as_bytes()),
            None => {
                self.0.extend_from_slice(&(-1i32).to_be_bytes());
                self
            }
        }
    }

    fn int4(&mut self, v: i32) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    fn timestamptz(&mut self, micros_since_2000: i64) -> &mut Self {
        self.bytes(&micros_since_2000.to_be_bytes())
    }

    fn jsonb(&mut self, json: &str) -> &mut Self {
        self.0.extend_from_slice(&(json.len() as i32 + 1).to_be_bytes());
        self.0.push(1); // jsonb's binary format version
        self.0.extend_from_slice(json.as_bytes());
        self
    }

    /// A one-dimensional text[] from its literal ("{}", "{vip,referral}"; no quoting).
    fn text_array(&mut self, literal: &str) -> &mut Self {
        let inner = literal.trim_start_matches('{').trim_end_matches('}');
        let items: Vec<&str> = if inner.is_empty() { Vec::new() } else { inner.split(',').collect() };
        let mut a = Vec::with_capacity(20 + items.iter().map(|i| i.len() + 4).sum::<usize>());
        a.extend_from_slice(&i32::from(!items.is_empty()).to_be_bytes()); // dimensions
        a.extend_from_slice(&0i32.to_be_bytes()); // has nulls
        a.extend_from_slice(&TEXT_OID.to_be_bytes());
        if !items.is_empty() {
            a.extend_from_slice(&(items.len() as i32).to_be_bytes());
            a.extend_from_slice(&1i32.to_be_bytes()); // lower bound
            for i in &items {
                a.extend_from_slice(&(i.len() as i32).to_be_bytes());
                a.extend_from_slice(i.as_bytes());
            }
        }
        self.bytes(&a)
    }

    fn finish(mut self) -> Vec<u8> {
        self.0.extend_from_slice(&(-1i16).to_be_bytes());
        self.0
    }
}

/// `anchor - make_interval(secs => ago_s)`: make_interval rounds the seconds to whole
/// microseconds, halves to even (rint).
pub fn time(anchor_us: i64, ago_s: f64) -> i64 {
    anchor_us - (ago_s * 1e6).round_ties_even() as i64
}

/// The streams of `rows` of one company, written into the buffers of `reuse` (an
/// earlier batch's, or `Streams::default()`); `anchor_us` is now() in microseconds since
/// 2000-01-01 UTC.
pub fn batch(rows: &[CustomerRow], company: &[u8; 16], user: &[u8; 16], anchor_us: i64, reuse: Streams) -> Streams {
    let mut c = Stream::over(reuse.customers, rows.len() * 220);
    let mut v = Stream::over(reuse.conversations, rows.len() * 7 * 190);
    let mut e = Stream::over(reuse.events, rows.len() * 5 * 90);
    let mut k = Stream::over(reuse.keys, rows.len() * 3 * 110);
    let mut session = String::with_capacity(64);
    let mut message = String::with_capacity(48);
    for r in rows {
        c.row(CUSTOMER_COLUMNS.len() as i16)
            .bytes(&r.id)
            .bytes(company)
            .text(Some(&r.name))
            .text(r.email.as_deref())
            .text(r.phone.as_deref())
            .text(r.address.as_deref())
            .text(Some("active"))
            .text(Some(r.lifecycle_stage))
            .text_array(r.tags)
            .text(Some(r.source))
            .bytes(user)
            .timestamptz(time(anchor_us, r.created_ago_s));
        for (kind, value, normalized) in keys(r) {
            k.row(KEY_COLUMNS.len() as i16)
                .bytes(&r.id)
                .bytes(company)
                .text(Some(kind))
                .text(Some(value))
                .text(Some(&normalized));
        }
        let id = super::model::uuid_text(&r.id);
        for conv in &r.conversations {
            session.clear();
            session.push_str("session_");
            session.push_str(&id);
            session.push('_');
            session.push_str(&conv.interaction_number.to_string());
            message.clear();
            message.push_str("Test question about ");
            message.push_str(conv.topic);
            v.row(CONVERSATION_COLUMNS.len() as i16)
                .bytes(company)
                .bytes(user)
                .bytes(&r.id)
                .text(Some(&r.short_name))
                .text(Some(&session))
                .int4(conv.interaction_number)
                .text(Some(&message))
                .text(Some(AI_RESPONSE))
                .timestamptz(time(anchor_us, conv.created_ago_s));
        }
        for ev in &r.events {
            e.row(EVENT_COLUMNS.len() as i16)
                .bytes(&r.id)
                .bytes(company)
                .text(Some(ev.event_type))
                .jsonb(EVENT_DATA)
                .timestamptz(time(anchor_us, ev.created_ago_s));
        }
    }
    Streams { customers: c.finish(), keys: k.finish(), conversations: v.finish(), events: e.finish() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::model::Model;

    /// Split a stream into rows of fields (None: NULL), checking its framing.
    fn parse(b: &[u8]) -> Vec<Vec<Option<Vec<u8>>>> {
        assert_eq!(&b[..11], SIGNATURE);
        let mut p = 19;
        let mut rows = Vec::new();
        loop {
            let n = i16::from_be_bytes([b[p], b[p + 1]]);
            p += 2;
            if n == -1 {
                assert_eq!(p, b.len(), "trailer ends the stream");
                return rows;
            }
            let mut row = Vec::new();
            for _ in 0..n {
                let len = i32::from_be_bytes(b[p..p + 4].try_into().unwrap());
                p += 4;
                if len < 0 {
                    row.push(None);
                } else {
                    row.push(Some(b[p..p + len as usize].to_vec()));
                    p += len as usize;
                }
            }
            rows.push(row);
        }
    }

    #[test]
    fn streams_hold_every_row_in_send_format() {
        let rows: Vec<_> = {
            let mut m = Model::new(1);
            (1..=20).map(|i| m.customer(i)).collect()
        };
        let s = batch(&rows, &[1; 16], &[2; 16], 1_000_000, Streams::default());
        let customers = parse(&s.customers);
        assert_eq!(customers.len(), 20);
        assert!(customers.iter().all(|r| r.len() == CUSTOMER_COLUMNS.len()));
        assert_eq!(customers[0][0].as_deref(), Some(&rows[0].id[..]));
        assert_eq!(customers[0][2].as_deref(), Some(rows[0].name.as_bytes()));
        // NULL where the model has no email.
        for (r, c) in rows.iter().zip(&customers) {
            assert_eq!(c[3].is_none(), r.email.is_none());
        }
        let t = i64::from_be_bytes(customers[0][11].clone().unwrap().try_into().unwrap());
        assert_eq!(t, time(1_000_000, rows[0].created_ago_s));
        let conv = parse(&s.conversations);
        assert_eq!(conv.len(), rows.iter().map(|r| r.conversations.len()).sum::<usize>());
        let session = String::from_utf8(conv[0][4].clone().unwrap()).unwrap();
        assert_eq!(session, format!("session_{}_1", crate::generate::model::uuid_text(&rows[0].id)));
        assert_eq!(conv[0][5].as_deref(), Some(&1i32.to_be_bytes()[..]));
        let ev = parse(&s.events);
        assert_eq!(ev[0][3].as_deref().map(|j| j[0]), Some(1), "jsonb version byte");
    }

    #[test]
    fn keys_are_the_triggers_and_the_model_stays_in_a_safe_alphabet() {
        let mut m = Model::new(3);
        for i in 1..=2000 {
            let r = m.customer(i);
            for (_, value, normalized) in keys(&r) {
                assert!(value.is_ascii() && !value.contains('I'), "{value}");
                assert!(!normalized.chars().any(|c| c.is_ascii_uppercase()));
            }
        }
        let mut r = Model::new(1).customer(5);
        r.email = Some(" Customer5@Example.com ".into());
        r.phone = Some("+1555-000-0005".into());
        let k = keys(&r);
        assert_eq!(k[0].2, r.name.to_lowercase());
        assert_eq!(k[1], ("email", " Customer5@Example.com ", "customer5@example.com".to_string()));
        assert_eq!(k[2], ("phone", "+1555-000-0005", "15550000005".to_string()));
    }

    #[test]
    fn text_arrays_in_binary() {
        let mut s = Stream(Vec::new());
        s.text_array("{}");
        assert_eq!(
            s.0,
            [&12i32.to_be_bytes()[..], &0i32.to_be_bytes(), &0i32.to_be_bytes(), &25i32.to_be_bytes()].concat()
        );
        let mut s = Stream(Vec::new());
        s.text_array("{vip,referral}");
        let body = &s.0[4..];
        assert_eq!(&body[..4], &1i32.to_be_bytes(), "one dimension");
        assert_eq!(&body[12..16], &2i32.to_be_bytes(), "two elements");
        assert_eq!(&body[20..24], &3i32.to_be_bytes());
        assert_eq!(&body[24..27], b"vip");
    }

    #[test]
    fn times_round_like_make_interval() {
        assert_eq!(time(0, 1.5), -1_500_000);
        assert_eq!(time(0, 0.0000005), 0, "half a microsecond rounds to even");
        assert_eq!(time(0, 0.0000015), -2);
    }
}
