//! `/ws/v1/desk`: an agent's desk. The upgrade is authenticated (the workspace's sign-in
//! cookie); after `desk_hello` the desk receives its chats, calls and — while available — the
//! queue, and sends presence, accepts, messages and chat endings.

use super::state::{Outlet, CHAT_QUEUE};
use crate::auth::AgentIdentity;
use crate::state::AppState;
use axum::extract::ws::{Message as WsMessage, WebSocket};
use cobrowse_protocol::chat::ChatFrame;
use cobrowse_protocol::{ErrorCode, PROTOCOL_VERSION};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};

/// Serves one desk socket of `agent`.
pub async fn serve(state: AppState, mut socket: WebSocket, agent: AgentIdentity) {
    let write_timeout = state.config.timeouts.write;
    match timeout(state.config.timeouts.hello, socket.recv()).await {
        Ok(Some(Ok(WsMessage::Text(text)))) => match ChatFrame::parse(text.as_str()) {
            Ok(ChatFrame::DeskHello { v }) if v == PROTOCOL_VERSION => {}
            Ok(ChatFrame::DeskHello { v }) => {
                let message = format!("this server speaks protocol version {PROTOCOL_VERSION}; the client spoke {v}");
                super::chat_socket::send_fatal(&mut socket, ErrorCode::VersionMismatch, &message, write_timeout).await;
                return;
            }
            _ => {
                super::chat_socket::send_fatal(
                    &mut socket,
                    ErrorCode::HelloRequired,
                    "the first frame must be desk_hello",
                    write_timeout,
                )
                .await;
                return;
            }
        },
        _ => return,
    }
    let (tx, mut rx) = mpsc::channel::<String>(CHAT_QUEUE);
    let conn = state.interactions.next_conn();
    for text in state.interactions.attach_desk(&agent, Outlet { conn, tx }) {
        if timeout(write_timeout, socket.send(WsMessage::Text(text.into()))).await.is_err() {
            state.interactions.detach_desk(&agent.id, conn);
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
                None => break,
            },
            inbound = socket.recv() => {
                let text = match inbound {
                    Some(Ok(WsMessage::Text(text))) => text,
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => { last_heard = Instant::now(); continue }
                    _ => break,
                };
                last_heard = Instant::now();
                let interactions = &state.interactions;
                let reply = match ChatFrame::parse(text.as_str()) {
                    Ok(ChatFrame::Presence { available }) => {
                        interactions.set_presence(&agent.id, available);
                        None
                    }
                    Ok(ChatFrame::Accept { chat }) => interactions.accept(&agent, &chat).err().map(|r| r.frame()),
                    Ok(ChatFrame::Say { chat: Some(chat), cid, text }) => {
                        interactions.agent_says(&agent, &chat, &cid, &text).err().map(|r| r.frame())
                    }
                    Ok(ChatFrame::EndChat { chat: Some(chat) }) => match interactions.end_chat(&chat, "agent_ended", Some(&agent.id)) {
                        Ok(Some(session)) => {
                            super::http::end_linked_session(&state, session).await;
                            None
                        }
                        Ok(None) => None,
                        Err(refusal) => Some(refusal.frame()),
                    },
                    Ok(ChatFrame::Heartbeat { ts, reply: false }) => Some(ChatFrame::Heartbeat { ts, reply: true }),
                    Ok(ChatFrame::Heartbeat { .. }) => None,
                    Ok(other) => Some(ChatFrame::Error {
                        code: ErrorCode::BadFrame,
                        message: format!("a desk may not send {} like this", other.tag()),
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
    state.interactions.detach_desk(&agent.id, conn);
    let _ = timeout(write_timeout, socket.send(WsMessage::Close(None))).await;
}
