//! One upgraded WebSocket connection, server side: whole messages in, frames out.
//!
//! Built for holding ten thousand mostly idle connections on one core. Between messages a socket
//! owns no buffers: each read lands in a scratch buffer on the stack of the poll that does it, and
//! only a frame that arrived in part is copied into a buffer of its own, which is given back once
//! the frame is complete. Outbound frames gather in one buffer that a flush writes in as few
//! writes as the kernel allows, and a large one is given back afterwards. Both `recv` and `flush`
//! are safe to cancel (the connection loop races them against its queue and its timers): all state
//! lives in the socket, never in the future.

use super::frame::{self, Header, OpCode};
use super::{SocketError, Utf8Text};
use bytes::Bytes;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes asked of the kernel per read. On the poll's stack, so it costs no memory per socket; a
/// 20 KB mutation batch arrives in one read.
const READ_CHUNK: usize = 32 * 1024;

/// A buffer larger than this is given back once empty rather than kept for the next frame: most
/// frames are a pointer move of about a hundred bytes, and ten thousand sockets each keeping the
/// largest frame they ever carried was most of the server's memory.
const KEEP_BYTES: usize = 1024;

/// The byte stream under a socket: a TCP connection, or whatever the HTTP server upgraded.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// A message from the client. Pings are answered by the socket itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Text(Utf8Text),
    Binary(Bytes),
    Ping,
    Pong,
    /// The client is closing; the socket has answered with its own close frame.
    Close,
}

/// A server-side WebSocket over an upgraded connection.
pub struct WebSocket {
    io: Box<dyn Io>,
    /// The largest message accepted, whole or assembled from fragments.
    max_message: usize,
    /// Bytes that arrived with the upgrade request, read before anything else.
    pre_read: Option<Bytes>,
    /// The start of a frame whose rest has not arrived yet. Empty between frames.
    partial: Vec<u8>,
    /// The opcode and payload so far of a message sent in fragments.
    fragments: Option<(OpCode, Vec<u8>)>,
    /// Messages read and not yet handed out (one read may carry several).
    ready: VecDeque<Message>,
    /// Frames not yet written: fed frames awaiting a flush, or the rest of a write cut short.
    out: Vec<u8>,
    /// How much of `out` the kernel has taken.
    out_written: usize,
    /// No more messages will be read: the client closed, or broke the protocol.
    read_done: bool,
    /// Our close frame is in `out` or written; nothing may follow it.
    close_sent: bool,
    /// The close code and reason owed to a client that broke the protocol, sent by
    /// [`WebSocket::close`] after whatever the caller still wants to say.
    owed_close: Option<(u16, String)>,
}

impl WebSocket {
    /// A socket over `io`, after a completed upgrade. `pre_read` holds bytes the HTTP server had
    /// already read past the request (a client may send its first frame without waiting).
    pub fn new(io: Box<dyn Io>, pre_read: Bytes, max_message: usize) -> Self {
        Self {
            io,
            max_message,
            pre_read: (!pre_read.is_empty()).then_some(pre_read),
            partial: Vec::new(),
            fragments: None,
            ready: VecDeque::new(),
            out: Vec::new(),
            out_written: 0,
            read_done: false,
            close_sent: false,
            owed_close: None,
        }
    }

    /// The next message; `None` once the connection has closed. An error means the client broke
    /// the protocol or sent too much: the socket reads nothing more, and [`WebSocket::close`]
    /// will send the close code that says why (the caller may first send a frame of its own).
    pub async fn recv(&mut self) -> Option<Result<Message, SocketError>> {
        loop {
            if let Some(message) = self.ready.pop_front() {
                return Some(Ok(message));
            }
            if self.read_done {
                return None;
            }
            let result = match self.pre_read.take() {
                Some(bytes) => self.absorb(&bytes),
                None => poll_fn(|cx| self.poll_read_some(cx)).await,
            };
            match result {
                Ok(()) => {}
                Err(SocketError::Closed) => {
                    self.read_done = true;
                    return None;
                }
                Err(err) => {
                    self.read_done = true;
                    self.ready.clear();
                    self.owed_close = err.close_code().map(|code| (code, err.to_string()));
                    return Some(Err(err));
                }
            }
        }
    }

    /// Queues a text frame; [`WebSocket::flush`] writes it.
    pub fn feed_text(&mut self, text: &str) {
        self.feed(OpCode::Text, text.as_bytes());
    }

    /// Queues a binary frame; [`WebSocket::flush`] writes it.
    pub fn feed_binary(&mut self, bytes: &[u8]) {
        self.feed(OpCode::Binary, bytes);
    }

    /// Queues a close frame; nothing can be sent after it.
    fn feed_close(&mut self, code: u16, reason: &str) {
        if !self.close_sent {
            frame::write_server_frame(&mut self.out, OpCode::Close, &frame::close_payload(code, reason));
            self.close_sent = true;
        }
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), SocketError> {
        poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// Queues a text frame and writes it, with anything queued before it.
    pub async fn send_text(&mut self, text: &str) -> Result<(), SocketError> {
        self.feed_text(text);
        self.flush().await
    }

    /// Says goodbye with a close frame (normal, or the code owed for a broken protocol) and shuts
    /// the write side.
    pub async fn close(&mut self) -> Result<(), SocketError> {
        let (code, reason) = self.owed_close.take().unwrap_or((1000, String::new()));
        self.feed_close(code, &reason);
        self.flush().await?;
        poll_fn(|cx| Pin::new(&mut self.io).poll_shutdown(cx)).await?;
        Ok(())
    }

    fn feed(&mut self, opcode: OpCode, payload: &[u8]) {
        if !self.close_sent {
            frame::write_server_frame(&mut self.out, opcode, payload);
        }
    }

    /// Reads once and takes every whole frame out of what arrived.
    fn poll_read_some(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SocketError>> {
        // A pong or a close reply queued by an earlier read goes out whenever the socket can take
        // it; if it cannot yet, the waker registered here brings this task back.
        if self.out_written < self.out.len() {
            if let Poll::Ready(Err(err)) = self.poll_write_out(cx) {
                return Poll::Ready(Err(err));
            }
        }
        let mut scratch = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
        let mut buf = ReadBuf::uninit(&mut scratch);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
        if buf.filled().is_empty() {
            return Poll::Ready(Err(SocketError::Closed));
        }
        Poll::Ready(self.absorb(buf.filled()))
    }

    /// Takes the whole frames out of newly arrived `bytes`, keeping any incomplete rest.
    fn absorb(&mut self, bytes: &[u8]) -> Result<(), SocketError> {
        if self.partial.is_empty() {
            let used = self.take_frames(bytes)?;
            let rest = &bytes[used..];
            if !rest.is_empty() && !self.read_done {
                let whole = frame::parse_client_header(rest, self.max_message)?.map_or(rest.len(), |h| h.frame_len());
                self.partial.reserve_exact(reservation(whole, rest.len()));
                self.partial.extend_from_slice(rest);
            }
            return Ok(());
        }
        if let Some(header) = frame::parse_client_header(&self.partial, self.max_message)? {
            let have = self.partial.len() + bytes.len();
            self.partial.reserve_exact(reservation(header.frame_len(), have).saturating_sub(self.partial.len()));
        }
        self.partial.extend_from_slice(bytes);
        let partial = std::mem::take(&mut self.partial);
        let used = self.take_frames(&partial)?;
        if used < partial.len() && !self.read_done {
            self.partial = partial;
            self.partial.drain(..used);
        } else if partial.capacity() <= KEEP_BYTES {
            self.partial = partial;
            self.partial.clear();
        }
        Ok(())
    }

    /// Handles each whole frame at the start of `bytes`; returns how many bytes they took.
    fn take_frames(&mut self, bytes: &[u8]) -> Result<usize, SocketError> {
        let mut at = 0;
        while !self.read_done {
            let Some(header) = frame::parse_client_header(&bytes[at..], self.max_message)? else { break };
            let end = at + header.frame_len();
            if end > bytes.len() {
                break;
            }
            let mut payload = bytes[at + header.header_len..end].to_vec();
            frame::unmask(&mut payload, header.mask);
            self.on_frame(header, payload)?;
            at = end;
        }
        Ok(at)
    }

    fn on_frame(&mut self, header: Header, payload: Vec<u8>) -> Result<(), SocketError> {
        match header.opcode {
            OpCode::Text | OpCode::Binary => {
                if self.fragments.is_some() {
                    return Err(SocketError::Protocol("a new message began before the last one was finished"));
                }
                if header.fin {
                    let message = message(header.opcode, payload)?;
                    self.ready.push_back(message);
                } else {
                    self.fragments = Some((header.opcode, payload));
                }
            }
            OpCode::Continuation => {
                let Some((opcode, mut body)) = self.fragments.take() else {
                    return Err(SocketError::Protocol("a continuation frame with no message to continue"));
                };
                if body.len() + payload.len() > self.max_message {
                    return Err(SocketError::TooLarge);
                }
                body.extend_from_slice(&payload);
                if header.fin {
                    let message = message(opcode, body)?;
                    self.ready.push_back(message);
                } else {
                    self.fragments = Some((opcode, body));
                }
            }
            OpCode::Ping => {
                if !self.close_sent {
                    frame::write_server_frame(&mut self.out, OpCode::Pong, &payload);
                }
                self.ready.push_back(Message::Ping);
            }
            OpCode::Pong => self.ready.push_back(Message::Pong),
            OpCode::Close => {
                let code = match payload.len() {
                    0 => 1000,
                    1 => return Err(SocketError::Protocol("a close frame's payload is a two-byte code or nothing")),
                    _ => {
                        if std::str::from_utf8(&payload[2..]).is_err() {
                            return Err(SocketError::InvalidUtf8);
                        }
                        u16::from_be_bytes([payload[0], payload[1]])
                    }
                };
                // Answer with the same code, as section 5.5.1 asks, and read nothing more.
                self.feed_close(code, "");
                self.read_done = true;
                self.ready.push_back(Message::Close);
            }
        }
        Ok(())
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SocketError>> {
        ready!(self.poll_write_out(cx))?;
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        Poll::Ready(Ok(()))
    }

    /// Writes what is left of `out`; once all of it is written, empties it, giving a large
    /// buffer back.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SocketError>> {
        while self.out_written < self.out.len() {
            let written = ready!(Pin::new(&mut self.io).poll_write(cx, &self.out[self.out_written..]))?;
            if written == 0 {
                return Poll::Ready(Err(SocketError::Closed));
            }
            self.out_written += written;
        }
        self.out_written = 0;
        if self.out.capacity() > KEEP_BYTES {
            self.out = Vec::new();
        } else {
            self.out.clear();
        }
        Poll::Ready(Ok(()))
    }
}

/// How much room to make for a frame of `whole` bytes of which `have` have arrived: all of it,
/// but never more than a read or two ahead of what arrived, so a client that announces a large
/// frame and then sends nothing costs memory only for the bytes it sent.
fn reservation(whole: usize, have: usize) -> usize {
    whole.min(have.saturating_add(2 * READ_CHUNK))
}

/// A whole message's payload as the message it is.
fn message(opcode: OpCode, payload: Vec<u8>) -> Result<Message, SocketError> {
    match opcode {
        OpCode::Text => Utf8Text::from_utf8(payload).map(Message::Text).map_err(|_| SocketError::InvalidUtf8),
        _ => Ok(Message::Binary(Bytes::from(payload))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::websocket::frame::client_frame;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    const MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

    fn pair(max_message: usize) -> (WebSocket, DuplexStream) {
        let (server, client) = tokio::io::duplex(256 * 1024);
        (WebSocket::new(Box::new(server), Bytes::new(), max_message), client)
    }

    fn text(s: &str) -> Message {
        Message::Text(Utf8Text::from(s.to_owned()))
    }

    /// Reads whatever the server has written so far.
    async fn written(client: &mut DuplexStream) -> Vec<u8> {
        let mut buf = vec![0; 4096];
        let n = tokio::time::timeout(std::time::Duration::from_secs(2), client.read(&mut buf)).await.unwrap().unwrap();
        buf.truncate(n);
        buf
    }

    #[tokio::test]
    async fn messages_arrive_whole_however_the_bytes_are_split() {
        let (mut socket, mut client) = pair(1 << 20);
        let big = "x".repeat(70_000);
        let mut bytes = client_frame(true, OpCode::Text, b"first", MASK);
        bytes.extend(client_frame(true, OpCode::Text, big.as_bytes(), MASK));
        bytes.extend(client_frame(true, OpCode::Binary, &[1, 2, 3], MASK));
        let writer = tokio::spawn(async move {
            for piece in bytes.chunks(997) {
                client.write_all(piece).await.unwrap();
                tokio::task::yield_now().await;
            }
            client
        });
        assert_eq!(socket.recv().await.unwrap().unwrap(), text("first"));
        assert_eq!(socket.recv().await.unwrap().unwrap(), text(&big));
        assert_eq!(socket.recv().await.unwrap().unwrap(), Message::Binary(Bytes::from_static(&[1, 2, 3])));
        drop(writer.await.unwrap());
        assert!(socket.recv().await.is_none(), "the client hung up");
        assert!(socket.partial.capacity() <= KEEP_BYTES, "the large frame's buffer was given back");
    }

    #[tokio::test]
    async fn bytes_read_with_the_upgrade_come_first() {
        let (server, _client) = tokio::io::duplex(1024);
        let early = Bytes::from(client_frame(true, OpCode::Text, b"hello", MASK));
        let mut socket = WebSocket::new(Box::new(server), early, 1024);
        assert_eq!(socket.recv().await.unwrap().unwrap(), text("hello"));
    }

    #[tokio::test]
    async fn fragments_are_assembled_around_a_ping_which_is_answered() {
        let (mut socket, mut client) = pair(1024);
        let mut bytes = client_frame(false, OpCode::Text, b"hel", MASK);
        bytes.extend(client_frame(true, OpCode::Ping, b"are you there", MASK));
        bytes.extend(client_frame(true, OpCode::Continuation, b"lo", MASK));
        client.write_all(&bytes).await.unwrap();
        assert_eq!(socket.recv().await.unwrap().unwrap(), Message::Ping);
        assert_eq!(socket.recv().await.unwrap().unwrap(), text("hello"));
        socket.flush().await.unwrap();
        let mut pong = Vec::new();
        frame::write_server_frame(&mut pong, OpCode::Pong, b"are you there");
        assert_eq!(written(&mut client).await, pong);
    }

    #[tokio::test]
    async fn a_close_is_answered_with_the_same_code_and_ends_reading() {
        let (mut socket, mut client) = pair(1024);
        client.write_all(&client_frame(true, OpCode::Close, &frame::close_payload(1001, "bye"), MASK)).await.unwrap();
        assert_eq!(socket.recv().await.unwrap().unwrap(), Message::Close);
        assert!(socket.recv().await.is_none());
        socket.flush().await.unwrap();
        assert_eq!(written(&mut client).await, [0x88, 2, 0x03, 0xE9]);
        socket.send_text("too late").await.unwrap();
        socket.close().await.unwrap();
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "nothing follows a close frame");
    }

    #[tokio::test]
    async fn an_oversized_message_is_refused_with_close_code_1009() {
        let (mut socket, mut client) = pair(100);
        client.write_all(&client_frame(true, OpCode::Text, &[b'a'; 101], MASK)).await.unwrap();
        assert!(matches!(socket.recv().await, Some(Err(SocketError::TooLarge))));
        assert!(socket.recv().await.is_none());
        socket.send_text("a last word first").await.unwrap();
        socket.close().await.unwrap();
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply[0], 0x81, "the caller's frame goes before the close");
        let reply = &reply[2 + "a last word first".len()..];
        assert_eq!(&reply[..4], [0x88, reply[1], 0x03, 0xF1]);
    }

    #[tokio::test]
    async fn fragments_beyond_the_limit_together_are_refused() {
        let (mut socket, mut client) = pair(100);
        let mut bytes = client_frame(false, OpCode::Binary, &[0; 60], MASK);
        bytes.extend(client_frame(true, OpCode::Continuation, &[0; 60], MASK));
        client.write_all(&bytes).await.unwrap();
        assert!(matches!(socket.recv().await, Some(Err(SocketError::TooLarge))));
    }

    #[tokio::test]
    async fn invalid_utf8_and_broken_sequences_are_refused() {
        let cases: [Vec<u8>; 3] = [
            client_frame(true, OpCode::Text, &[0xFF, 0xFE], MASK),
            client_frame(true, OpCode::Continuation, b"orphan", MASK),
            [client_frame(false, OpCode::Text, b"a", MASK), client_frame(true, OpCode::Text, b"b", MASK)].concat(),
        ];
        for bytes in cases {
            let (mut socket, mut client) = pair(1024);
            client.write_all(&bytes).await.unwrap();
            assert!(matches!(socket.recv().await, Some(Err(_))), "{bytes:?}");
            socket.close().await.unwrap();
            let reply = written(&mut client).await;
            assert_eq!(reply[0], 0x88, "a close frame says why");
            assert_ne!(&reply[2..4], 1000u16.to_be_bytes());
        }
    }

    #[tokio::test]
    async fn fed_frames_go_out_together_and_large_buffers_are_given_back() {
        let (mut socket, mut client) = pair(1024);
        socket.feed_text("one");
        socket.feed_binary(&[9; 10_000]);
        socket.flush().await.unwrap();
        assert_eq!(socket.out.capacity(), 0);
        let mut got = vec![0; 5 + 4 + 10_000];
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(&got[..5], [0x81, 3, b'o', b'n', b'e']);
        assert_eq!(&got[5..9], [0x82, 126, 0x27, 0x10]);
    }

    #[tokio::test]
    async fn announcing_a_large_frame_reserves_only_what_arrived_and_a_little_more() {
        let (mut socket, mut client) = pair(8 << 20);
        let frame = client_frame(true, OpCode::Binary, &vec![7; 4 << 20], MASK);
        client.write_all(&frame[..1000]).await.unwrap();
        assert!(tokio::time::timeout(std::time::Duration::from_millis(20), socket.recv()).await.is_err());
        assert!(socket.partial.capacity() <= 1000 + 2 * READ_CHUNK, "{}", socket.partial.capacity());
        let writer = tokio::spawn(async move { client.write_all(&frame[1000..]).await.map(|()| client) });
        let Message::Binary(got) = socket.recv().await.unwrap().unwrap() else { panic!("binary expected") };
        assert_eq!(got.len(), 4 << 20);
        drop(writer.await.unwrap().unwrap());
    }

    #[tokio::test]
    async fn a_dropped_read_loses_nothing() {
        let (mut socket, mut client) = pair(1 << 20);
        let frame = client_frame(true, OpCode::Text, "y".repeat(50_000).as_bytes(), MASK);
        client.write_all(&frame[..30_000]).await.unwrap();
        // Cancelled while waiting for the rest, as the connection loop's select does.
        assert!(tokio::time::timeout(std::time::Duration::from_millis(20), socket.recv()).await.is_err());
        client.write_all(&frame[30_000..]).await.unwrap();
        let Message::Text(got) = socket.recv().await.unwrap().unwrap() else { panic!("text expected") };
        assert_eq!(got.len(), 50_000);
    }
}
