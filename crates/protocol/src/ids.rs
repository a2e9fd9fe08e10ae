//! Identifiers. Each is its own type so a session ID can never be passed where a node ID belongs.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A live session's public identifier: nine decimal digits that a customer can read aloud.
///
/// It is drawn at random from `100000000..=999999999` (no leading zero to trip over when spoken)
/// and is unique only among live sessions; the server keeps its own record ID for history.
/// On the wire it is a string, so no client ever does arithmetic on it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(u32);

impl SessionId {
    /// Smallest valid ID.
    pub const MIN: u32 = 100_000_000;
    /// Largest valid ID.
    pub const MAX: u32 = 999_999_999;

    /// Wraps a number, refusing anything that is not nine digits.
    pub fn new(value: u32) -> Result<Self, SessionIdError> {
        if (Self::MIN..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(SessionIdError)
        }
    }

    /// The numeric value.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// A string that is not a nine-digit session ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a session ID is exactly nine digits, not starting with 0")]
pub struct SessionIdError;

impl FromStr for SessionId {
    type Err = SessionIdError;

    /// Accepts the nine digits, tolerating the spaces or dashes an agent may type while listening
    /// ("123 456 789", "123-456-789").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut value: u32 = 0;
        let mut digits = 0;
        for ch in s.trim().chars() {
            match ch {
                '0'..='9' => {
                    digits += 1;
                    if digits > 9 {
                        return Err(SessionIdError);
                    }
                    value = value * 10 + (ch as u32 - '0' as u32);
                }
                ' ' | '-' if digits > 0 => {}
                _ => return Err(SessionIdError),
            }
        }
        if digits != 9 {
            return Err(SessionIdError);
        }
        Self::new(value)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:09}", self.0)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

impl Serialize for SessionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The SDK's number for a DOM node, unique within one page of one session.
///
/// The SDK assigns them; the server's mirror and the agent's viewer key their trees by them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_round_trips_as_a_nine_digit_string() {
        let id: SessionId = "123456789".parse().unwrap();
        assert_eq!(id.to_string(), "123456789");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"123456789\"");
        let back: SessionId = serde_json::from_str("\"123456789\"").unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn session_id_accepts_spoken_groupings() {
        assert_eq!("123 456 789".parse::<SessionId>().unwrap().get(), 123_456_789);
        assert_eq!(" 123-456-789 ".parse::<SessionId>().unwrap().get(), 123_456_789);
    }

    #[test]
    fn session_id_refuses_anything_else() {
        for bad in ["", "12345678", "1234567890", "012345678", "12345678a", "-123456789", "１２３"] {
            assert!(bad.parse::<SessionId>().is_err(), "{bad:?} should be refused");
        }
        assert!(serde_json::from_str::<SessionId>("123456789").is_err());
    }
}
