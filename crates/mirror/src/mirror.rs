//! The [`Mirror`] itself: what it holds, and the small accessors and setters around it.
//!
//! Applying frames lives in `apply.rs` (snapshots, mutation batches) and `live_state.rs`
//! (input, scroll, focus); turning the mirror back into a snapshot lives in `rebuild.rs`.

use crate::arena::{Arena, NONE};
use crate::error::MirrorError;
use crate::limits::MirrorLimits;
use cobrowse_protocol::{CompatMode, Focus, NodeId, Viewport};

/// The server's copy of one co-browse session's page.
///
/// Every frame the customer's browser sends is applied here, so that an agent who joins or
/// reconnects gets the current page at once ([`Mirror::snapshot`]), and so that nothing
/// executable reaches an agent's browser: snapshots and batches are sanitized in place, and the
/// server forwards the sanitized version.
///
/// States:
/// - no page: new or [cleared](Mirror::clear); mutations are refused with [`MirrorError::NoPage`].
/// - page: after a successful [`Mirror::apply_snapshot`].
/// - stale: a snapshot or batch was refused. The tree is dropped, [`Mirror::snapshot`] returns
///   `None`, and mutations are refused with [`MirrorError::Stale`] until the next snapshot.
#[derive(Debug)]
pub struct Mirror {
    pub(crate) limits: MirrorLimits,
    pub(crate) arena: Arena,
    /// Slot of the page's document, or [`NONE`] when there is no page.
    pub(crate) root: u32,
    pub(crate) stale: bool,
    pub(crate) url: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) charset: String,
    pub(crate) mode: CompatMode,
    pub(crate) viewport: Viewport,
    /// Focus as last reported; its node is `focus_slot`.
    pub(crate) focus: Option<Focus>,
    /// Slot of the focused node, or [`NONE`], so that freeing it clears the focus.
    pub(crate) focus_slot: u32,
    /// Counts scroll updates, so snapshots list scroll positions in the order they were set.
    pub(crate) scroll_seq: u64,
}

/// What applying a snapshot or a batch did beyond the obvious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// Sanitization altered the input (dropped attributes or ops, emptied script text, ...), so
    /// the server must re-encode the sanitized frame instead of forwarding the original text.
    pub changed: bool,
}

impl Mirror {
    /// An empty mirror that will hold pages within `limits`.
    pub fn new(limits: MirrorLimits) -> Self {
        Self {
            limits,
            arena: Arena::default(),
            root: NONE,
            stale: false,
            url: None,
            title: None,
            charset: String::new(),
            mode: CompatMode::default(),
            viewport: Viewport::default(),
            focus: None,
            focus_slot: NONE,
            scroll_seq: 0,
        }
    }

    /// The limits this mirror enforces.
    pub fn limits(&self) -> &MirrorLimits {
        &self.limits
    }

    /// True when there is a current, trustworthy page (a snapshot was applied and nothing was
    /// refused since).
    pub fn has_page(&self) -> bool {
        self.root != NONE && !self.stale
    }

    /// True after a refused snapshot or batch, until the next snapshot is applied.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// Nodes in the page, shadow roots and frame documents included.
    pub fn node_count(&self) -> usize {
        self.arena.len()
    }

    /// Estimated bytes the page retains: the length of every string plus a fixed cost per node
    /// and per attribute. This is what [`MirrorLimits::max_bytes`] is checked against.
    pub fn approx_bytes(&self) -> usize {
        self.arena.bytes()
    }

    /// Estimated heap the mirror holds in memory: what the server's memory figures subtract to
    /// give the cost of a session besides its page.
    pub fn heap_bytes(&self) -> usize {
        self.arena.heap_bytes()
    }

    /// The page's URL, from the last snapshot or `nav` frame.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The page's title, from the last snapshot or `nav` frame.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// Records the customer's viewport (from `viewport` frames).
    pub fn set_viewport(&mut self, viewport: Viewport) {
        self.viewport = viewport;
    }

    /// Records where the customer's page is (from `nav` frames: a history API move keeps the
    /// DOM; a full page load is followed by a new snapshot).
    pub fn set_location(&mut self, url: String, title: String) {
        self.url = Some(url);
        self.title = Some(title);
    }

    /// Forgets everything: page, location, viewport and staleness, and gives the memory back.
    pub fn clear(&mut self) {
        let limits = self.limits;
        *self = Mirror::new(limits);
    }

    /// The slot of node `id`, or [`MirrorError::UnknownNode`].
    pub(crate) fn lookup(&self, id: NodeId) -> Result<u32, MirrorError> {
        self.arena.find(id).ok_or(MirrorError::UnknownNode(id))
    }

    /// Refuses live-state frames when there is no trustworthy page.
    pub(crate) fn require_page(&self) -> Result<(), MirrorError> {
        if self.stale {
            Err(MirrorError::Stale)
        } else if self.root == NONE {
            Err(MirrorError::NoPage)
        } else {
            Ok(())
        }
    }

    /// Drops the tree and the state that points into it. With `release`, gives the memory back;
    /// without, keeps it for the next page.
    pub(crate) fn drop_tree(&mut self, release: bool) {
        self.arena.clear(release);
        self.root = NONE;
        self.focus = None;
        self.focus_slot = NONE;
        self.scroll_seq = 0;
    }

    /// Marks the mirror stale after a refused frame: the tree is dropped, since it no longer
    /// matches the page and may be half-applied, and its memory is given back (the frame may
    /// have been refused for its size).
    pub(crate) fn invalidate(&mut self) {
        self.drop_tree(true);
        self.stale = true;
    }

    /// Frees the node at `index` and its subtree, and the focus if it was inside.
    pub(crate) fn free_subtree(&mut self, index: u32) {
        let focus_slot = self.focus_slot;
        let mut lost_focus = false;
        self.arena.free_subtree(index, |freed| lost_focus |= freed == focus_slot);
        if lost_focus {
            self.focus = None;
            self.focus_slot = NONE;
        }
    }
}

impl Default for Mirror {
    /// A mirror with the default limits.
    fn default() -> Self {
        Mirror::new(MirrorLimits::default())
    }
}
