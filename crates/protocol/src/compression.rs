//! Wire compression of frames: negotiated in `hello`/`welcome`, carried in binary messages.
//!
//! The server's WebSocket library has no permessage-deflate, so large frames are compressed by
//! the application instead: a compressed frame is a binary WebSocket message holding one format
//! byte ([`FORMAT_DEFLATE_RAW`]) followed by the raw DEFLATE bytes (RFC 1951, no zlib or gzip
//! header — what the browser's `CompressionStream('deflate-raw')` writes) of the exact text frame
//! `[tag, seq, body]` it replaces. Everything else about the frame (numbering, acks, replay, size
//! limits) is about that text, so compression is invisible above the socket.
//!
//! Only frames of at least [`Compression::min`] bytes are worth it: small frames shrink little
//! (a pointer frame to about 0.9 of its size) and each one costs the browser a stream.

use crate::codes::ErrorCode;
use flate2::{Compress, Decompress, FlushCompress, FlushDecompress, Status};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// Format byte of a frame compressed with raw DEFLATE.
pub const FORMAT_DEFLATE_RAW: u8 = 0x01;

/// Frames below this many bytes stay text unless configured otherwise. Below about 1 KB the
/// measured ratio is 0.45–0.95 and the browser's per-frame stream costs more than the bytes saved.
pub const DEFAULT_MIN_BYTES: usize = 1024;

/// DEFLATE level the server compresses with: level 1 gets most of level 6's ratio on DOM JSON
/// (0.14–0.22 against 0.08–0.15) for a fraction of the CPU.
pub const SERVER_LEVEL: u32 = 1;

/// A compression a client can offer and a server can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Encoding {
    /// Raw DEFLATE, format byte [`FORMAT_DEFLATE_RAW`].
    #[serde(rename = "deflate-raw")]
    DeflateRaw,
}

impl Encoding {
    /// Every encoding this build knows, in order of preference.
    pub const ALL: [Encoding; 1] = [Encoding::DeflateRaw];

    /// The name clients offer in `hello.z`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::DeflateRaw => "deflate-raw",
        }
    }

    /// The byte that starts a binary message in this encoding.
    pub fn format_byte(self) -> u8 {
        match self {
            Encoding::DeflateRaw => FORMAT_DEFLATE_RAW,
        }
    }

    /// The first encoding this build knows among the names a client offered.
    pub fn choose<S: AsRef<str>>(offered: &[S]) -> Option<Encoding> {
        Self::ALL.into_iter().find(|known| offered.iter().any(|name| name.as_ref() == known.as_str()))
    }
}

/// What `welcome.z` tells the client: the encoding both sides use from now on, and the size from
/// which frames are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compression {
    /// The encoding.
    pub enc: Encoding,
    /// Frames of at least this many bytes of text are sent compressed; smaller ones stay text.
    /// Either side accepts a compressed frame of any size.
    pub min: usize,
}

/// Why a binary message could not be turned back into a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The message is empty or starts with a format byte this build does not know.
    #[error("a compressed frame starts with a known format byte (1 = deflate-raw); this one started with {0:?}")]
    UnknownFormat(Option<u8>),
    /// The DEFLATE data is corrupt or ends before its final block.
    #[error("the compressed frame is corrupt or truncated")]
    Corrupt,
    /// Inflating would exceed the frame limit; inflation stopped there.
    #[error("frames may be at most {max} bytes; this compressed one inflates to more")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The inflated bytes are not UTF-8 text.
    #[error("the compressed frame does not hold UTF-8 text")]
    NotText,
}

impl WireError {
    /// The stable code the refusal is reported with.
    pub fn code(&self) -> ErrorCode {
        match self {
            WireError::UnknownFormat(_) => ErrorCode::UnknownEncoding,
            WireError::Corrupt => ErrorCode::BadCompression,
            WireError::TooLarge { .. } => ErrorCode::FrameTooLarge,
            WireError::NotText => ErrorCode::BadFrame,
        }
    }
}

thread_local! {
    // A DEFLATE compressor's state is a few hundred KiB; one per thread, reset for each frame,
    // costs neither an allocation per frame nor memory per connection.
    static COMPRESSOR: RefCell<Compress> = RefCell::new(Compress::new(flate2::Compression::new(SERVER_LEVEL), false));
    static DECOMPRESSOR: RefCell<Decompress> = RefCell::new(Decompress::new(false));
}

/// The binary message for `text`: the format byte, then `text` as raw DEFLATE at [`SERVER_LEVEL`].
pub fn compress(encoding: Encoding, text: &str) -> Vec<u8> {
    let Encoding::DeflateRaw = encoding;
    COMPRESSOR.with(|cell| {
        let mut deflate = cell.borrow_mut();
        deflate.reset();
        let mut out = Vec::with_capacity(text.len() / 4 + 64);
        out.push(encoding.format_byte());
        let mut input = text.as_bytes();
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(4096));
            }
            let before = deflate.total_in();
            let status = deflate
                .compress_vec(input, &mut out, FlushCompress::Finish)
                .expect("compressing into a growing buffer cannot fail");
            input = &input[(deflate.total_in() - before) as usize..];
            if status == Status::StreamEnd {
                return out;
            }
        }
    })
}

/// The frame text inside a binary message, inflating at most `max` bytes: a small message that
/// would inflate past the frame limit (a decompression bomb) is refused once it reaches it.
pub fn decompress(message: &[u8], max: usize) -> Result<String, WireError> {
    match message.first() {
        Some(&FORMAT_DEFLATE_RAW) => {}
        other => return Err(WireError::UnknownFormat(other.copied())),
    }
    let bytes = DECOMPRESSOR.with(|cell| inflate(&mut cell.borrow_mut(), &message[1..], max))?;
    String::from_utf8(bytes).map_err(|_| WireError::NotText)
}

fn inflate(inflater: &mut Decompress, mut input: &[u8], max: usize) -> Result<Vec<u8>, WireError> {
    inflater.reset(false);
    // One byte of room past the limit tells "exactly max" from "more than max".
    let cap = max.saturating_add(1);
    let mut out = Vec::with_capacity(input.len().saturating_mul(4).max(256).min(cap));
    loop {
        if out.len() == out.capacity() {
            out.reserve_exact(out.capacity().min(cap - out.len()));
        }
        let (read_before, written_before) = (inflater.total_in(), out.len());
        let status = inflater.decompress_vec(input, &mut out, FlushDecompress::None).map_err(|_| WireError::Corrupt)?;
        input = &input[(inflater.total_in() - read_before) as usize..];
        if out.len() > max {
            return Err(WireError::TooLarge { max });
        }
        if status == Status::StreamEnd {
            return Ok(out);
        }
        // There was room to write, so no progress means the data ended before its final block.
        if inflater.total_in() == read_before && out.len() == written_before {
            return Err(WireError::Corrupt);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(bytes: usize) -> String {
        let mut text = String::from(r#"["snapshot",1,{"doc":["#);
        let mut i = 0;
        while text.len() < bytes {
            text.push_str(&format!(r#"{{"id":{i},"k":"e","n":"div","a":{{"class":"row"}}}},"#));
            i += 1;
        }
        text.push_str("null]}]");
        text
    }

    #[test]
    fn frames_round_trip() {
        for size in [0, 10, 1024, 200_000] {
            let text = page(size);
            let message = compress(Encoding::DeflateRaw, &text);
            assert_eq!(message[0], FORMAT_DEFLATE_RAW);
            assert_eq!(decompress(&message, text.len()).unwrap(), text, "size {size}");
            if size >= 1024 {
                assert!(message.len() < text.len() / 4, "{} of {}", message.len(), text.len());
            }
        }
        let unicode = "[\"nav\",3,{\"title\":\"Überweisung — 送金 ✓\"}]";
        assert_eq!(decompress(&compress(Encoding::DeflateRaw, unicode), 1024).unwrap(), unicode);
    }

    #[test]
    fn what_the_browser_writes_inflates() {
        // zlib's raw DEFLATE of `["ack",0,{"a":7}]` (Node's `zlib.deflateRawSync`; Chromium's
        // `CompressionStream('deflate-raw')` is zlib too).
        let browser = [
            0x01, 0x8b, 0x56, 0x4a, 0x4c, 0xce, 0x56, 0xd2, 0x31, 0xd0, 0xa9, 0x56, 0x4a, 0x54, 0xb2, 0x32, 0xaf, 0x8d,
            0x05, 0x00,
        ];
        assert_eq!(decompress(&browser, 100).unwrap(), r#"["ack",0,{"a":7}]"#);
    }

    #[test]
    fn unknown_format_bytes_are_refused() {
        let mut message = compress(Encoding::DeflateRaw, "[\"end\",1,{}]");
        message[0] = 0x02;
        assert_eq!(decompress(&message, 1024), Err(WireError::UnknownFormat(Some(2))));
        assert_eq!(decompress(&[], 1024), Err(WireError::UnknownFormat(None)));
        // A text frame sent as binary by mistake starts with `[`.
        assert_eq!(decompress(b"[\"end\",1,{}]", 1024).unwrap_err().code(), ErrorCode::UnknownEncoding);
    }

    #[test]
    fn corrupt_and_truncated_data_is_refused() {
        let text = page(5000);
        let message = compress(Encoding::DeflateRaw, &text);
        let truncated = &message[..message.len() / 2];
        assert_eq!(decompress(truncated, 1 << 20), Err(WireError::Corrupt));
        assert_eq!(decompress(&[FORMAT_DEFLATE_RAW], 1 << 20), Err(WireError::Corrupt));
        // Block type 3 is reserved in DEFLATE.
        assert_eq!(decompress(&[FORMAT_DEFLATE_RAW, 0xff, 0xff, 0xff], 1 << 20), Err(WireError::Corrupt));
        let mut flipped = message.clone();
        for byte in flipped.iter_mut().skip(1).take(16) {
            *byte ^= 0x5a;
        }
        assert!(decompress(&flipped, 1 << 20).is_err());
        assert_eq!(WireError::Corrupt.code(), ErrorCode::BadCompression);
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        // 64 MiB of zeros deflates to about 300 KiB at level 1; inflating must stop at the limit.
        let zeros = "0".repeat(64 << 20);
        let bomb = compress(Encoding::DeflateRaw, &zeros);
        assert!(bomb.len() * 100 < zeros.len(), "{}", bomb.len());
        assert_eq!(decompress(&bomb, 4 << 20), Err(WireError::TooLarge { max: 4 << 20 }));
        let exact = "0".repeat(4096);
        assert_eq!(decompress(&compress(Encoding::DeflateRaw, &exact), 4096).unwrap(), exact);
        assert_eq!(decompress(&compress(Encoding::DeflateRaw, &exact), 4095), Err(WireError::TooLarge { max: 4095 }));
        assert_eq!(WireError::TooLarge { max: 1 }.code(), ErrorCode::FrameTooLarge);
    }

    #[test]
    fn inflated_bytes_must_be_text() {
        let mut deflate = Compress::new(flate2::Compression::fast(), false);
        let mut message = vec![FORMAT_DEFLATE_RAW];
        message.reserve(64);
        deflate.compress_vec(&[0xff, 0xfe, 0x00], &mut message, FlushCompress::Finish).unwrap();
        assert_eq!(decompress(&message, 1024), Err(WireError::NotText));
    }

    #[test]
    fn negotiation_picks_a_known_encoding() {
        assert_eq!(Encoding::choose(&["zstd", "deflate-raw"]), Some(Encoding::DeflateRaw));
        assert_eq!(Encoding::choose(&["gzip"]), None);
        assert_eq!(Encoding::choose::<&str>(&[]), None);
        let z = Compression { enc: Encoding::DeflateRaw, min: 1024 };
        assert_eq!(serde_json::to_string(&z).unwrap(), r#"{"enc":"deflate-raw","min":1024}"#);
    }
}
