//! Why the mirror refused a frame.

use cobrowse_protocol::NodeId;

/// Why the mirror refused a snapshot, a mutation batch, or a live-state frame.
///
/// Messages are plain and safe to log; they name node IDs but never page content. After any error
/// from [`Mirror::apply_mutations`](crate::Mirror::apply_mutations) or
/// [`Mirror::apply_snapshot`](crate::Mirror::apply_snapshot) the mirror is stale and the server
/// should ask the customer's browser for a fresh snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MirrorError {
    /// No snapshot has been applied yet (or the mirror was cleared).
    #[error("there is no page yet: a snapshot must come first")]
    NoPage,
    /// An earlier batch was refused, so the mirror no longer matches the page.
    #[error("the mirror is out of date after a refused change and needs a fresh snapshot")]
    Stale,
    /// A frame referenced a node the mirror does not have.
    #[error("unknown node {0}")]
    UnknownNode(NodeId),
    /// A snapshot or an added subtree used a node ID that is already in use.
    #[error("node {0} already exists")]
    DuplicateNode(NodeId),
    /// An `add` asked to insert before a node that is not a child of the given parent.
    #[error("node {before} is not a child of node {parent}")]
    NotAChild {
        /// The parent named by the op.
        parent: NodeId,
        /// The `before` node named by the op.
        before: NodeId,
    },
    /// An operation does not fit the kind of node it targets (children under a text node, text
    /// on an element, a frame document on something that is not an iframe, ...).
    #[error("node {id} is not {expected}")]
    WrongKind {
        /// The node.
        id: NodeId,
        /// What it should have been, in words.
        expected: &'static str,
    },
    /// A shadow root was attached to a host that already has one.
    #[error("node {0} already has a shadow root")]
    ShadowExists(NodeId),
    /// A node lacks something it must have (an element without a name).
    #[error("node {id} is malformed: {reason}")]
    Malformed {
        /// The node.
        id: NodeId,
        /// What is wrong, in words.
        reason: &'static str,
    },
    /// A `cssins` or `cssdel` op named a rule index the sheet does not have (`rules` of them),
    /// or inserted after an unterminated last rule.
    #[error("node {id} has {rules} CSS rules: rule index {index} cannot be edited")]
    RuleIndex {
        /// The stylesheet's owner element.
        id: NodeId,
        /// The index the op named.
        index: u32,
        /// How many top-level rules the sheet has.
        rules: usize,
    },
    /// The page would exceed one of the [`MirrorLimits`](crate::MirrorLimits).
    #[error("the page exceeds the {what} limit of {limit}")]
    LimitExceeded {
        /// Which limit: `"nodes"`, `"depth"` or `"bytes"`.
        what: &'static str,
        /// Its configured value.
        limit: usize,
    },
}

impl MirrorError {
    /// True for [`MirrorError::LimitExceeded`]: the page is too large rather than inconsistent,
    /// so asking for a fresh snapshot will likely fail the same way.
    pub fn is_limit(&self) -> bool {
        matches!(self, MirrorError::LimitExceeded { .. })
    }
}
