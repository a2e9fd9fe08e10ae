//! Tests of the whole mirror through its public API, with a look at its internals after each
//! step ([`consistent`]).
//!
//! - `apply_tests`: each apply path and each refusal, staleness and recovery.
//! - `css_rule_tests`: `cssins` and `cssdel` rule edits of a stylesheet's effective CSS.
//! - `live_state_tests`: input, scroll and focus, and their fate when nodes go.
//! - `sanitize_tests`: each sanitization rule, on the snapshot path and the op path.
//! - `limits_tests`: node, depth and byte ceilings.
//! - `model_tests`: proptest against a naive reference model.
//! - `large_page_tests`: a 12,000-node page.

mod apply_tests;
mod css_rule_tests;
mod large_page_tests;
mod limits_tests;
mod live_state_tests;
mod model_tests;
mod sanitize_tests;

use crate::{Applied, Mirror, MirrorError, MirrorLimits};
use cobrowse_protocol::node::FormState;
use cobrowse_protocol::{Mutations, Node, NodeId, NodeKind, Op, Snapshot, Viewport};

/// Checks the arena's links, counts and byte estimate, and that focus points at a live node.
pub(crate) fn consistent(mirror: &Mirror) {
    mirror.arena.assert_consistent(mirror.root);
    if let Some(id) = mirror.focus.and_then(|f| f.id) {
        assert!(mirror.has_page());
        assert_eq!(mirror.arena.find(id), Some(mirror.focus_slot));
    }
}

/// A snapshot of `doc` with default everything else.
pub(crate) fn snapshot_of(doc: Node) -> Snapshot {
    Snapshot {
        url: "https://shop.example/cart".into(),
        title: "Cart".into(),
        charset: "UTF-8".into(),
        mode: Default::default(),
        vp: Viewport::default(),
        doc,
        scroll: Vec::new(),
        focus: None,
    }
}

/// A form field with live state.
pub(crate) fn field(id: u32, value: &str) -> Node {
    Node {
        state: Some(FormState { value: Some(value.into()), ..Default::default() }),
        ..Node::element(id, "input", &[("type", "text")], vec![])
    }
}

/// A small page:
///
/// ```text
/// 1 document
///   2 doctype
///   3 html
///     4 head
///       5 title > 6 "Cart"
///     7 body
///       8 div.a > 9 "hello"
///       10 input (value "x")
///       11 iframe
///       12 p > 13 comment
/// ```
pub(crate) fn page() -> Snapshot {
    snapshot_of(Node::document(
        1,
        vec![
            Node::doctype_html(2),
            Node::element(
                3,
                "html",
                &[("lang", "en")],
                vec![
                    Node::element(4, "head", &[], vec![Node::element(5, "title", &[], vec![Node::text(6, "Cart")])]),
                    Node::element(
                        7,
                        "body",
                        &[],
                        vec![
                            Node::element(8, "div", &[("class", "a")], vec![Node::text(9, "hello")]),
                            field(10, "x"),
                            Node::element(11, "iframe", &[("title", "frame")], vec![]),
                            Node::element(12, "p", &[], vec![Node::comment(13, "note")]),
                        ],
                    ),
                ],
            ),
        ],
    ))
}

/// A mirror holding [`page`].
pub(crate) fn loaded() -> Mirror {
    let mut mirror = Mirror::new(MirrorLimits::default());
    let applied = mirror.apply_snapshot(&mut page()).expect("the test page applies");
    assert!(!applied.changed);
    consistent(&mirror);
    mirror
}

/// Applies `ops` as one batch; returns the outcome and the batch as sanitized.
pub(crate) fn apply(mirror: &mut Mirror, ops: Vec<Op>) -> (Result<Applied, MirrorError>, Vec<Op>) {
    let mut batch = Mutations { ops };
    let result = mirror.apply_mutations(&mut batch);
    consistent(mirror);
    (result, batch.ops)
}

/// Applies `ops`, expecting success; returns the batch as sanitized.
pub(crate) fn apply_ok(mirror: &mut Mirror, ops: Vec<Op>) -> Vec<Op> {
    let (result, ops) = apply(mirror, ops);
    result.expect("batch applies");
    ops
}

/// Applies `ops`, expecting `error`, and checks that the mirror went stale.
pub(crate) fn apply_err(mirror: &mut Mirror, ops: Vec<Op>, error: MirrorError) {
    let (result, _) = apply(mirror, ops);
    assert_eq!(result, Err(error));
    assert!(mirror.is_stale());
    assert!(!mirror.has_page());
    assert_eq!(mirror.snapshot(), None);
}

/// The node `id` in the mirror's current snapshot.
pub(crate) fn node(mirror: &Mirror, id: u32) -> Option<Node> {
    fn find(node: &Node, id: NodeId) -> Option<&Node> {
        if node.id == id {
            return Some(node);
        }
        node.children
            .iter()
            .chain(node.shadow.as_deref())
            .chain(node.frame_doc.as_deref())
            .find_map(|child| find(child, id))
    }
    let snapshot = mirror.snapshot()?;
    find(&snapshot.doc, NodeId(id)).cloned()
}

/// Children IDs of node `id` in the mirror's current snapshot.
pub(crate) fn child_ids(mirror: &Mirror, id: u32) -> Vec<u32> {
    node(mirror, id).map(|n| n.children.iter().map(|c| c.id.0).collect()).unwrap_or_default()
}

/// Shorthand for an `add` op.
pub(crate) fn add(parent: u32, before: Option<u32>, node: Node) -> Op {
    Op::Add { parent: NodeId(parent), before: before.map(NodeId), node }
}

/// Shorthand for an `attr` op.
pub(crate) fn attr(id: u32, name: &str, value: Option<&str>) -> Op {
    Op::Attr { id: NodeId(id), name: name.into(), value: value.map(Into::into) }
}

/// A shadow root with children.
pub(crate) fn shadow_root(id: u32, children: Vec<Node>) -> Node {
    Node { children, ..Node::bare(id, NodeKind::ShadowRoot) }
}
