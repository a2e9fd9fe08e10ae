//! Storing a serialized subtree: the one path by which nodes enter the mirror.
//!
//! Snapshots, `add`, `shadow` and `frame` ops all come through [`Mirror::insert`], which
//! sanitizes each node in place, checks that it may go where it is put, checks the limits as it
//! goes (so a hostile subtree is refused after at most a limit's worth of work and memory), and
//! links it into the arena. Recursion depth is bounded by [`MirrorLimits::max_depth`].
//!
//! [`MirrorLimits::max_depth`]: crate::MirrorLimits::max_depth

use crate::arena::{Attach, Slot, NONE};
use crate::error::MirrorError;
use crate::mirror::Mirror;
use crate::sanitize::{clean_node, Tag};
use cobrowse_protocol::{Node, NodeKind};

/// Where a new node goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    /// The parent, host or iframe slot ([`NONE`] for the page's document).
    pub parent: u32,
    /// How it hangs there.
    pub how: Attach,
    /// For a child: the sibling it goes before, or [`NONE`] for last.
    pub before: u32,
}

impl Place {
    /// The page's document.
    pub(crate) const ROOT: Place = Place { parent: NONE, how: Attach::Root, before: NONE };

    /// A child of `parent`, before `before` ([`NONE`]: last).
    pub(crate) fn child(parent: u32, before: u32) -> Place {
        Place { parent, how: Attach::Child, before }
    }

    /// The shadow root of `host`.
    pub(crate) fn shadow(host: u32) -> Place {
        Place { parent: host, how: Attach::Shadow, before: NONE }
    }

    /// The content document of `iframe`.
    pub(crate) fn frame_doc(iframe: u32) -> Place {
        Place { parent: iframe, how: Attach::FrameDoc, before: NONE }
    }
}

fn is_container(kind: NodeKind) -> bool {
    matches!(kind, NodeKind::Document | NodeKind::Element | NodeKind::ShadowRoot)
}

impl Mirror {
    /// Sanitizes `node` and its subtree in place and stores it at `place`. Sets `changed` when
    /// sanitization altered anything. Returns the new node's slot.
    ///
    /// On error the arena may hold part of the subtree; the caller must drop the tree
    /// ([`Mirror::invalidate`]).
    pub(crate) fn insert(&mut self, node: &mut Node, place: Place, changed: &mut bool) -> Result<u32, MirrorError> {
        let depth = if place.parent == NONE { 1 } else { self.arena.slot(place.parent).depth.saturating_add(1) };
        if depth as usize > self.limits.max_depth {
            return Err(MirrorError::LimitExceeded { what: "depth", limit: self.limits.max_depth });
        }
        if self.arena.len() >= self.limits.max_nodes {
            return Err(MirrorError::LimitExceeded { what: "nodes", limit: self.limits.max_nodes });
        }
        self.check_place(node, place)?;
        if node.kind == NodeKind::Element && node.name.is_none() {
            return Err(MirrorError::Malformed { id: node.id, reason: "an element has no name" });
        }
        let parent_is_script = place.how == Attach::Child && self.arena.slot(place.parent).tag == Tag::Script;
        let tag = Tag::of(node.kind, node.name.as_deref());
        *changed |= clean_node(node, tag, parent_is_script);

        let script_text = parent_is_script && node.kind == NodeKind::Text;
        let index = self.arena.alloc(Slot::from_node(node, tag, script_text, depth))?;
        if self.arena.bytes() > self.limits.max_bytes {
            return Err(MirrorError::LimitExceeded { what: "bytes", limit: self.limits.max_bytes });
        }
        self.arena.attach(index, place.parent, place.how, place.before);

        for child in &mut node.children {
            self.insert(child, Place::child(index, NONE), changed)?;
        }
        if let Some(root) = &mut node.shadow {
            self.insert(root, Place::shadow(index), changed)?;
        }
        if let Some(doc) = &mut node.frame_doc {
            self.insert(doc, Place::frame_doc(index), changed)?;
        }
        Ok(index)
    }

    /// Refuses a node that may not go where it is put.
    fn check_place(&self, node: &Node, place: Place) -> Result<(), MirrorError> {
        let wrong = |id, expected| Err(MirrorError::WrongKind { id, expected });
        match place.how {
            Attach::Root if node.kind != NodeKind::Document => wrong(node.id, "a document"),
            Attach::Root => Ok(()),
            Attach::Child => {
                let parent = self.arena.slot(place.parent);
                match node.kind {
                    _ if !is_container(parent.kind) => wrong(parent.id, "a document, element or shadow root"),
                    NodeKind::Element | NodeKind::Text | NodeKind::Comment => Ok(()),
                    NodeKind::Doctype if parent.kind == NodeKind::Document => Ok(()),
                    NodeKind::Doctype => wrong(parent.id, "a document (the only parent of a doctype)"),
                    NodeKind::Document | NodeKind::ShadowRoot => wrong(node.id, "an element, text, comment or doctype"),
                }
            }
            Attach::Shadow => {
                let host = self.arena.slot(place.parent);
                if host.kind != NodeKind::Element {
                    wrong(host.id, "an element (only elements host shadow roots)")
                } else if host.shadow != NONE {
                    Err(MirrorError::ShadowExists(host.id))
                } else if node.kind != NodeKind::ShadowRoot {
                    wrong(node.id, "a shadow root")
                } else {
                    Ok(())
                }
            }
            Attach::FrameDoc => {
                let iframe = self.arena.slot(place.parent);
                if iframe.tag != Tag::FrameOwner {
                    wrong(iframe.id, "an iframe")
                } else if node.kind != NodeKind::Document {
                    wrong(node.id, "a document")
                } else {
                    Ok(())
                }
            }
        }
    }
}
