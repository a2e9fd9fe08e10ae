//! The tree's storage: a vector of slots with a map from the SDK's node IDs to slot indices.
//!
//! Nodes link to each other by slot index (parent, first and last child, previous and next
//! sibling, shadow root, frame document), so inserting before a sibling and removing a node are
//! constant time, and walking the tree to rebuild a snapshot needs no hashing at all. The ID map
//! is only consulted where a frame names a node. Freed slots are reused.
//!
//! Indices come only from the map and from the links, never from the wire.

use crate::error::MirrorError;
use crate::limits::slot_bytes;
use crate::sanitize::Tag;
use cobrowse_protocol::node::FormState;
use cobrowse_protocol::{Attr, MaskKind, Node, NodeId, NodeKind};
use std::collections::HashMap;

/// "No slot": the end of a sibling chain, a missing parent, shadow root or frame document.
pub(crate) const NONE: u32 = u32::MAX;

/// How a node hangs from its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attach {
    /// The page's document: no parent.
    Root,
    /// In its parent's child list.
    Child,
    /// The shadow root of its parent (the host).
    Shadow,
    /// The content document of its parent (an iframe).
    FrameDoc,
}

/// A scroll offset, with the order in which it was last set (snapshots list scroll positions
/// in that order).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ScrollPos {
    pub x: f64,
    pub y: f64,
    pub seq: u64,
}

/// The parts of a node that most nodes lack: a namespace (SVG, MathML), doctype identifiers,
/// form state, stylesheet text, adopted stylesheets.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Extra {
    pub namespace: Option<String>,
    pub doctype_ids: Option<[String; 2]>,
    pub state: Option<FormState>,
    pub sheet_text: Option<String>,
    /// Where the rules of `sheet_text` are, found at the first rule edit and kept in step by
    /// every later one; dropped whenever the text is replaced.
    pub sheet_rules: Option<SheetRules>,
    pub adopted: Option<Vec<String>>,
}

/// The top-level rules of a sheet's text (see `css_rules`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SheetRules {
    pub ranges: Vec<std::ops::Range<usize>>,
    /// Whether the text's last rule is complete, so a rule may follow it.
    pub complete: bool,
}

impl Extra {
    /// A copy of `node`'s rare fields, or `None` when it has none.
    fn of(node: &Node) -> Option<Box<Extra>> {
        let rare = node.namespace.is_some()
            || node.doctype_ids.is_some()
            || node.state.is_some()
            || node.sheet_text.is_some()
            || node.adopted.is_some();
        rare.then(|| {
            Box::new(Extra {
                namespace: node.namespace.clone(),
                doctype_ids: node.doctype_ids.clone(),
                state: node.state.clone(),
                sheet_text: node.sheet_text.clone(),
                sheet_rules: None,
                adopted: node.adopted.clone(),
            })
        })
    }
}

/// One node: its content as the protocol describes it, plus its links.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub id: NodeId,
    pub kind: NodeKind,
    pub name: Option<String>,
    pub attrs: Vec<Attr>,
    pub text: Option<String>,
    pub mask: Option<MaskKind>,
    pub restricted: bool,
    /// The fields most nodes never have, boxed so that every slot stays small.
    pub extra: Option<Box<Extra>>,
    /// What the sanitizer needs to know about this element (fixed: names never change).
    pub tag: Tag,
    /// A text node whose parent is a `script`: its data is always empty.
    pub script_text: bool,
    pub scroll: Option<ScrollPos>,
    /// Level in the page: the document is 1.
    pub depth: u32,
    pub attach: Attach,
    pub parent: u32,
    pub prev: u32,
    pub next: u32,
    pub first_child: u32,
    pub last_child: u32,
    pub child_count: u32,
    pub shadow: u32,
    pub frame_doc: u32,
    /// This node's share of [`Arena::bytes`], kept so that freeing it balances exactly.
    pub bytes: usize,
}

impl Slot {
    /// A detached slot holding a copy of `node`'s own content (not its subtree).
    pub(crate) fn from_node(node: &Node, tag: Tag, script_text: bool, depth: u32) -> Slot {
        Slot {
            id: node.id,
            kind: node.kind,
            name: node.name.clone(),
            attrs: node.attrs.clone(),
            text: node.text.clone(),
            mask: node.mask,
            restricted: node.restricted,
            extra: Extra::of(node),
            tag,
            script_text,
            scroll: None,
            depth,
            attach: Attach::Root,
            parent: NONE,
            prev: NONE,
            next: NONE,
            first_child: NONE,
            last_child: NONE,
            child_count: 0,
            shadow: NONE,
            frame_doc: NONE,
            bytes: 0,
        }
    }

    /// The slot's rare fields, created empty on first use.
    pub(crate) fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Default::default)
    }

    /// An empty slot, left behind when a node is freed so its strings are released.
    fn vacant() -> Slot {
        Slot::from_node(&Node::bare(0, NodeKind::Comment), Tag::NotElement, false, 0)
    }
}

/// All nodes of one page, with their count and estimated size.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    slots: Vec<Slot>,
    index: HashMap<NodeId, u32>,
    free: Vec<u32>,
    bytes: usize,
}

impl Arena {
    /// Number of live nodes.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Estimated retained bytes of the live nodes.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Estimated heap the arena holds in memory: the live nodes' estimate (which counts each
    /// node's slot and map entry) plus freed slots kept for reuse. Capacity reserved but never
    /// written is left out: the kernel has not backed it with memory yet.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.bytes
            + (self.slots.len() - self.index.len()) * std::mem::size_of::<Slot>()
            + self.free.len() * std::mem::size_of::<u32>()
    }

    /// The slot of node `id`, if it is live.
    pub(crate) fn find(&self, id: NodeId) -> Option<u32> {
        self.index.get(&id).copied()
    }

    /// The slot at `index`, which must come from [`Arena::find`] or a link.
    pub(crate) fn slot(&self, index: u32) -> &Slot {
        &self.slots[index as usize]
    }

    /// Changes the content of a slot through `edit`, keeping the byte estimate in step.
    pub(crate) fn edit<R>(&mut self, index: u32, edit: impl FnOnce(&mut Slot) -> R) -> R {
        let slot = &mut self.slots[index as usize];
        let result = edit(slot);
        let bytes = slot_bytes(slot);
        self.bytes = self.bytes - slot.bytes + bytes;
        slot.bytes = bytes;
        result
    }

    /// Sets the scroll offset of a slot (not counted in the byte estimate).
    pub(crate) fn set_scroll(&mut self, index: u32, scroll: Option<ScrollPos>) {
        self.slots[index as usize].scroll = scroll;
    }

    /// Stores a new, detached node. Fails when its ID is already live.
    pub(crate) fn alloc(&mut self, mut slot: Slot) -> Result<u32, MirrorError> {
        let id = slot.id;
        if self.index.contains_key(&id) {
            return Err(MirrorError::DuplicateNode(id));
        }
        slot.bytes = slot_bytes(&slot);
        self.bytes += slot.bytes;
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index as usize] = slot;
                index
            }
            None => {
                let index = u32::try_from(self.slots.len())
                    .ok()
                    .filter(|i| *i != NONE)
                    .ok_or(MirrorError::LimitExceeded { what: "nodes", limit: NONE as usize })?;
                self.slots.push(slot);
                index
            }
        };
        self.index.insert(id, index);
        Ok(index)
    }

    /// Hangs the detached node `child` from `parent`: as a child before `before` (or last when
    /// `before` is [`NONE`]), as its shadow root, or as its frame document.
    pub(crate) fn attach(&mut self, child: u32, parent: u32, how: Attach, before: u32) {
        {
            let slot = &mut self.slots[child as usize];
            slot.parent = parent;
            slot.attach = how;
        }
        match how {
            Attach::Root => {}
            Attach::Shadow => self.slots[parent as usize].shadow = child,
            Attach::FrameDoc => self.slots[parent as usize].frame_doc = child,
            Attach::Child => {
                let prev = if before == NONE { self.slots[parent as usize].last_child } else { self.slot(before).prev };
                {
                    let slot = &mut self.slots[child as usize];
                    slot.prev = prev;
                    slot.next = before;
                }
                if prev == NONE {
                    self.slots[parent as usize].first_child = child;
                } else {
                    self.slots[prev as usize].next = child;
                }
                if before == NONE {
                    self.slots[parent as usize].last_child = child;
                } else {
                    self.slots[before as usize].prev = child;
                }
                self.slots[parent as usize].child_count += 1;
            }
        }
    }

    /// Unhooks a node from its parent, leaving its subtree intact.
    fn detach(&mut self, index: u32) {
        let Slot { parent, attach, prev, next, .. } = *self.slot(index);
        match attach {
            Attach::Root => {}
            Attach::Shadow => self.slots[parent as usize].shadow = NONE,
            Attach::FrameDoc => self.slots[parent as usize].frame_doc = NONE,
            Attach::Child => {
                if prev == NONE {
                    self.slots[parent as usize].first_child = next;
                } else {
                    self.slots[prev as usize].next = next;
                }
                if next == NONE {
                    self.slots[parent as usize].last_child = prev;
                } else {
                    self.slots[next as usize].prev = prev;
                }
                self.slots[parent as usize].child_count -= 1;
            }
        }
        let slot = &mut self.slots[index as usize];
        slot.parent = NONE;
        slot.prev = NONE;
        slot.next = NONE;
    }

    /// Detaches the node at `index` and frees it with everything below it (children, shadow
    /// root, frame document), calling `on_free` with each freed slot index. Their IDs become
    /// free for reuse.
    pub(crate) fn free_subtree(&mut self, index: u32, mut on_free: impl FnMut(u32)) {
        self.detach(index);
        let mut stack = vec![index];
        while let Some(current) = stack.pop() {
            let slot = std::mem::replace(&mut self.slots[current as usize], Slot::vacant());
            let mut child = slot.first_child;
            while child != NONE {
                stack.push(child);
                child = self.slot(child).next;
            }
            stack.extend([slot.shadow, slot.frame_doc].into_iter().filter(|i| *i != NONE));
            self.index.remove(&slot.id);
            self.bytes -= slot.bytes;
            self.free.push(current);
            on_free(current);
        }
    }

    /// Children of the node at `index`, in order.
    pub(crate) fn children(&self, index: u32) -> Children<'_> {
        Children { arena: self, next: self.slot(index).first_child }
    }

    /// Drops every node. With `release`, gives the memory back too; without, keeps the
    /// capacity for the next page.
    pub(crate) fn clear(&mut self, release: bool) {
        if release {
            *self = Arena::default();
        } else {
            self.slots.clear();
            self.index.clear();
            self.free.clear();
            self.bytes = 0;
        }
    }

    /// Gives back the capacity an earlier, much larger page left behind.
    pub(crate) fn trim(&mut self) {
        let keep = self.slots.len() + self.slots.len() / 2 + 64;
        self.slots.shrink_to(keep);
        self.index.shrink_to(keep);
        self.free.shrink_to(keep);
    }

    /// Checks every link and count against the others; for tests.
    #[cfg(test)]
    pub(crate) fn assert_consistent(&self, root: u32) {
        let mut seen = 0;
        let mut bytes = 0;
        if root != NONE {
            let mut stack = vec![root];
            assert_eq!(self.slot(root).attach, Attach::Root);
            while let Some(i) = stack.pop() {
                let slot = self.slot(i);
                seen += 1;
                bytes += slot.bytes;
                assert_eq!(slot.bytes, slot_bytes(slot));
                assert_eq!(self.index.get(&slot.id), Some(&i));
                let mut count = 0;
                let mut prev = NONE;
                for c in self.children(i) {
                    let child = self.slot(c);
                    assert_eq!((child.parent, child.attach, child.prev), (i, Attach::Child, prev));
                    assert_eq!(child.depth, slot.depth + 1);
                    prev = c;
                    count += 1;
                    stack.push(c);
                }
                assert_eq!(slot.last_child, prev);
                assert_eq!(slot.child_count, count);
                for (link, how) in [(slot.shadow, Attach::Shadow), (slot.frame_doc, Attach::FrameDoc)] {
                    if link != NONE {
                        assert_eq!((self.slot(link).parent, self.slot(link).attach), (i, how));
                        stack.push(link);
                    }
                }
            }
        }
        assert_eq!(seen, self.len());
        assert_eq!(bytes, self.bytes);
        assert_eq!(self.slots.len(), self.len() + self.free.len());
    }
}

/// Iterator over a node's children, following sibling links.
pub(crate) struct Children<'a> {
    arena: &'a Arena,
    next: u32,
}

impl Iterator for Children<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.next == NONE {
            return None;
        }
        let current = self.next;
        self.next = self.arena.slot(current).next;
        Some(current)
    }
}
