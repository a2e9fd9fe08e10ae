//! Applying `input`, `scroll` and `focus` frames: state that is not in the DOM tree itself but
//! belongs in the snapshot an agent gets.
//!
//! These frames can race with a batch that removed their node, so an unknown node is refused
//! without making the mirror stale.

use crate::arena::{ScrollPos, NONE};
use crate::error::MirrorError;
use crate::mirror::Mirror;
use crate::sanitize::Tag;
use cobrowse_protocol::{Focus, Input, NodeId, NodeKind, Scroll};

impl Mirror {
    /// Records the live state of a form field (`input`, `textarea` or `select`), replacing what
    /// it had. Refused, without making the mirror stale, when the node is unknown, is not a form
    /// field, or the new state would exceed the byte limit.
    pub fn apply_input(&mut self, input: &Input) -> Result<(), MirrorError> {
        self.require_page()?;
        let index = self.lookup(input.id)?;
        if self.arena.slot(index).tag != Tag::FormField {
            return Err(MirrorError::WrongKind { id: input.id, expected: "a form field (input, textarea or select)" });
        }
        let old = self.arena.edit(index, |slot| slot.extra_mut().state.replace(input.state.clone()));
        if self.arena.bytes() > self.limits.max_bytes {
            self.arena.edit(index, |slot| slot.extra_mut().state = old);
            return Err(MirrorError::LimitExceeded { what: "bytes", limit: self.limits.max_bytes });
        }
        Ok(())
    }

    /// Records the scroll offset of an element or a document. Refused, without making the
    /// mirror stale, when the node is unknown or is neither.
    pub fn apply_scroll(&mut self, scroll: &Scroll) -> Result<(), MirrorError> {
        self.require_page()?;
        let index = self.lookup(scroll.id)?;
        if self.scrollable(scroll.id).is_none() {
            return Err(MirrorError::WrongKind { id: scroll.id, expected: "an element or document" });
        }
        self.arena.set_scroll(index, Some(ScrollPos { x: scroll.x, y: scroll.y, seq: self.scroll_seq }));
        self.scroll_seq += 1;
        Ok(())
    }

    /// Records where focus is (`id: None`: nowhere) and the caret or selection. Refused, without
    /// making the mirror stale, when the node is unknown or not an element.
    pub fn apply_focus(&mut self, focus: &Focus) -> Result<(), MirrorError> {
        self.require_page()?;
        let index = match focus.id {
            Some(id) => self.focusable(id)?,
            None => NONE,
        };
        self.focus = Some(*focus);
        self.focus_slot = index;
        Ok(())
    }

    /// The slot of `id` when it is a node that can scroll (an element or a document).
    pub(crate) fn scrollable(&self, id: NodeId) -> Option<u32> {
        let index = self.arena.find(id)?;
        matches!(self.arena.slot(index).kind, NodeKind::Element | NodeKind::Document).then_some(index)
    }

    /// The slot of `id` when it is a node that can take focus (an element).
    pub(crate) fn focusable(&self, id: NodeId) -> Result<u32, MirrorError> {
        let index = self.lookup(id)?;
        if self.arena.slot(index).kind != NodeKind::Element {
            return Err(MirrorError::WrongKind { id, expected: "an element" });
        }
        Ok(index)
    }
}
