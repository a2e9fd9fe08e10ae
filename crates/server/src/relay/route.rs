//! What happens to each frame a participant sends: sequence checks, role checks, the mirror,
//! the mode rules, and fan-out to the other participants.
//!
//! Runs under the session's lock, synchronously: nothing here waits. Frames that pass through
//! unchanged are forwarded as their original body text; only frames the server alters (a
//! sanitized batch, a pointer stamped with who it belongs to) are serialized again.

use crate::sessions::lifecycle::Answered;
use crate::sessions::participant::SlotKey;
use crate::sessions::session::{SessionHandle, SessionInner};
use cobrowse_mirror::MirrorError;
use cobrowse_protocol::{
    EndReason, ErrorCode, Frame, Notice, NoticeCode, Participant, ResyncRequest, Role, SessionState,
};
use cobrowse_store::RecordEvent;
use time::OffsetDateTime;
use tokio::time::Instant;

/// The outcome of one inbound frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Routed {
    /// Accepted (or a harmless duplicate). `last_in` is what the connection acknowledges.
    Done {
        /// The sender's inbound position.
        last_in: u64,
    },
    /// Refused; the sender gets a non-fatal error and everything else goes on.
    Refused {
        /// Stable code.
        code: ErrorCode,
        /// Plain message.
        message: String,
        /// The sender's inbound position.
        last_in: u64,
    },
    /// The session ends now.
    End(EndReason),
}

impl SessionHandle {
    /// Routes one parsed frame from participant `key`. `body` is the frame's original body text.
    pub fn receive(&self, key: SlotKey, seq: u64, frame: Frame, body: &str, now: Instant) -> Routed {
        let mut inner = self.lock();
        if inner.life.state() == SessionState::Ended {
            return Routed::End(inner.life.end_reason().unwrap_or(EndReason::ProtocolError));
        }
        let Some(slot) = inner.slot_mut(key) else {
            return Routed::Refused {
                code: ErrorCode::Unauthorized,
                message: "unknown participant".into(),
                last_in: 0,
            };
        };
        let role = slot.role();
        // Only a viewer's frames go out under its name (a pointer's owner, say); the customer's
        // frames, most of the traffic, need no copy of it.
        let viewer = (role != Role::Customer).then(|| slot.who.clone());
        let last_in = slot.last_in;
        let refuse = |code: ErrorCode, message: &str, last_in: u64| Routed::Refused {
            code,
            message: message.to_owned(),
            last_in,
        };

        match &frame {
            Frame::Ack(ack) => {
                slot.out.acknowledge(ack.a);
                return Routed::Done { last_in };
            }
            Frame::Heartbeat(_) => return Routed::Done { last_in },
            Frame::Hello(_) => {
                return refuse(ErrorCode::BadFrame, "hello was already received on this socket", last_in)
            }
            _ => {}
        }
        if seq <= last_in {
            return Routed::Done { last_in }; // a resend of something already applied
        }
        // A frame that parsed counts as received even if it is refused below, so a refusal never
        // turns into a sequence gap for the frames after it.
        let gap = seq != last_in + 1;
        slot.last_in = seq;
        if gap && role == Role::Customer && !matches!(frame, Frame::Snapshot(_)) {
            // Frames went missing between the customer's browser and here: the page we hold can
            // no longer be trusted, so ask for a whole new one rather than apply deltas to a guess.
            inner.mirror.clear();
            self.ask_for_snapshot(&mut inner, "frames were lost in transit");
            return refuse(ErrorCode::SequenceGap, &format!("expected frame {}, got {seq}", last_in + 1), seq);
        }
        if !frame.may_be_sent_by(role) {
            return refuse(
                ErrorCode::WrongRole,
                &format!("a {role:?} may not send {}", frame.tag()).to_lowercase(),
                seq,
            );
        }
        inner.life.touch(now);

        let outcome = match viewer {
            None => self.route_customer_frame(&mut inner, frame, body, seq),
            Some(who) => self.route_viewer_frame(&mut inner, key, who, frame, seq),
        };
        inner.recover_lagging(&self.deps.metrics);
        if inner.any_lagging() {
            // The watchdog polls lagging streams until they can be resynced.
            self.changed.notify_one();
        }
        outcome
    }

    fn ask_for_snapshot(&self, inner: &mut SessionInner, reason: &str) {
        self.deps.metrics.mirror_resync();
        let body = Frame::Resync(ResyncRequest { reason: reason.into() }).encode_body();
        inner.to_customer("resync", &body);
    }

    fn record_page(&self, inner: &mut SessionInner, url: &str, title: &str) {
        if inner.last_page.as_deref() != Some(url) {
            inner.last_page = Some(url.to_owned());
            self.deps.recorder.record(RecordEvent::PageVisited {
                record: self.record,
                url: url.to_owned(),
                title: title.to_owned(),
                at: OffsetDateTime::now_utc(),
            });
        }
    }

    fn route_customer_frame(&self, inner: &mut SessionInner, frame: Frame, body: &str, seq: u64) -> Routed {
        let done = Routed::Done { last_in: seq };
        match frame {
            Frame::Snapshot(mut snapshot) => match inner.mirror.apply_snapshot(&mut snapshot) {
                Ok(applied) => {
                    self.record_page(inner, &snapshot.url, &snapshot.title);
                    let text = if applied.changed { Frame::Snapshot(snapshot).encode_body() } else { body.to_owned() };
                    for slot in &mut inner.viewers {
                        slot.out.resync_with("snapshot", &text);
                        slot.has_base = true;
                    }
                    done
                }
                Err(err) => self.mirror_refused(inner, err, seq, false),
            },
            Frame::Mutations(mut batch) => {
                if !inner.mirror.has_page() || inner.mirror.is_stale() {
                    return done; // a snapshot was already asked for; deltas until then mean nothing
                }
                match inner.mirror.apply_mutations(&mut batch) {
                    Ok(applied) => {
                        if applied.changed {
                            inner.to_viewers("mut", &Frame::Mutations(batch).encode_body());
                        } else {
                            inner.to_viewers("mut", body);
                        }
                        done
                    }
                    Err(err) => self.mirror_refused(inner, err, seq, true),
                }
            }
            Frame::Input(input) => {
                if inner.mirror.apply_input(&input).is_ok() {
                    inner.to_viewers("input", body);
                }
                done
            }
            Frame::Scroll(scroll) => {
                if inner.mirror.apply_scroll(&scroll).is_ok() {
                    inner.to_viewers("scroll", body);
                }
                done
            }
            Frame::Focus(focus) => {
                if inner.mirror.apply_focus(&focus).is_ok() {
                    inner.to_viewers("focus", body);
                }
                done
            }
            Frame::Viewport(viewport) => {
                inner.mirror.set_viewport(viewport);
                inner.to_viewers("viewport", body);
                done
            }
            Frame::Pointer(_) => {
                inner.to_viewers("pointer", body);
                done
            }
            Frame::Click(_) => {
                inner.to_viewers("click", body);
                done
            }
            Frame::Navigation(nav) => {
                self.record_page(inner, &nav.url, &nav.title);
                inner.mirror.set_location(nav.url, nav.title);
                inner.to_all_viewers("nav", body);
                done
            }
            Frame::Leaving(leaving) => {
                inner.customer.leaving = Some(leaving.to);
                done
            }
            Frame::ModeAnswer(answer) => {
                match inner.life.answer(answer.approved) {
                    Answered::Granted => {
                        self.record_mode(inner, Role::Customer);
                        inner.announce_mode(Role::Customer);
                    }
                    Answered::Denied => {
                        inner.notify_viewers(&Notice { code: NoticeCode::ModeDenied, who: None, detail: None });
                    }
                    Answered::NothingPending => {}
                }
                done
            }
            Frame::ModeRevoke(_) => {
                self.revoke(inner, Role::Customer);
                done
            }
            Frame::ActionRefused(_) => {
                inner.to_all_viewers("action_refused", body);
                done
            }
            Frame::End(_) => Routed::End(EndReason::CustomerExit),
            other => Routed::Refused {
                code: ErrorCode::WrongRole,
                message: format!("the customer may not send {}", other.tag()),
                last_in: seq,
            },
        }
    }

    fn mirror_refused(&self, inner: &mut SessionInner, err: MirrorError, seq: u64, ask: bool) -> Routed {
        tracing::warn!(session = %self.id, error = %err, "mirror refused the customer's frame");
        let code = if err.is_limit() { ErrorCode::LimitExceeded } else { ErrorCode::MirrorRejected };
        if ask {
            self.ask_for_snapshot(inner, &err.to_string());
        }
        Routed::Refused { code, message: err.to_string(), last_in: seq }
    }

    fn record_mode(&self, inner: &SessionInner, by: Role) {
        self.deps.recorder.record(RecordEvent::ModeChanged {
            record: self.record,
            mode: inner.life.mode(),
            by,
            at: OffsetDateTime::now_utc(),
        });
    }

    fn revoke(&self, inner: &mut SessionInner, by: Role) {
        let was_pending = inner.life.request_pending();
        if inner.life.revoke() {
            self.record_mode(inner, by);
            inner.announce_mode(by);
        } else if was_pending {
            // The request was withdrawn: tell both sides the mode (still pointer) so a dialog closes.
            inner.announce_mode(by);
        }
    }

    fn route_viewer_frame(
        &self,
        inner: &mut SessionInner,
        key: SlotKey,
        who: Participant,
        frame: Frame,
        seq: u64,
    ) -> Routed {
        let done = Routed::Done { last_in: seq };
        let role = who.role;
        let others = |inner: &mut SessionInner, tag: &str, body: &str| {
            inner.to_customer(tag, body);
            for (index, slot) in inner.viewers.iter_mut().enumerate() {
                if SlotKey::Viewer(index as u32) != key {
                    slot.out.push(tag, body);
                }
            }
        };
        match frame {
            Frame::Pointer(mut pointer) => {
                pointer.by = Some(who);
                others(inner, "pointer", &Frame::Pointer(pointer).encode_body());
                done
            }
            Frame::Click(mut click) => {
                click.by = Some(who);
                others(inner, "click", &Frame::Click(click).encode_body());
                done
            }
            Frame::Highlight(mut highlight) => {
                highlight.by = Some(who);
                others(inner, "highlight", &Frame::Highlight(highlight).encode_body());
                done
            }
            Frame::ModeRequest(mut request) => match inner.life.request_write() {
                Ok(true) => {
                    request.by = Some(who);
                    inner.to_customer("mode_request", &Frame::ModeRequest(request).encode_body());
                    done
                }
                Ok(false) => done,
                Err(code) => Routed::Refused {
                    code,
                    message: match code {
                        ErrorCode::WriteModeDisabled => "write mode is disabled by policy".into(),
                        ErrorCode::ModeRequestPending => "a request is already waiting for the customer".into(),
                        _ => "write mode cannot be requested now".into(),
                    },
                    last_in: seq,
                },
            },
            Frame::ModeRevoke(_) => {
                self.revoke(inner, role);
                done
            }
            Frame::Action(action) => {
                if !inner.life.allows_actions() {
                    self.deps.metrics.action_dropped();
                    return Routed::Refused {
                        code: ErrorCode::NotInWriteMode,
                        message: "actions need write mode, which the customer has not granted".into(),
                        last_in: seq,
                    };
                }
                inner.to_customer("action", &Frame::Action(action).encode_body());
                done
            }
            Frame::End(_) if role == Role::Agent => Routed::End(EndReason::AgentExit),
            Frame::End(_) => {
                inner.notify_all(&Notice { code: NoticeCode::ObserverLeft, who: Some(who), detail: None });
                done
            }
            other => Routed::Refused {
                code: ErrorCode::WrongRole,
                message: format!("a viewer may not send {}", other.tag()),
                last_in: seq,
            },
        }
    }
}
