//! Randomized checks of the socket against RFC 6455, standing in for a conformance suite.
//!
//! The unit tests in `socket.rs` and `frame.rs` pin each rule with a hand-made case; these
//! generate the cases. Whatever way a client splits its messages into fragments (with pings
//! between them) and its bytes into reads, the same messages come out in order and every ping
//! gets its own pong. Whatever bytes arrive instead, the socket never panics or hangs, stops at
//! the first broken rule, and never hands out a message larger than it accepts.

use super::frame::{client_frame, OpCode};
use super::socket::{Message, WebSocket};
use super::{SocketError, Utf8Text};
use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A message as the client sends it.
#[derive(Debug, Clone)]
enum Sent {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
}

/// One message on the wire: where its payload is cut into fragments, and the pings sent between
/// those fragments.
#[derive(Debug, Clone)]
struct Planned {
    message: Sent,
    /// Cut points as fractions (per mille) of the payload; empty for one frame.
    cuts: Vec<u16>,
    /// Pings sent after fragment `i` (only between fragments of this message).
    pings_between: Vec<Vec<u8>>,
    mask: [u8; 4],
}

fn any_message() -> impl Strategy<Value = Sent> {
    prop_oneof![
        4 => "\\PC{0,400}".prop_map(Sent::Text),
        1 => vec(any::<char>(), 0..3000).prop_map(|chars| Sent::Text(chars.into_iter().collect())),
        2 => vec(any::<u8>(), 0..2000).prop_map(Sent::Binary),
        // Larger than a read: such a frame arrives over several reads.
        1 => vec(any::<u8>(), 40_000..80_000).prop_map(Sent::Binary),
        1 => vec(any::<u8>(), 0..=125).prop_map(Sent::Ping),
    ]
}

fn planned() -> impl Strategy<Value = Planned> {
    (any_message(), vec(0u16..=1000, 0..4), vec(vec(any::<u8>(), 0..=125), 0..3), any::<[u8; 4]>()).prop_map(
        |(message, mut cuts, pings_between, mask)| {
            cuts.sort_unstable();
            if matches!(message, Sent::Ping(_)) {
                cuts.clear(); // control frames are never fragmented
            }
            Planned { message, cuts, pings_between, mask }
        },
    )
}

/// The client's bytes for `plan`, and the messages the server should hand out for them.
fn encode(plan: &[Planned]) -> (Vec<u8>, Vec<Message>, Vec<Vec<u8>>) {
    let mut bytes = Vec::new();
    let mut expected = Vec::new();
    let mut pings = Vec::new();
    for p in plan {
        let (opcode, payload) = match &p.message {
            Sent::Ping(payload) => {
                bytes.extend(client_frame(true, OpCode::Ping, payload, p.mask));
                expected.push(Message::Ping);
                pings.push(payload.clone());
                continue;
            }
            Sent::Text(text) => (OpCode::Text, text.as_bytes()),
            Sent::Binary(data) => (OpCode::Binary, data.as_slice()),
        };
        // A text message may be cut inside a character: fragments need not be valid UTF-8 on
        // their own, only the whole message.
        let mut at = 0;
        let mut points: Vec<usize> = p.cuts.iter().map(|c| payload.len() * usize::from(*c) / 1000).collect();
        points.push(payload.len());
        for (i, end) in points.iter().enumerate() {
            let last = i + 1 == points.len();
            let end = (*end).max(at);
            let op = if i == 0 { opcode } else { OpCode::Continuation };
            bytes.extend(client_frame(last, op, &payload[at..end], p.mask));
            at = end;
            if !last {
                if let Some(ping) = p.pings_between.get(i) {
                    bytes.extend(client_frame(true, OpCode::Ping, ping, p.mask));
                    expected.push(Message::Ping);
                    pings.push(ping.clone());
                }
            }
        }
        expected.push(match &p.message {
            Sent::Text(text) => Message::Text(Utf8Text::from(text.clone())),
            Sent::Binary(data) => Message::Binary(Bytes::from(data.clone())),
            Sent::Ping(_) => unreachable!("pings were handled above"),
        });
    }
    (bytes, expected, pings)
}

/// Splits `bytes` into reads at `cuts` (per mille positions), each at least one byte.
fn chunks(bytes: &[u8], cuts: &[u16]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| bytes.len() * usize::from(*c) / 1000).collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut at = 0;
    for end in points.into_iter().chain(std::iter::once(bytes.len())) {
        if end > at {
            out.push(bytes[at..end].to_vec());
            at = end;
        }
    }
    out
}

/// The payloads of the pong frames in what the server wrote (server frames are unmasked).
fn pongs(mut written: &[u8]) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    while written.len() >= 2 {
        let opcode = written[0] & 0x0F;
        let len = usize::from(written[1] & 0x7F);
        assert!(len < 126, "the server wrote only pongs here, which are short");
        assert_eq!(written[1] & 0x80, 0, "server frames are not masked");
        if opcode == 0xA {
            found.push(written[2..2 + len].to_vec());
        }
        written = &written[2 + len..];
    }
    found
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a test runtime")
}

/// Feeds `reads` to a fresh socket accepting messages up to `max_message`, then closes the
/// client's side; returns what `recv` handed out until it stopped, and what the server wrote.
fn run(reads: Vec<Vec<u8>>, max_message: usize) -> (Vec<Message>, Option<SocketError>, Vec<u8>) {
    runtime().block_on(async move {
        let (server, client) = tokio::io::duplex(4 << 20);
        let (mut client_read, mut client_write) = tokio::io::split(client);
        let mut socket = WebSocket::new(Box::new(server), Bytes::new(), max_message);
        let writer = tokio::spawn(async move {
            for read in reads {
                if client_write.write_all(&read).await.is_err() {
                    return;
                }
                tokio::task::yield_now().await;
            }
            let _ = client_write.shutdown().await;
        });
        let mut messages = Vec::new();
        let mut error = None;
        let received = async {
            while let Some(next) = socket.recv().await {
                match next {
                    Ok(message) => messages.push(message),
                    Err(err) => {
                        error = Some(err);
                        break;
                    }
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), received).await.expect("the socket never hangs on its input");
        let _ = socket.flush().await;
        drop(socket);
        writer.await.expect("the writer task ends");
        let mut written = Vec::new();
        client_read.read_to_end(&mut written).await.expect("what the server wrote can be read");
        (messages, error, written)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn messages_come_out_as_sent_however_they_are_fragmented_and_read(
        plan in vec(planned(), 1..8),
        read_cuts in vec(0u16..=1000, 0..40),
    ) {
        let (bytes, expected, pings) = encode(&plan);
        let (messages, error, written) = run(chunks(&bytes, &read_cuts), 1 << 20);
        prop_assert!(error.is_none(), "a valid stream was refused: {error:?}");
        prop_assert_eq!(messages, expected);
        prop_assert_eq!(pongs(&written), pings);
    }

    #[test]
    fn arbitrary_bytes_never_panic_hang_or_exceed_the_limit(
        noise in vec(any::<u8>(), 0..4096),
        valid_first in proptest::option::of(planned()),
        read_cuts in vec(0u16..=1000, 0..20),
    ) {
        // Noise alone is usually refused at its first byte; behind a valid message it tests the
        // state the socket is in after one.
        let mut bytes = valid_first.map(|p| encode(&[p]).0).unwrap_or_default();
        bytes.extend_from_slice(&noise);
        let max_message = 1024;
        let (messages, error, _) = run(chunks(&bytes, &read_cuts), max_message);
        for message in &messages {
            let len = match message {
                Message::Text(text) => text.as_str().len(),
                Message::Binary(data) => data.len(),
                Message::Ping | Message::Pong | Message::Close => 0,
            };
            prop_assert!(len <= max_message, "a {len}-byte message got past a {max_message}-byte limit");
        }
        if let Some(err) = error {
            prop_assert!(!matches!(err, SocketError::Io(_)), "input is never an I/O error: {err:?}");
        }
    }

    #[test]
    fn fragments_adding_up_past_the_limit_are_refused_whole(
        pieces in vec(1usize..400, 2..12),
        mask in any::<[u8; 4]>(),
    ) {
        let max_message = 1000;
        let total: usize = pieces.iter().sum();
        let mut bytes = Vec::new();
        for (i, len) in pieces.iter().enumerate() {
            let op = if i == 0 { OpCode::Binary } else { OpCode::Continuation };
            bytes.extend(client_frame(i + 1 == pieces.len(), op, &vec![7; *len], mask));
        }
        let (messages, error, _) = run(vec![bytes], max_message);
        if total > max_message {
            prop_assert!(messages.is_empty());
            prop_assert!(matches!(error, Some(SocketError::TooLarge)), "got {error:?}");
        } else {
            prop_assert_eq!(messages, vec![Message::Binary(Bytes::from(vec![7; total]))]);
        }
    }
}
