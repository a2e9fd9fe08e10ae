//! `/ws/v1/chat`: the customer's chat widget. `chat_hello` attaches to a chat (replaying every
//! message after the one the widget last had), then `say` and `end_chat` until the chat ends.

use super::state::{Outlet, CHAT_QUEUE};
use crate::state::AppState;
use axum::extract::ws::{Message as WsMessage, WebSocket};
use cobrowse_protocol::chat::ChatFrame;
use cobrowse_protocol::{ErrorCode, PROTOCOL_VERSION};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};

/// Serves one customer chat socket.
pub async fn serve(state: AppState, mut socket: WebSocket) {
    let write_timeout = state.config.timeouts.write;
    let hello = match timeout(state.config.timeouts.hello, socket.recv()).await {
        Ok(Some(Ok(WsMessage::Text(text)))) => ChatFrame::parse(text.as_str()),
        _ => return,
    };
    let (chat, token, last) = match hello {
        Ok(ChatFrame::ChatHello { v, chat, token, last }) if v == PROTOCOL_VERSION => (chat, token, last),
        Ok(ChatFrame::ChatHello { v, .. }) => {
            let message = format!("this server speaks protocol version {PROTOCOL_VERSION}; the client spoke {v}");
            send_fatal(&mut socket, ErrorCode::VersionMismatch, &message, write_timeout).await;
            return;
        }
        Ok(_) => {
            send_fatal(&mut socket, ErrorCode::HelloRequired, "the first frame must be chat_hello", write_timeout)
                .await;
            return;
        }
        Err(err) => {
            send_fatal(&mut socket, err.code(), &err.to_string(), write_timeout).await;
            return;
        }
    };
    let (tx, mut rx) = mpsc::channel::<String>(CHAT_QUEUE);
    let conn = state.interactions.next_conn();
    let first = match state.interactions.attach_customer(&chat, &token, last, Outlet { conn, tx }) {
        Ok(first) => first,
        Err(refusal) => {
            send_fatal(&mut socket, refusal.code, &refusal.message, write_timeout).await;
            return;
        }
    };
    for text in first {
        if timeout(write_timeout, socket.send(WsMessage::Text(text.into()))).await.is_err() {
            state.interactions.detach_customer(&chat, conn);
            return;
        }
    }
    let silence_limit = state.config.timeouts.heartbeat * 3;
    let mut last_heard = Instant::now();
    let mut tick = tokio::time::interval(state.config.timeouts.heartbeat);
    loop {
        tokio::select! {
            outbound = rx.recv() => match outbound {
                Some(text) => {
                    if !matches!(timeout(write_timeout, socket.send(WsMessage::Text(text.into()))).await, Ok(Ok(()))) {
                        break;
                    }
                }
                None => break, // the chat ended, or another tab took over
            },
            inbound = socket.recv() => {
                let text = match inbound {
                    Some(Ok(WsMessage::Text(text))) => text,
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => { last_heard = Instant::now(); continue }
                    _ => break,
                };
                last_heard = Instant::now();
                let reply = match ChatFrame::parse(text.as_str()) {
                    Ok(ChatFrame::Say { cid, text, .. }) => state.interactions.customer_says(&chat, &cid, &text).err().map(|r| r.frame()),
                    Ok(ChatFrame::EndChat { .. }) => {
                        match state.interactions.end_chat(&chat, "customer_left", None) {
                            Ok(Some(session)) => super::http::end_linked_session(&state, session).await,
                            Ok(None) => {}
                            Err(refusal) => { let _ = refusal; }
                        }
                        None
                    }
                    Ok(ChatFrame::Heartbeat { ts, reply: false }) => Some(ChatFrame::Heartbeat { ts, reply: true }),
                    Ok(ChatFrame::Heartbeat { .. }) => None,
                    Ok(other) => Some(ChatFrame::Error {
                        code: ErrorCode::WrongRole,
                        message: format!("the customer may not send {}", other.tag()),
                        fatal: false,
                    }),
                    Err(err) => Some(ChatFrame::Error { code: err.code(), message: err.to_string(), fatal: false }),
                };
                if let Some(frame) = reply {
                    if timeout(write_timeout, socket.send(WsMessage::Text(frame.encode().into()))).await.is_err() {
                        break;
                    }
                }
            },
            _ = tick.tick() => {
                if last_heard.elapsed() > silence_limit {
                    break;
                }
                let ping = ChatFrame::Heartbeat { ts: super::now_ms(), reply: false }.encode();
                if timeout(write_timeout, socket.send(WsMessage::Text(ping.into()))).await.is_err() {
                    break;
                }
            }
        }
    }
    state.interactions.detach_customer(&chat, conn);
    let _ = timeout(write_timeout, socket.send(WsMessage::Close(None))).await;
}

/// Sends a fatal error and closes.
pub async fn send_fatal(socket: &mut WebSocket, code: ErrorCode, message: &str, write_timeout: std::time::Duration) {
    let frame = ChatFrame::Error { code, message: message.to_owned(), fatal: true }.encode();
    let _ = timeout(write_timeout, socket.send(WsMessage::Text(frame.into()))).await;
    let _ = timeout(write_timeout, socket.send(WsMessage::Close(None))).await;
}
