//! The loop both chat-channel sockets share: write what the service queues, read frames and
//! hand them to the socket's own handler (answering its replies), keep the connection alive with
//! heartbeats, and give up on a peer silent for three heartbeat intervals.

use crate::state::AppState;
use crate::websocket::{Message as WsMessage, WebSocket};
use cobrowse_protocol::chat::ChatFrame;
use cobrowse_protocol::ErrorCode;
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};

/// What a socket does with the frames its peer sends (heartbeats are answered by the loop).
pub trait FrameHandler: Send {
    /// Handles one frame; the returned frame, if any, is the reply.
    fn handle(&mut self, frame: ChatFrame) -> impl std::future::Future<Output = Option<ChatFrame>> + Send;
}

/// Runs until the peer leaves, goes silent, or the service closes `outbound`.
pub async fn run(
    state: &AppState,
    socket: &mut WebSocket,
    outbound: &mut mpsc::Receiver<String>,
    handler: &mut impl FrameHandler,
) {
    let write_timeout = state.config.timeouts.write;
    let silence_limit = state.config.timeouts.heartbeat * 3;
    let mut last_heard = Instant::now();
    let mut tick = tokio::time::interval(state.config.timeouts.heartbeat);
    loop {
        let reply = tokio::select! {
            queued = outbound.recv() => match queued {
                Some(text) => Some(text),
                None => return, // the chat ended, or another tab took over
            },
            inbound = socket.recv() => {
                let text = match inbound {
                    Some(Ok(WsMessage::Text(text))) => text,
                    Some(Ok(WsMessage::Ping | WsMessage::Pong)) => {
                        last_heard = Instant::now();
                        continue;
                    }
                    _ => return,
                };
                last_heard = Instant::now();
                let reply = match ChatFrame::parse(text.as_str()) {
                    Ok(ChatFrame::Heartbeat { ts, reply: false }) => Some(ChatFrame::Heartbeat { ts, reply: true }),
                    Ok(ChatFrame::Heartbeat { .. }) => None,
                    Ok(frame) => handler.handle(frame).await,
                    Err(err) => Some(ChatFrame::Error { code: err.code(), message: err.to_string(), fatal: false }),
                };
                reply.map(|frame| frame.encode())
            },
            _ = tick.tick() => {
                if last_heard.elapsed() > silence_limit {
                    return;
                }
                Some(ChatFrame::Heartbeat { ts: super::now_ms(), reply: false }.encode())
            }
        };
        if let Some(text) = reply {
            if !matches!(timeout(write_timeout, socket.send_text(&text)).await, Ok(Ok(()))) {
                return;
            }
        }
    }
}

/// Sends a fatal error and closes.
pub async fn send_fatal(socket: &mut WebSocket, code: ErrorCode, message: &str, write_timeout: std::time::Duration) {
    let frame = ChatFrame::Error { code, message: message.to_owned(), fatal: true }.encode();
    let _ = timeout(write_timeout, socket.send_text(&frame)).await;
    let _ = timeout(write_timeout, socket.close()).await;
}
