//! The one error type and raising errors the PostgreSQL way: a SQLSTATE, a message
//! naming the argument, a HINT. Every error a user can cause is raised through here
//! with a deliberate SQLSTATE; a caught error (`SqlError`) keeps its code, so it can be
//! recorded or raised again unchanged, and decisions are made on the code, never on
//! the (translatable) message text.

use pgrx::pg_sys::panic::{CaughtError, ErrorReport};
use pgrx::{PgLogLevel, PgSqlErrorCode};

/// An error caught from PostgreSQL or from this crate, with its code.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlError {
    pub code: PgSqlErrorCode,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl SqlError {
    pub fn new(code: PgSqlErrorCode, message: impl Into<String>) -> SqlError {
        SqlError { code, message: message.into(), detail: None, hint: None }
    }

    pub fn from_caught(e: &CaughtError) -> SqlError {
        let report = match e {
            CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r,
            CaughtError::RustPanic { ereport, .. } => ereport,
        };
        SqlError {
            code: report.sql_error_code(),
            message: report.message().to_string(),
            detail: report.detail().map(str::to_string),
            hint: report.hint().map(str::to_string),
        }
    }

    /// The five-character SQLSTATE, as results record it.
    pub fn sqlstate(&self) -> String {
        sqlstate(self.code)
    }

    pub fn is_cancel(&self) -> bool {
        self.code == PgSqlErrorCode::ERRCODE_QUERY_CANCELED
    }

    /// Server shutdown or backend termination (class 57P).
    pub fn is_shutdown(&self) -> bool {
        matches!(
            self.code,
            PgSqlErrorCode::ERRCODE_ADMIN_SHUTDOWN
                | PgSqlErrorCode::ERRCODE_CRASH_SHUTDOWN
                | PgSqlErrorCode::ERRCODE_CANNOT_CONNECT_NOW
        )
    }

    /// Raise this error again, with its own SQLSTATE, message, detail and hint.
    pub fn raise(&self) -> ! {
        let mut report = ErrorReport::new(self.code, self.message.clone(), "pg_perfsuite");
        if let Some(d) = &self.detail {
            report = report.set_detail(d.clone());
        }
        if let Some(h) = &self.hint {
            report = report.set_hint(h.clone());
        }
        report.report(PgLogLevel::ERROR);
        unreachable!("ERROR returned control")
    }
}

/// Raise an ERROR with `code`, `message` and an optional `hint`. Never returns.
pub fn raise(code: PgSqlErrorCode, message: impl Into<String>, hint: Option<&str>) -> ! {
    let mut report = ErrorReport::new(code, message.into(), "pg_perfsuite");
    if let Some(h) = hint {
        report = report.set_hint(h);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR returned control")
}

/// A failure no user input can cause: an SPI call on a statement this crate wrote
/// failing at the SPI level (SQL errors are raised by PostgreSQL itself, with their own
/// SQLSTATE, before this is reached). XX000, naming what was being done.
pub fn internal(what: &str, e: impl std::fmt::Display) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("pg_perfsuite internal error while {what}: {e}"), None)
}

/// `.or_internal("what")` instead of `.expect("what")` on the result of an SPI call of
/// a statement this crate wrote, or on a value such a statement always returns: an
/// SPI-level failure there is a bug, never the user's doing (SQL errors reach the
/// caller as PostgreSQL errors with their own SQLSTATE before any Result is returned).
/// It raises one clean XX000 naming what was being done, instead of a Rust panic.
pub trait OrInternal<T> {
    fn or_internal(self, what: &str) -> T;
}

impl<T, E: std::fmt::Display> OrInternal<T> for Result<T, E> {
    fn or_internal(self, what: &str) -> T {
        self.unwrap_or_else(|e| internal(what, e))
    }
}

impl<T> OrInternal<T> for Option<T> {
    fn or_internal(self, what: &str) -> T {
        self.unwrap_or_else(|| internal(what, "no value"))
    }
}

/// An argument outside its allowed values (SQLSTATE 22023).
pub fn bad_argument(message: impl Into<String>, hint: Option<&str>) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message, hint)
}

/// A NULL where a value is required (SQLSTATE 22004).
pub fn null_argument(arg: &str) -> ! {
    raise(PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED, format!("{arg} must not be NULL"), None)
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
    (0..5).map(|i| (((packed >> (6 * i)) & 0x3F) as u8 + b'0') as char).collect()
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
