//! Raising errors the PostgreSQL way: a SQLSTATE, a message naming the argument, a HINT.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

/// Raise an ERROR with `code`, `message` and an optional `hint`. Never returns.
pub fn raise(code: PgSqlErrorCode, message: impl Into<String>, hint: Option<&str>) -> ! {
    let mut report = ErrorReport::new(code, message.into(), "pg_perfsuite");
    if let Some(h) = hint {
        report = report.set_hint(h);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR returned control")
}

/// An argument outside its allowed values (SQLSTATE 22023).
pub fn bad_argument(message: impl Into<String>, hint: Option<&str>) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message, hint)
}

/// A NULL where a value is required (SQLSTATE 22004).
pub fn null_argument(arg: &str) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
        format!("{arg} must not be NULL"),
        None,
    )
}

/// Unwrap a required argument or raise "`arg` must not be NULL".
pub fn required<T>(value: Option<T>, arg: &str) -> T {
    value.unwrap_or_else(|| null_argument(arg))
}

/// The error code of a five-character SQLSTATE ("57014"): PostgreSQL's MAKE_SQLSTATE
/// packing, the inverse of `sqlstate`. Unknown or malformed text maps to XX000.
pub fn code_of(sqlstate: &str) -> PgSqlErrorCode {
    let b = sqlstate.as_bytes();
    if b.len() != 5 || !b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        return PgSqlErrorCode::ERRCODE_INTERNAL_ERROR;
    }
    let packed = b.iter().enumerate().fold(0i32, |acc, (i, c)| acc | ((((*c - b'0') & 0x3F) as i32) << (6 * i)));
    PgSqlErrorCode::from(packed)
}

/// The five-character SQLSTATE of an error code ("57014"), from PostgreSQL's packed
/// MAKE_SQLSTATE form (six bits per character, first character lowest).
pub fn sqlstate(code: PgSqlErrorCode) -> String {
    let packed = code as isize as i64;
    (0..5)
        .map(|i| (((packed >> (6 * i)) & 0x3F) as u8 + b'0') as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstate_unpacks() {
        assert_eq!(sqlstate(PgSqlErrorCode::ERRCODE_QUERY_CANCELED), "57014");
        assert_eq!(sqlstate(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE), "22023");
        assert_eq!(sqlstate(PgSqlErrorCode::ERRCODE_ADMIN_SHUTDOWN), "57P01");
        assert_eq!(sqlstate(PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE), "42P01");
    }

    #[test]
    fn sqlstate_packs_back() {
        for code in [
            PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE,
            PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
        ] {
            assert_eq!(code_of(&sqlstate(code)), code);
        }
        assert_eq!(code_of("nope"), PgSqlErrorCode::ERRCODE_INTERNAL_ERROR);
    }
}
