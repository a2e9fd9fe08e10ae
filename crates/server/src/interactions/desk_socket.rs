//! `/ws/v1/desk`: an agent's desk. The upgrade is authenticated (the workspace's sign-in
//! cookie); after `desk_hello` the desk receives its chats, calls and — while available — the
//! queue, and sends presence, accepts, messages and chat endings.

use super::state::{Outlet, CHAT_QUEUE};
use crate::auth::AgentIdentity;
use crate::state::AppState;
use crate::websocket::{Message as WsMessage, WebSocket};
use cobrowse_protocol::chat::ChatFrame;
use cobrowse_protocol::{ErrorCode, PROTOCOL_VERSION};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// Serves one desk socket of `agent`.
pub async fn serve(state: AppState, mut socket: WebSocket, agent: AgentIdentity) {
    let write_timeout = state.config.timeouts.write;
    match timeout(state.config.timeouts.hello, socket.recv()).await {
        Ok(Some(Ok(WsMessage::Text(text)))) => match ChatFrame::parse(text.as_str()) {
            Ok(ChatFrame::DeskHello { v }) if v == PROTOCOL_VERSION => {}
            Ok(ChatFrame::DeskHello { v }) => {
                let message = format!("this server speaks protocol version {PROTOCOL_VERSION}; the client spoke {v}");
                super::socket_loop::send_fatal(&mut socket, ErrorCode::VersionMismatch, &message, write_timeout).await;
                return;
            }
            _ => {
                super::socket_loop::send_fatal(
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
        if timeout(write_timeout, socket.send_text(&text)).await.is_err() {
            state.interactions.detach_desk(&agent.id, conn);
            return;
        }
    }
    let mut handler = DeskFrames { state: state.clone(), agent: agent.clone() };
    super::socket_loop::run(&state, &mut socket, &mut rx, &mut handler).await;
    state.interactions.detach_desk(&agent.id, conn);
    let _ = timeout(write_timeout, socket.close()).await;
}

/// What a desk may send: presence, accepts, messages and chat endings.
struct DeskFrames {
    state: AppState,
    agent: AgentIdentity,
}

impl super::socket_loop::FrameHandler for DeskFrames {
    fn handle(&mut self, frame: ChatFrame) -> impl std::future::Future<Output = Option<ChatFrame>> + Send {
        let state = self.state.clone();
        let agent = self.agent.clone();
        async move {
            let interactions = &state.interactions;
            match frame {
                ChatFrame::Presence { available } => {
                    interactions.set_presence(&agent.id, available);
                    None
                }
                ChatFrame::Accept { chat } => interactions.accept(&agent, &chat).err().map(|r| r.frame()),
                ChatFrame::Say { chat: Some(chat), cid, text } => {
                    interactions.agent_says(&agent, &chat, &cid, &text).err().map(|r| r.frame())
                }
                ChatFrame::EndChat { chat: Some(chat) } => {
                    match interactions.end_chat(&chat, "agent_ended", Some(&agent.id)) {
                        Ok(Some(session)) => {
                            super::http::end_linked_session(&state, session).await;
                            None
                        }
                        Ok(None) => None,
                        Err(refusal) => Some(refusal.frame()),
                    }
                }
                other => Some(ChatFrame::Error {
                    code: ErrorCode::BadFrame,
                    message: format!("a desk may not send {} like this", other.tag()),
                    fatal: false,
                }),
            }
        }
    }
}
