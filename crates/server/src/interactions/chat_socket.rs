//! `/ws/v1/chat`: the customer's chat widget. `chat_hello` attaches to a chat (replaying every
//! message after the one the widget last had), then `say` and `end_chat` until the chat ends.

use super::state::{Outlet, CHAT_QUEUE};
use crate::state::AppState;
use crate::websocket::{Message as WsMessage, WebSocket};
use cobrowse_protocol::chat::ChatFrame;
use cobrowse_protocol::{ErrorCode, PROTOCOL_VERSION};
use tokio::sync::mpsc;
use tokio::time::timeout;

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
            super::socket_loop::send_fatal(&mut socket, ErrorCode::VersionMismatch, &message, write_timeout).await;
            return;
        }
        Ok(_) => {
            super::socket_loop::send_fatal(
                &mut socket,
                ErrorCode::HelloRequired,
                "the first frame must be chat_hello",
                write_timeout,
            )
            .await;
            return;
        }
        Err(err) => {
            super::socket_loop::send_fatal(&mut socket, err.code(), &err.to_string(), write_timeout).await;
            return;
        }
    };
    let (tx, mut rx) = mpsc::channel::<String>(CHAT_QUEUE);
    let conn = state.interactions.next_conn();
    let first = match state.interactions.attach_customer(&chat, &token, last, Outlet { conn, tx }) {
        Ok(first) => first,
        Err(refusal) => {
            super::socket_loop::send_fatal(&mut socket, refusal.code, &refusal.message, write_timeout).await;
            return;
        }
    };
    for text in first {
        if timeout(write_timeout, socket.send_text(&text)).await.is_err() {
            state.interactions.detach_customer(&chat, conn);
            return;
        }
    }
    let mut handler = CustomerFrames { state: state.clone(), chat: chat.clone() };
    super::socket_loop::run(&state, &mut socket, &mut rx, &mut handler).await;
    state.interactions.detach_customer(&chat, conn);
    let _ = timeout(write_timeout, socket.close()).await;
}

/// What a customer's chat socket may send: messages and the end of the chat.
struct CustomerFrames {
    state: AppState,
    chat: String,
}

impl super::socket_loop::FrameHandler for CustomerFrames {
    fn handle(&mut self, frame: ChatFrame) -> impl std::future::Future<Output = Option<ChatFrame>> + Send {
        let state = self.state.clone();
        let chat = self.chat.clone();
        async move {
            match frame {
                ChatFrame::Say { cid, text, .. } => {
                    state.interactions.customer_says(&chat, &cid, &text).err().map(|r| r.frame())
                }
                ChatFrame::EndChat { .. } => {
                    if let Ok(Some(session)) = state.interactions.end_chat(&chat, "customer_left", None) {
                        super::http::end_linked_session(&state, session).await;
                    }
                    None
                }
                other => Some(ChatFrame::Error {
                    code: ErrorCode::WrongRole,
                    message: format!("the customer may not send {}", other.tag()),
                    fatal: false,
                }),
            }
        }
    }
}
