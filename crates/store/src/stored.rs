//! The stored forms of the values in a record, shared by every backend so that one database's
//! rows read the same as another's.
//!
//! - Modes, roles and end reasons are their wire strings. [`Mode`] and [`Role`] have no `as_str`
//!   in the protocol crate, so the mapping is here; a test checks it against their serde form.
//! - Times are whole microseconds since the Unix epoch, UTC: PostgreSQL keeps microseconds, so
//!   truncating here makes both backends return the same time for the same input.

use crate::error::StoreError;
use cobrowse_protocol::{EndReason, Mode, Role};
use time::OffsetDateTime;

/// The stored (and wire) form of a mode.
pub(crate) fn mode_str(mode: Mode) -> &'static str {
    match mode {
        Mode::Pointer => "pointer",
        Mode::Write => "write",
    }
}

/// Reads a stored mode.
pub(crate) fn parse_mode(text: &str) -> Result<Mode, StoreError> {
    match text {
        "pointer" => Ok(Mode::Pointer),
        "write" => Ok(Mode::Write),
        other => Err(StoreError::Corrupt(format!("unknown mode {other:?}"))),
    }
}

/// The stored (and wire) form of a role.
pub(crate) fn role_str(role: Role) -> &'static str {
    match role {
        Role::Customer => "customer",
        Role::Agent => "agent",
        Role::Observer => "observer",
    }
}

/// Reads a stored role.
pub(crate) fn parse_role(text: &str) -> Result<Role, StoreError> {
    match text {
        "customer" => Ok(Role::Customer),
        "agent" => Ok(Role::Agent),
        "observer" => Ok(Role::Observer),
        other => Err(StoreError::Corrupt(format!("unknown role {other:?}"))),
    }
}

/// Reads a stored end reason.
pub(crate) fn parse_end_reason(text: &str) -> Result<EndReason, StoreError> {
    EndReason::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown end reason {text:?}")))
}

/// A time as stored: microseconds since the Unix epoch, rounded down.
pub(crate) fn to_micros(at: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000))
        .map_err(|_| StoreError::Unstorable(format!("the time {at}, which is out of range")))
}

/// Reads a stored time, in UTC.
pub(crate) fn from_micros(micros: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map_err(|_| StoreError::Corrupt(format!("{micros} is not a time in microseconds")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::{Duration, UtcOffset};

    #[test]
    fn modes_and_roles_are_stored_as_their_wire_strings() {
        for mode in [Mode::Pointer, Mode::Write] {
            assert_eq!(serde_json::to_value(mode).unwrap(), mode_str(mode));
            assert_eq!(parse_mode(mode_str(mode)).unwrap(), mode);
        }
        for role in [Role::Customer, Role::Agent, Role::Observer] {
            assert_eq!(serde_json::to_value(role).unwrap(), role_str(role));
            assert_eq!(parse_role(role_str(role)).unwrap(), role);
        }
        for reason in EndReason::ALL {
            assert_eq!(parse_end_reason(reason.as_str()).unwrap(), reason);
        }
    }

    #[test]
    fn unknown_stored_strings_are_corrupt_not_a_panic() {
        assert!(matches!(parse_mode("Write"), Err(StoreError::Corrupt(_))));
        assert!(matches!(parse_role(""), Err(StoreError::Corrupt(_))));
        assert!(matches!(parse_end_reason("exploded"), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn times_round_trip_to_the_microsecond_in_utc() {
        let base = OffsetDateTime::from_unix_timestamp(1_714_557_600).unwrap();
        let exact = base + Duration::microseconds(123_456);
        assert_eq!(from_micros(to_micros(exact).unwrap()).unwrap(), exact);

        let with_nanos = exact + Duration::nanoseconds(999);
        assert_eq!(from_micros(to_micros(with_nanos).unwrap()).unwrap(), exact);

        let elsewhere = exact.to_offset(UtcOffset::from_hms(2, 0, 0).unwrap());
        let back = from_micros(to_micros(elsewhere).unwrap()).unwrap();
        assert_eq!(back, exact);
        assert_eq!(back.offset(), UtcOffset::UTC);
    }

    #[test]
    fn times_before_the_epoch_round_down() {
        let before = OffsetDateTime::UNIX_EPOCH - Duration::nanoseconds(1);
        assert_eq!(to_micros(before).unwrap(), -1);
        assert_eq!(from_micros(-1).unwrap(), OffsetDateTime::UNIX_EPOCH - Duration::microseconds(1));
    }

    #[test]
    fn out_of_range_stored_times_are_corrupt() {
        assert!(matches!(from_micros(i64::MAX), Err(StoreError::Corrupt(_))));
    }
}
