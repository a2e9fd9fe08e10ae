use super::*;
use cobrowse_protocol::Input;

fn limited(max_nodes: usize, max_depth: usize, max_bytes: usize) -> Mirror {
    Mirror::new(MirrorLimits { max_nodes, max_depth, max_bytes })
}

/// A chain of `depth` nested elements under a document (the document is level 1).
fn nested(depth: u32) -> Node {
    let mut node = Node::element(depth, "div", &[], vec![]);
    for id in (2..depth).rev() {
        node = Node::element(id, "div", &[], vec![node]);
    }
    Node::document(1, vec![node])
}

#[test]
fn defaults() {
    let limits = MirrorLimits::default();
    assert_eq!((limits.max_nodes, limits.max_depth, limits.max_bytes), (200_000, 500, 64 << 20));
}

#[test]
fn a_snapshot_over_the_node_limit_is_refused() {
    let mut mirror = limited(12, 500, usize::MAX);
    let error = mirror.apply_snapshot(&mut page()).unwrap_err();
    assert_eq!(error, MirrorError::LimitExceeded { what: "nodes", limit: 12 });
    assert!(error.is_limit());
    assert!(mirror.is_stale() && !mirror.has_page());
    assert_eq!(mirror.node_count(), 0);
    consistent(&mirror);

    let mut mirror = limited(13, 500, usize::MAX);
    mirror.apply_snapshot(&mut page()).unwrap();
    assert_eq!(mirror.node_count(), 13);
}

#[test]
fn ops_over_the_node_limit_are_refused() {
    let mut mirror = limited(15, 500, usize::MAX);
    mirror.apply_snapshot(&mut page()).unwrap();
    apply_ok(&mut mirror, vec![add(7, None, Node::text(20, "a")), add(7, None, Node::text(21, "b"))]);
    let error = MirrorError::LimitExceeded { what: "nodes", limit: 15 };
    apply_err(&mut mirror, vec![add(7, None, Node::text(22, "c"))], error.clone());

    // Shadow roots and frame documents count.
    let mut mirror = limited(15, 500, usize::MAX);
    mirror.apply_snapshot(&mut page()).unwrap();
    apply_ok(&mut mirror, vec![Op::Frame { iframe: NodeId(11), document: Some(Node::document(20, vec![])) }]);
    apply_ok(&mut mirror, vec![Op::Shadow { host: NodeId(8), root: shadow_root(21, vec![]) }]);
    assert_eq!(mirror.node_count(), 15);
    apply_err(&mut mirror, vec![add(21, None, Node::text(22, "c"))], error);

    // Removal makes room.
    let mut mirror = limited(14, 500, usize::MAX);
    mirror.apply_snapshot(&mut page()).unwrap();
    apply_ok(
        &mut mirror,
        vec![Op::Remove { id: NodeId(12) }, add(7, None, Node::element(20, "p", &[], vec![Node::text(21, "x")]))],
    );
}

#[test]
fn depth_is_limited_on_both_paths() {
    let mut mirror = limited(1000, 10, usize::MAX);
    mirror.apply_snapshot(&mut snapshot_of(nested(10))).unwrap();
    let error = MirrorError::LimitExceeded { what: "depth", limit: 10 };
    apply_err(&mut mirror, vec![add(10, None, Node::text(20, "x"))], error.clone());
    assert_eq!(mirror.apply_snapshot(&mut snapshot_of(nested(11))), Err(error.clone()));
    assert!(mirror.is_stale());

    // A shadow root is a level below its host.
    mirror.apply_snapshot(&mut snapshot_of(nested(9))).unwrap();
    apply_ok(&mut mirror, vec![Op::Shadow { host: NodeId(9), root: shadow_root(20, vec![]) }]);
    apply_err(&mut mirror, vec![add(20, None, Node::text(21, "x"))], error);
}

#[test]
fn bytes_are_limited_on_both_paths() {
    let mut mirror = Mirror::default();
    mirror.apply_snapshot(&mut page()).unwrap();
    let page_bytes = mirror.approx_bytes();
    assert!(page_bytes > 13 * 100, "each node costs its slot: {page_bytes}");

    let mut mirror = limited(1000, 500, page_bytes - 1);
    let error = MirrorError::LimitExceeded { what: "bytes", limit: page_bytes - 1 };
    assert_eq!(mirror.apply_snapshot(&mut page()), Err(error));

    let limit = page_bytes + 200;
    let error = MirrorError::LimitExceeded { what: "bytes", limit };
    let big = "x".repeat(300);
    for op in [
        attr(8, "title", Some(&big)),
        Op::Text { id: NodeId(9), text: big.clone() },
        Op::Css { id: NodeId(8), text: Some(big.clone()) },
        Op::Adopt { id: NodeId(1), sheets: vec![big.clone()] },
        add(7, None, Node::text(20, &big)),
    ] {
        let mut mirror = limited(1000, 500, limit);
        mirror.apply_snapshot(&mut page()).unwrap();
        apply_ok(&mut mirror, vec![attr(8, "title", Some(&"y".repeat(50)))]);
        apply_err(&mut mirror, vec![op], error.clone());
    }
}

#[test]
fn input_over_the_byte_limit_is_refused_without_going_stale() {
    let mut mirror = Mirror::default();
    mirror.apply_snapshot(&mut page()).unwrap();
    let limit = mirror.approx_bytes() + 100;
    let mut mirror = limited(1000, 500, limit);
    mirror.apply_snapshot(&mut page()).unwrap();
    let huge = Input { id: NodeId(10), state: FormState { value: Some("x".repeat(500)), ..Default::default() } };
    assert_eq!(mirror.apply_input(&huge), Err(MirrorError::LimitExceeded { what: "bytes", limit }));
    assert!(!mirror.is_stale());
    assert_eq!(mirror.snapshot(), Some(page()), "the old state stays");
    consistent(&mirror);
}

#[test]
fn bytes_balance_after_add_edit_and_remove() {
    let mut mirror = loaded();
    let start = mirror.approx_bytes();
    apply_ok(
        &mut mirror,
        vec![
            add(7, None, Node::element(20, "section", &[("class", "big")], vec![Node::text(21, "some text")])),
            attr(20, "id", Some("s")),
            Op::Text { id: NodeId(21), text: "other".into() },
        ],
    );
    let grown = mirror.approx_bytes();
    assert!(grown > start);
    apply_ok(&mut mirror, vec![attr(20, "id", Some("a-much-longer-id"))]);
    assert_eq!(mirror.approx_bytes(), grown + "a-much-longer-id".len() - 1);
    apply_ok(&mut mirror, vec![Op::Remove { id: NodeId(20) }]);
    assert_eq!(mirror.approx_bytes(), start);
}

#[test]
fn the_heap_estimate_covers_live_nodes_and_freed_slots() {
    let mut mirror = Mirror::new(MirrorLimits::default());
    assert_eq!(mirror.heap_bytes(), 0, "an empty mirror holds nothing");
    mirror.apply_snapshot(&mut page()).unwrap();
    let slots = mirror.node_count() * std::mem::size_of::<crate::arena::Slot>();
    assert!(mirror.approx_bytes() > slots, "the estimate counts each node's slot");
    assert_eq!(mirror.heap_bytes(), mirror.approx_bytes(), "nothing freed yet");
    mirror.clear();
    assert_eq!(mirror.heap_bytes(), 0, "a cleared mirror starts afresh");
}
