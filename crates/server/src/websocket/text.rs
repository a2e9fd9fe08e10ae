//! Text known to be UTF-8, shared without copying.

use bytes::Bytes;
use std::fmt;

/// UTF-8 text in a reference-counted buffer. One outbound frame is held by a participant's
/// replay ring and by its connection's queue at once; cloning this shares the bytes.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Utf8Text(Bytes);

impl Utf8Text {
    /// Checks `bytes` once; afterwards the text is read without checking again.
    pub fn from_utf8(bytes: Vec<u8>) -> Result<Self, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Self(Bytes::from(bytes)))
    }

    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor takes a `String`, a `&'static str`, or bytes checked by
        // `from_utf8`, and the bytes are never changed afterwards.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Utf8Text {
    fn from(text: String) -> Self {
        Self(Bytes::from(text))
    }
}

impl From<&'static str> for Utf8Text {
    fn from(text: &'static str) -> Self {
        Self(Bytes::from_static(text.as_bytes()))
    }
}

impl std::ops::Deref for Utf8Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Utf8Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_refused_and_valid_text_reads_back() {
        assert!(Utf8Text::from_utf8(vec![0xC3, 0x28]).is_err());
        let text = Utf8Text::from_utf8("naïve".as_bytes().to_vec()).unwrap();
        assert_eq!(text.as_str(), "naïve");
        assert_eq!(&*Utf8Text::from(String::from("x")), "x");
    }
}
