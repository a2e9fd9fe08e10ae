//! Speaking to each system under test: the Cobrowse protocol as documented in
//! `docs/protocol.md`, or one of the minimal Node relays (bench/relays/), which only forward a
//! room's messages. The same frames go over each; only the envelope differs.

use anyhow::{anyhow, bail};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A WebSocket message, as far as the load generator cares.
#[derive(Debug)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message (no system under test sends one).
    Binary,
    /// A ping, to be answered with a pong of the same payload.
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// The peer closed the connection.
    Close,
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Message {
        Message::Text(text.into())
    }
}

/// A minimal WebSocket client (RFC 6455) over a TCP stream: no extensions, no TLS.
///
/// The generator's own cost must stay small next to the systems it measures. tungstenite zero-
/// fills its read buffer's free capacity on every read attempt (`FrameCodec::read_in`), even
/// one that finds nothing, and that memset was a quarter of the generator's CPU; this client
/// reads into spare capacity without initializing it and writes each frame with one call.
/// Frames are masked with a zero key (legal, and the server unmasks as always).
pub struct Socket {
    stream: TcpStream,
    buffer: Vec<u8>,
    /// Payload of a fragmented message being assembled.
    partial: Option<Vec<u8>>,
    out: Vec<u8>,
}

impl Socket {
    /// Sends a message.
    pub async fn send(&mut self, message: Message) -> std::io::Result<()> {
        let (opcode, payload): (u8, &[u8]) = match &message {
            Message::Text(text) => (0x1, text.as_bytes()),
            Message::Ping(data) => (0x9, data),
            Message::Pong(data) => (0xA, data),
            Message::Close => (0x8, &[]),
            Message::Binary => (0x2, &[]),
        };
        self.out.clear();
        self.out.push(0x80 | opcode);
        let len = payload.len();
        if len < 126 {
            self.out.push(0x80 | len as u8);
        } else if len <= u16::MAX as usize {
            self.out.push(0x80 | 126);
            self.out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            self.out.push(0x80 | 127);
            self.out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        self.out.extend_from_slice(&[0, 0, 0, 0]);
        self.out.extend_from_slice(payload);
        self.stream.write_all(&self.out).await
    }

    /// Sends a close frame; the caller drops the socket next.
    pub async fn close(&mut self) -> std::io::Result<()> {
        self.send(Message::Close).await
    }

    /// The next message, or `None` once the connection is closed. Cancel-safe: bytes read are
    /// kept in the buffer until a whole frame is there.
    pub async fn next(&mut self) -> Option<std::io::Result<Message>> {
        loop {
            match self.parse() {
                Ok(Some(message)) => return Some(Ok(message)),
                Ok(None) => {}
                Err(err) => return Some(Err(err)),
            }
            if self.buffer.capacity() - self.buffer.len() < 4096 {
                self.buffer.reserve(16 * 1024);
            }
            match self.stream.read_buf(&mut self.buffer).await {
                Ok(0) => return None,
                Ok(_) => {}
                Err(err) => return Some(Err(err)),
            }
        }
    }

    /// Takes one whole message from the buffer, if there is one.
    fn parse(&mut self) -> std::io::Result<Option<Message>> {
        loop {
            let b = &self.buffer;
            if b.len() < 2 {
                return Ok(None);
            }
            let fin = b[0] & 0x80 != 0;
            let opcode = b[0] & 0x0F;
            let masked = b[1] & 0x80 != 0;
            let (len, mut at) = match b[1] & 0x7F {
                126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
                127 if b.len() >= 10 => {
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(&b[2..10]);
                    (u64::from_be_bytes(bytes) as usize, 10)
                }
                126 | 127 => return Ok(None),
                n => (n as usize, 2),
            };
            let mask = if masked {
                if b.len() < at + 4 {
                    return Ok(None);
                }
                at += 4;
                Some([b[at - 4], b[at - 3], b[at - 2], b[at - 1]])
            } else {
                None
            };
            if b.len() < at + len {
                return Ok(None);
            }
            let mut payload = self.buffer[at..at + len].to_vec();
            self.buffer.drain(..at + len);
            if let Some(mask) = mask {
                for (i, byte) in payload.iter_mut().enumerate() {
                    *byte ^= mask[i % 4];
                }
            }
            let message = match opcode {
                0x0 => {
                    let Some(mut partial) = self.partial.take() else {
                        return Err(std::io::Error::other("continuation without a message"));
                    };
                    partial.extend_from_slice(&payload);
                    if !fin {
                        self.partial = Some(partial);
                        continue;
                    }
                    text_message(partial)?
                }
                0x1 if !fin => {
                    self.partial = Some(payload);
                    continue;
                }
                0x1 => text_message(payload)?,
                0x2 => Message::Binary,
                0x8 => Message::Close,
                0x9 => Message::Ping(payload),
                0xA => Message::Pong(payload),
                other => return Err(std::io::Error::other(format!("unknown opcode {other}"))),
            };
            return Ok(Some(message));
        }
    }
}

fn text_message(payload: Vec<u8>) -> std::io::Result<Message> {
    String::from_utf8(payload).map(Message::Text).map_err(|_| std::io::Error::other("text that is not UTF-8"))
}

/// The system a run drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    /// The Cobrowse server: sessions, sign-in, mirror, sequencing, acks.
    Cobrowse,
    /// bench/relays/socketio-relay.js: socket.io rooms, forward to the room.
    SocketIo,
    /// bench/relays/ws-relay.js: the bare `ws` package, forward to the room.
    Ws,
}

impl System {
    /// Parses a name used on the command line.
    pub fn parse(name: &str) -> anyhow::Result<System> {
        Ok(match name {
            "cobrowse" => System::Cobrowse,
            "socketio" | "socket.io" => System::SocketIo,
            "ws" => System::Ws,
            other => bail!("unknown system {other:?} (cobrowse, socketio, ws)"),
        })
    }

    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            System::Cobrowse => "cobrowse",
            System::SocketIo => "socketio",
            System::Ws => "ws",
        }
    }
}

/// Opens a WebSocket from source address `127.0.0.<source>` (sessions are spread over several
/// loopback addresses so no single address runs short of ephemeral ports).
pub async fn open(server: SocketAddr, source: u8, path: &str) -> anyhow::Result<Socket> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, source.max(1)), 0)))?;
    let mut stream = tokio::time::timeout(Duration::from_secs(30), socket.connect(server))
        .await
        .map_err(|_| anyhow!("TCP connect timed out"))??;
    stream.set_nodelay(true)?;
    // Any 16 bytes in base64 do as a key; the server's accept value is not checked.
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buffer = Vec::with_capacity(4096);
    let end = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                return Ok::<usize, anyhow::Error>(end + 4);
            }
            if stream.read_buf(&mut buffer).await? == 0 {
                bail!("connection closed during the WebSocket handshake");
            }
        }
    })
    .await
    .map_err(|_| anyhow!("WebSocket handshake timed out"))??;
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    if !head.starts_with("HTTP/1.1 101") {
        bail!("WebSocket handshake with {path} refused: {}", head.lines().next().unwrap_or_default());
    }
    buffer.drain(..end);
    Ok(Socket { stream, buffer, partial: None, out: Vec::with_capacity(1024) })
}

/// Wraps a frame for the wire of `system`.
pub fn envelope(system: System, frame: String) -> String {
    match system {
        System::Cobrowse | System::Ws => frame,
        // A socket.io EVENT packet on the default namespace: 42["f",<frame>].
        System::SocketIo => {
            let mut text = String::with_capacity(frame.len() + 8);
            text.push_str("42[\"f\",");
            text.push_str(&frame);
            text.push(']');
            text
        }
    }
}

/// What arrived, once the envelope is removed.
pub enum Inbound<'a> {
    /// A frame of the protocol (for the relays: as the sender wrote it, re-serialized by
    /// socket.io).
    Frame(&'a str),
    /// An Engine.IO ping: answer with a pong.
    Ping,
    /// Something else (an Engine.IO or socket.io control packet).
    Other,
}

/// Removes the envelope of `system` from a text message.
pub fn unwrap(system: System, text: &str) -> Inbound<'_> {
    match system {
        System::Cobrowse | System::Ws => Inbound::Frame(text),
        System::SocketIo => {
            if text == "2" {
                Inbound::Ping
            } else if let Some(rest) = text.strip_prefix("42[\"f\",") {
                Inbound::Frame(rest.strip_suffix(']').unwrap_or(rest))
            } else {
                Inbound::Other
            }
        }
    }
}

/// Reads text messages until `accept` returns a value, answering pings; fails after `limit`.
pub async fn read_until<T>(
    ws: &mut Socket,
    limit: Duration,
    mut accept: impl FnMut(&str) -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| anyhow!("timed out waiting for the server"))?
            .ok_or_else(|| anyhow!("socket closed"))??;
        match message {
            Message::Text(text) => {
                if let Some(value) = accept(text.as_str())? {
                    return Ok(value);
                }
            }
            Message::Ping(payload) => ws.send(Message::Pong(payload)).await?,
            Message::Close => bail!("socket closed"),
            _ => {}
        }
    }
}

/// The socket.io handshake after the WebSocket opens: Engine.IO open packet, then connect to
/// the default namespace.
pub async fn socketio_handshake(ws: &mut Socket) -> anyhow::Result<()> {
    read_until(ws, Duration::from_secs(30), |text| Ok(text.starts_with('0').then_some(()))).await?;
    ws.send(Message::text("40")).await?;
    read_until(ws, Duration::from_secs(30), |text| {
        if text.starts_with("44") {
            bail!("socket.io refused the connection: {text}");
        }
        Ok(text.starts_with("40").then_some(()))
    })
    .await
}
