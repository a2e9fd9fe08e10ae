//! Turning the mirror back into a [`Snapshot`]: what an agent gets on join, on reconnect, and
//! when its connection fell behind.
//!
//! One walk over the sibling links, no hashing; each child list is allocated at its final size.
//! Recursion depth is bounded by [`MirrorLimits::max_depth`](crate::MirrorLimits::max_depth).

use crate::arena::NONE;
use crate::mirror::Mirror;
use cobrowse_protocol::{Node, Scroll, Snapshot};

impl Mirror {
    /// The whole current page as a snapshot: location, charset, mode, viewport, the document
    /// with form state, marks, shadow roots, frame documents and stylesheets, the scroll
    /// positions (in the order they were last set) and focus.
    ///
    /// `None` when there is no page or the mirror is stale.
    pub fn snapshot(&self) -> Option<Snapshot> {
        if !self.has_page() {
            return None;
        }
        let mut scroll = Vec::new();
        let doc = self.build(self.root, &mut scroll);
        scroll.sort_by_key(|(seq, _)| *seq);
        Some(Snapshot {
            url: self.url.clone().unwrap_or_default(),
            title: self.title.clone().unwrap_or_default(),
            charset: self.charset.clone(),
            mode: self.mode,
            vp: self.viewport,
            doc,
            scroll: scroll.into_iter().map(|(_, s)| s).collect(),
            focus: self.focus,
        })
    }

    /// The node at `index` with its subtree, collecting scroll positions on the way.
    fn build(&self, index: u32, scroll: &mut Vec<(u64, Scroll)>) -> Node {
        let slot = self.arena.slot(index);
        if let Some(pos) = slot.scroll {
            scroll.push((pos.seq, Scroll { id: slot.id, x: pos.x, y: pos.y }));
        }
        let mut children = Vec::with_capacity(slot.child_count as usize);
        children.extend(self.arena.children(index).map(|child| self.build(child, scroll)));
        let sub =
            |link: u32, scroll: &mut Vec<(u64, Scroll)>| (link != NONE).then(|| Box::new(self.build(link, scroll)));
        let mut node = Node {
            id: slot.id,
            kind: slot.kind,
            name: slot.name.clone(),
            attrs: slot.attrs.clone(),
            children,
            text: slot.text.clone(),
            mask: slot.mask,
            restricted: slot.restricted,
            shadow: sub(slot.shadow, scroll),
            frame_doc: sub(slot.frame_doc, scroll),
            ..Node::bare(slot.id.0, slot.kind)
        };
        if let Some(extra) = slot.extra.as_deref() {
            node.namespace.clone_from(&extra.namespace);
            node.doctype_ids.clone_from(&extra.doctype_ids);
            node.state.clone_from(&extra.state);
            node.sheet_text.clone_from(&extra.sheet_text);
            node.adopted.clone_from(&extra.adopted);
        }
        node
    }
}
