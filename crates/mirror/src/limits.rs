//! How large one session's page may grow, and how its size is estimated.
//!
//! A customer's browser is not trusted to stay reasonable: a runaway script can add nodes
//! forever, and a hostile client can try to exhaust the server's memory. Every session's mirror
//! therefore has a ceiling on its node count, its depth and its retained bytes.

use crate::arena::{Extra, Slot};
use cobrowse_protocol::node::FormState;
use cobrowse_protocol::Attr;
use std::mem::size_of;

/// Ceilings for one session's page: main document, shadow roots and frame documents together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MirrorLimits {
    /// Most nodes the page may hold (documents, shadow roots and every node under them).
    pub max_nodes: usize,
    /// Deepest nesting, counting the document as level 1 and shadow roots and frame documents
    /// as one level below their host. It also bounds the mirror's recursion, so keep it in the
    /// hundreds.
    pub max_depth: usize,
    /// Most bytes the mirror may retain, as estimated by [`Mirror::approx_bytes`](crate::Mirror::approx_bytes).
    pub max_bytes: usize,
}

impl Default for MirrorLimits {
    /// 200,000 nodes, depth 500, 64 MiB: far above real pages (a heavy web app has a few tens of
    /// thousands of nodes), low enough that a few hundred sessions fit in a server's memory.
    fn default() -> Self {
        Self { max_nodes: 200_000, max_depth: 500, max_bytes: 64 * 1024 * 1024 }
    }
}

/// Fixed cost of one node: its arena slot and its entry in the ID map.
const NODE_OVERHEAD: usize = size_of::<Slot>() + 2 * size_of::<u32>() + 8;

/// The estimated bytes one node retains: fixed overhead plus the length of every string it holds.
///
/// An estimate, not a measurement (allocator slack and capacities are ignored); it is computed
/// from the node's content alone, so adding and later freeing a node always balance.
pub(crate) fn slot_bytes(slot: &Slot) -> usize {
    NODE_OVERHEAD
        + opt(&slot.name)
        + opt(&slot.text)
        + slot.attrs.iter().map(attr_bytes).sum::<usize>()
        + slot.extra.as_deref().map_or(0, extra_bytes)
}

fn opt(s: &Option<String>) -> usize {
    s.as_ref().map_or(0, String::len)
}

fn extra_bytes(extra: &Extra) -> usize {
    size_of::<Extra>()
        + opt(&extra.namespace)
        + opt(&extra.sheet_text)
        + extra.sheet_rules.as_ref().map_or(0, |r| r.ranges.len() * size_of::<std::ops::Range<usize>>())
        + extra.doctype_ids.as_ref().map_or(0, |[a, b]| a.len() + b.len())
        + extra.state.as_ref().map_or(0, state_bytes)
        + extra.adopted.as_ref().map_or(0, |sheets| sheets.iter().map(|s| size_of::<String>() + s.len()).sum())
}

fn attr_bytes(attr: &Attr) -> usize {
    size_of::<Attr>() + attr.name.len() + attr.value.len()
}

fn state_bytes(state: &FormState) -> usize {
    size_of::<FormState>()
        + state.value.as_ref().map_or(0, String::len)
        + state.selected.as_ref().map_or(0, |s| s.len() * size_of::<u32>())
}
