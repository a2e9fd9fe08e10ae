use super::*;
use cobrowse_protocol::{CompatMode, MaskKind};

#[test]
fn a_snapshot_round_trips() {
    let mut mirror = Mirror::new(MirrorLimits::default());
    assert!(!mirror.has_page());
    assert_eq!(mirror.snapshot(), None);
    let mut snapshot = page();
    snapshot.mode = CompatMode::Quirks;
    snapshot.charset = "windows-1252".into();
    snapshot.vp = Viewport { w: 390, h: 844, dpr: 3.0 };
    let original = snapshot.clone();
    assert_eq!(mirror.apply_snapshot(&mut snapshot), Ok(Applied { changed: false }));
    assert_eq!(snapshot, original);
    assert!(mirror.has_page());
    assert_eq!(mirror.snapshot(), Some(original));
    assert_eq!(mirror.node_count(), 13);
    assert_eq!(mirror.url(), Some("https://shop.example/cart"));
    assert_eq!(mirror.title(), Some("Cart"));
}

#[test]
fn every_field_of_a_node_survives() {
    let mut doc = page().doc;
    doc.adopted = Some(vec!["body{color:red}".into()]);
    let mut styled = Node::element(20, "svg", &[("viewBox", "0 0 1 1")], vec![]);
    styled.namespace = Some("http://www.w3.org/2000/svg".into());
    styled.mask = Some(MaskKind::Image);
    styled.restricted = true;
    let mut style = Node::element(21, "style", &[], vec![Node::text(22, "a{}")]);
    style.sheet_text = Some("a{color:blue}".into());
    let mut doctype = Node::doctype_html(2);
    doctype.doctype_ids = Some(["-//W3C//DTD HTML 4.01//EN".into(), "http://www.w3.org/TR/html4/strict.dtd".into()]);
    doc.children[0] = doctype;
    let body = &mut doc.children[1].children[1];
    body.children.push(styled);
    body.children.push(style);
    let mut snapshot = snapshot_of(doc);
    let original = snapshot.clone();
    let mut mirror = Mirror::default();
    assert!(!mirror.apply_snapshot(&mut snapshot).unwrap().changed);
    assert_eq!(mirror.snapshot(), Some(original));
    consistent(&mirror);
}

#[test]
fn add_appends_and_inserts_before() {
    let mut mirror = loaded();
    let ops = vec![
        add(7, None, Node::element(20, "footer", &[], vec![Node::text(21, "bye")])),
        add(7, Some(8), Node::element(22, "header", &[], vec![])),
        add(7, Some(10), Node::text(23, " ")),
        add(12, Some(13), Node::text(24, "before the comment")),
    ];
    let sent = ops.clone();
    assert_eq!(apply_ok(&mut mirror, ops), sent);
    assert_eq!(child_ids(&mirror, 7), [22, 8, 23, 10, 11, 12, 20]);
    assert_eq!(child_ids(&mirror, 12), [24, 13]);
    assert_eq!(child_ids(&mirror, 20), [21]);
    assert_eq!(mirror.node_count(), 18);
}

#[test]
fn add_stores_a_subtree_with_shadow_root_and_frame_document() {
    let mut mirror = loaded();
    let mut host = Node::element(20, "my-widget", &[], vec![Node::text(21, "light")]);
    host.shadow = Some(Box::new(shadow_root(22, vec![Node::element(23, "slot", &[], vec![])])));
    let mut iframe = Node::element(24, "iframe", &[], vec![]);
    iframe.frame_doc = Some(Box::new(Node::document(25, vec![Node::element(26, "html", &[], vec![])])));
    let sent = vec![add(7, None, host.clone()), add(7, None, iframe.clone())];
    assert_eq!(apply_ok(&mut mirror, sent.clone()), sent);
    assert_eq!(node(&mirror, 20), Some(host));
    assert_eq!(node(&mirror, 24), Some(iframe));
    assert_eq!(mirror.node_count(), 13 + 7);
}

#[test]
fn remove_frees_the_subtree_and_its_ids() {
    let mut mirror = loaded();
    let bytes_before = mirror.approx_bytes();
    apply_ok(&mut mirror, vec![add(7, None, Node::element(20, "section", &[], vec![Node::text(21, "x")]))]);
    assert!(mirror.approx_bytes() > bytes_before);
    apply_ok(&mut mirror, vec![Op::Remove { id: NodeId(20) }]);
    assert_eq!(mirror.approx_bytes(), bytes_before);
    assert_eq!(mirror.node_count(), 13);
    apply_err(&mut mirror.clone_for_test(), vec![attr(21, "class", Some("a"))], MirrorError::UnknownNode(NodeId(21)));

    // Removing body frees 8..=13 as well; every one of those IDs may come back.
    apply_ok(&mut mirror, vec![Op::Remove { id: NodeId(7) }]);
    assert_eq!(mirror.node_count(), 6);
    assert_eq!(child_ids(&mirror, 3), [4]);
    let reborn = Node::element(
        9,
        "body",
        &[],
        vec![Node::text(7, "seven"), Node::element(13, "b", &[], vec![Node::comment(21, "c")])],
    );
    apply_ok(&mut mirror, vec![add(3, None, reborn.clone())]);
    assert_eq!(node(&mirror, 9), Some(reborn));
}

#[test]
fn attributes_are_set_replaced_and_removed() {
    let mut mirror = loaded();
    apply_ok(
        &mut mirror,
        vec![attr(8, "id", Some("main")), attr(8, "class", Some("b")), attr(3, "lang", None), attr(3, "dir", None)],
    );
    let div = node(&mirror, 8).unwrap();
    assert_eq!(div.attrs, vec![cobrowse_protocol::Attr::new("class", "b"), cobrowse_protocol::Attr::new("id", "main")]);
    assert!(node(&mirror, 3).unwrap().attrs.is_empty());
}

#[test]
fn text_css_adopt_and_mark_ops() {
    let mut mirror = loaded();
    let ops = vec![
        Op::Text { id: NodeId(9), text: "bye".into() },
        Op::Text { id: NodeId(13), text: "comment".into() },
        Op::Css { id: NodeId(8), text: Some("p{}".into()) },
        Op::Adopt { id: NodeId(1), sheets: vec!["a{}".into(), "b{}".into()] },
        Op::Mark { id: NodeId(10), mask: Some(MaskKind::Value), restricted: true },
    ];
    assert!(!apply(&mut mirror, ops).0.unwrap().changed);
    assert_eq!(node(&mirror, 9).unwrap().text.as_deref(), Some("bye"));
    assert_eq!(node(&mirror, 13).unwrap().text.as_deref(), Some("comment"));
    assert_eq!(node(&mirror, 8).unwrap().sheet_text.as_deref(), Some("p{}"));
    assert_eq!(node(&mirror, 1).unwrap().adopted, Some(vec!["a{}".into(), "b{}".into()]));
    let input = node(&mirror, 10).unwrap();
    assert_eq!((input.mask, input.restricted), (Some(MaskKind::Value), true));

    apply_ok(
        &mut mirror,
        vec![Op::Css { id: NodeId(8), text: None }, Op::Mark { id: NodeId(10), mask: None, restricted: false }],
    );
    assert_eq!(node(&mirror, 8).unwrap().sheet_text, None);
    let input = node(&mirror, 10).unwrap();
    assert_eq!((input.mask, input.restricted), (None, false));
}

#[test]
fn shadow_op_attaches_once() {
    let mut mirror = loaded();
    let root = shadow_root(20, vec![Node::element(21, "b", &[], vec![])]);
    apply_ok(&mut mirror, vec![Op::Shadow { host: NodeId(8), root: root.clone() }]);
    assert_eq!(node(&mirror, 8).unwrap().shadow.as_deref(), Some(&root));
    apply_ok(&mut mirror, vec![Op::Adopt { id: NodeId(20), sheets: vec!["b{}".into()] }]);
    apply_ok(&mut mirror, vec![add(20, Some(21), Node::text(22, "t"))]);
    assert_eq!(child_ids(&mirror, 20), [22, 21]);

    let again = Op::Shadow { host: NodeId(8), root: shadow_root(30, vec![]) };
    apply_err(&mut mirror, vec![again], MirrorError::ShadowExists(NodeId(8)));
}

#[test]
fn shadow_op_refuses_what_cannot_host_or_be_a_root() {
    let on_text = Op::Shadow { host: NodeId(9), root: shadow_root(30, vec![]) };
    apply_err(
        &mut loaded(),
        vec![on_text],
        MirrorError::WrongKind { id: NodeId(9), expected: "an element (only elements host shadow roots)" },
    );
    let not_a_root = Op::Shadow { host: NodeId(8), root: Node::element(30, "div", &[], vec![]) };
    apply_err(&mut loaded(), vec![not_a_root], MirrorError::WrongKind { id: NodeId(30), expected: "a shadow root" });
    let unknown = Op::Shadow { host: NodeId(99), root: shadow_root(30, vec![]) };
    apply_err(&mut loaded(), vec![unknown], MirrorError::UnknownNode(NodeId(99)));
}

#[test]
fn frame_op_sets_replaces_and_clears_the_document() {
    let mut mirror = loaded();
    let first = Node::document(20, vec![Node::element(21, "html", &[], vec![])]);
    apply_ok(&mut mirror, vec![Op::Frame { iframe: NodeId(11), document: Some(first.clone()) }]);
    assert_eq!(node(&mirror, 11).unwrap().frame_doc.as_deref(), Some(&first));
    assert_eq!(mirror.node_count(), 15);

    // The replacement may reuse the IDs of the document it replaces.
    let second = Node::document(21, vec![Node::element(20, "html", &[], vec![Node::text(22, "2")])]);
    apply_ok(&mut mirror, vec![Op::Frame { iframe: NodeId(11), document: Some(second.clone()) }]);
    assert_eq!(node(&mirror, 11).unwrap().frame_doc.as_deref(), Some(&second));
    assert_eq!(mirror.node_count(), 16);

    apply_ok(&mut mirror, vec![Op::Frame { iframe: NodeId(11), document: None }]);
    assert_eq!(node(&mirror, 11).unwrap().frame_doc, None);
    assert_eq!(mirror.node_count(), 13);
}

#[test]
fn frame_op_refuses_non_iframes_and_non_documents() {
    let on_div = Op::Frame { iframe: NodeId(8), document: Some(Node::document(20, vec![])) };
    apply_err(&mut loaded(), vec![on_div], MirrorError::WrongKind { id: NodeId(8), expected: "an iframe" });
    let clear_div = Op::Frame { iframe: NodeId(8), document: None };
    apply_err(&mut loaded(), vec![clear_div], MirrorError::WrongKind { id: NodeId(8), expected: "an iframe" });
    let not_a_doc = Op::Frame { iframe: NodeId(11), document: Some(Node::element(20, "html", &[], vec![])) };
    apply_err(&mut loaded(), vec![not_a_doc], MirrorError::WrongKind { id: NodeId(20), expected: "a document" });
    let mut in_snapshot = page();
    in_snapshot.doc.children[1].children[1].children[0].frame_doc = Some(Box::new(Node::document(20, vec![])));
    let mut mirror = Mirror::default();
    assert_eq!(
        mirror.apply_snapshot(&mut in_snapshot),
        Err(MirrorError::WrongKind { id: NodeId(8), expected: "an iframe" })
    );
}

#[test]
fn ops_on_unknown_nodes_are_refused() {
    let unknown = MirrorError::UnknownNode(NodeId(99));
    for op in [
        add(99, None, Node::text(20, "x")),
        add(7, Some(99), Node::text(20, "x")),
        Op::Remove { id: NodeId(99) },
        attr(99, "class", Some("a")),
        Op::Text { id: NodeId(99), text: "x".into() },
        Op::Css { id: NodeId(99), text: None },
        Op::Adopt { id: NodeId(99), sheets: vec![] },
        Op::Mark { id: NodeId(99), mask: None, restricted: false },
        Op::Frame { iframe: NodeId(99), document: None },
    ] {
        apply_err(&mut loaded(), vec![op], unknown.clone());
    }
}

#[test]
fn duplicate_ids_are_refused() {
    apply_err(&mut loaded(), vec![add(7, None, Node::text(9, "x"))], MirrorError::DuplicateNode(NodeId(9)));
    let twice_inside = Node::element(20, "div", &[], vec![Node::text(21, "a"), Node::text(21, "b")]);
    apply_err(&mut loaded(), vec![add(7, None, twice_inside)], MirrorError::DuplicateNode(NodeId(21)));
    let root_clash = Op::Shadow { host: NodeId(8), root: shadow_root(20, vec![Node::text(1, "x")]) };
    apply_err(&mut loaded(), vec![root_clash], MirrorError::DuplicateNode(NodeId(1)));
    // Added earlier in the same batch.
    apply_err(
        &mut loaded(),
        vec![add(7, None, Node::text(20, "a")), add(8, None, Node::text(20, "b"))],
        MirrorError::DuplicateNode(NodeId(20)),
    );
}

#[test]
fn before_must_be_a_child_of_parent() {
    let not_a_child = |parent, before| MirrorError::NotAChild { parent: NodeId(parent), before: NodeId(before) };
    // A grandchild, the parent itself, a child of another node.
    apply_err(&mut loaded(), vec![add(7, Some(9), Node::text(20, "x"))], not_a_child(7, 9));
    apply_err(&mut loaded(), vec![add(7, Some(7), Node::text(20, "x"))], not_a_child(7, 7));
    apply_err(&mut loaded(), vec![add(12, Some(8), Node::text(20, "x"))], not_a_child(12, 8));
    // A shadow root hangs from its host but is not its child.
    let mut mirror = loaded();
    apply_ok(&mut mirror, vec![Op::Shadow { host: NodeId(8), root: shadow_root(20, vec![]) }]);
    apply_err(&mut mirror, vec![add(8, Some(20), Node::text(21, "x"))], not_a_child(8, 20));
}

#[test]
fn children_only_go_under_documents_elements_and_shadow_roots() {
    let container = |id| MirrorError::WrongKind { id: NodeId(id), expected: "a document, element or shadow root" };
    apply_err(&mut loaded(), vec![add(9, None, Node::text(20, "x"))], container(9));
    apply_err(&mut loaded(), vec![add(13, None, Node::text(20, "x"))], container(13));
    apply_err(&mut loaded(), vec![add(2, None, Node::text(20, "x"))], container(2));
    let mut text_with_child = Node::text(20, "x");
    text_with_child.children.push(Node::text(21, "y"));
    apply_err(&mut loaded(), vec![add(8, None, text_with_child.clone())], container(20));
    let mut snapshot = page();
    snapshot.doc.children.push(Node::comment(20, "x"));
    snapshot.doc.children[2].children.push(Node::text(21, "y"));
    let mut mirror = Mirror::default();
    assert_eq!(mirror.apply_snapshot(&mut snapshot), Err(container(20)));
}

#[test]
fn node_kinds_must_fit_their_place() {
    let child_kind = |id| MirrorError::WrongKind { id: NodeId(id), expected: "an element, text, comment or doctype" };
    apply_err(&mut loaded(), vec![add(7, None, Node::document(20, vec![]))], child_kind(20));
    apply_err(&mut loaded(), vec![add(7, None, shadow_root(20, vec![]))], child_kind(20));
    apply_err(
        &mut loaded(),
        vec![add(7, None, Node::doctype_html(20))],
        MirrorError::WrongKind { id: NodeId(7), expected: "a document (the only parent of a doctype)" },
    );
    apply_ok(&mut loaded(), vec![Op::Remove { id: NodeId(2) }, add(1, Some(3), Node::doctype_html(20))]);
    apply_err(
        &mut loaded(),
        vec![add(7, None, Node::bare(20, NodeKind::Element))],
        MirrorError::Malformed { id: NodeId(20), reason: "an element has no name" },
    );
    let mut mirror = Mirror::default();
    assert_eq!(
        mirror.apply_snapshot(&mut snapshot_of(Node::element(1, "html", &[], vec![]))),
        Err(MirrorError::WrongKind { id: NodeId(1), expected: "a document" })
    );
}

#[test]
fn ops_must_fit_their_target() {
    let cases = [
        (Op::Text { id: NodeId(8), text: "x".into() }, 8, "a text or comment node"),
        (Op::Text { id: NodeId(2), text: "x".into() }, 2, "a text or comment node"),
        (attr(9, "class", Some("a")), 9, "an element"),
        (attr(1, "class", Some("a")), 1, "an element"),
        (Op::Css { id: NodeId(9), text: Some("a{}".into()) }, 9, "an element"),
        (Op::Adopt { id: NodeId(8), sheets: vec![] }, 8, "a document or shadow root"),
        (Op::Remove { id: NodeId(1) }, 1, "a child node (documents and shadow roots stay)"),
    ];
    for (op, id, expected) in cases {
        apply_err(&mut loaded(), vec![op], MirrorError::WrongKind { id: NodeId(id), expected });
    }
    // Shadow roots and frame documents go with their host, not on their own.
    let mut mirror = loaded();
    apply_ok(&mut mirror, vec![Op::Shadow { host: NodeId(8), root: shadow_root(20, vec![]) }]);
    apply_err(
        &mut mirror,
        vec![Op::Remove { id: NodeId(20) }],
        MirrorError::WrongKind { id: NodeId(20), expected: "a child node (documents and shadow roots stay)" },
    );
}

#[test]
fn a_refused_batch_leaves_the_mirror_stale_until_a_snapshot() {
    let mut mirror = loaded();
    apply_err(
        &mut mirror,
        vec![add(7, None, Node::text(20, "applied first")), Op::Remove { id: NodeId(99) }],
        MirrorError::UnknownNode(NodeId(99)),
    );
    assert_eq!(mirror.node_count(), 0);
    let (result, _) = apply(&mut mirror, vec![]);
    assert_eq!(result, Err(MirrorError::Stale));
    let (result, _) = apply(&mut mirror, vec![attr(8, "class", Some("b"))]);
    assert_eq!(result, Err(MirrorError::Stale));
    assert_eq!(
        mirror.apply_scroll(&cobrowse_protocol::Scroll { id: NodeId(1), x: 0.0, y: 1.0 }),
        Err(MirrorError::Stale)
    );
    // The location survives; the page does not.
    assert_eq!(mirror.url(), Some("https://shop.example/cart"));

    assert!(!mirror.apply_snapshot(&mut page()).unwrap().changed);
    assert!(!mirror.is_stale());
    assert!(mirror.has_page());
    assert_eq!(mirror.snapshot(), Some(page()));
    apply_ok(&mut mirror, vec![attr(8, "class", Some("b"))]);
}

#[test]
fn a_refused_snapshot_leaves_no_page() {
    let mut mirror = loaded();
    let mut snapshot = page();
    snapshot.doc.children[1].children[0].children.push(Node::text(9, "dup of 9"));
    assert_eq!(mirror.apply_snapshot(&mut snapshot), Err(MirrorError::DuplicateNode(NodeId(9))));
    assert!(mirror.is_stale());
    assert!(!mirror.has_page());
    assert_eq!(mirror.snapshot(), None);
    assert_eq!(mirror.node_count(), 0);
    assert_eq!(mirror.approx_bytes(), 0);
    assert_eq!(apply(&mut mirror, vec![]).0, Err(MirrorError::Stale));
    consistent(&mirror);
    mirror.apply_snapshot(&mut page()).unwrap();
    assert!(mirror.has_page());
}

#[test]
fn without_a_page_everything_asks_for_one() {
    let mut mirror = Mirror::default();
    assert_eq!(apply(&mut mirror, vec![]).0, Err(MirrorError::NoPage));
    assert!(!mirror.is_stale(), "no page is not stale: nothing was refused");
    assert_eq!(
        mirror.apply_focus(&cobrowse_protocol::Focus { id: None, start: None, end: None }),
        Err(MirrorError::NoPage)
    );
    assert_eq!(mirror.url(), None);
}

#[test]
fn a_new_snapshot_replaces_the_page() {
    let mut mirror = loaded();
    apply_ok(&mut mirror, vec![add(7, None, Node::text(20, "x"))]);
    let mut next = snapshot_of(Node::document(100, vec![Node::element(101, "html", &[], vec![])]));
    next.url = "https://shop.example/pay".into();
    mirror.apply_snapshot(&mut next).unwrap();
    assert_eq!(mirror.snapshot(), Some(next));
    assert_eq!(mirror.node_count(), 2);
    apply_err(&mut mirror, vec![Op::Remove { id: NodeId(20) }], MirrorError::UnknownNode(NodeId(20)));
}

#[test]
fn location_viewport_and_clear() {
    let mut mirror = loaded();
    mirror.set_location("https://shop.example/cart#step2".into(), "Step 2".into());
    mirror.set_viewport(Viewport { w: 800, h: 600, dpr: 2.0 });
    let snapshot = mirror.snapshot().unwrap();
    assert_eq!((snapshot.url.as_str(), snapshot.title.as_str()), ("https://shop.example/cart#step2", "Step 2"));
    assert_eq!(snapshot.vp, Viewport { w: 800, h: 600, dpr: 2.0 });
    assert_eq!(mirror.title(), Some("Step 2"));

    mirror.clear();
    assert!(!mirror.has_page() && !mirror.is_stale());
    assert_eq!((mirror.url(), mirror.title(), mirror.node_count(), mirror.approx_bytes()), (None, None, 0, 0));
    assert_eq!(mirror.snapshot(), None);
}

#[test]
fn errors_read_plainly() {
    assert_eq!(MirrorError::UnknownNode(NodeId(5)).to_string(), "unknown node #5");
    assert_eq!(
        MirrorError::NotAChild { parent: NodeId(1), before: NodeId(2) }.to_string(),
        "node #2 is not a child of node #1"
    );
    assert_eq!(
        MirrorError::LimitExceeded { what: "nodes", limit: 10 }.to_string(),
        "the page exceeds the nodes limit of 10"
    );
    assert!(MirrorError::LimitExceeded { what: "depth", limit: 1 }.is_limit());
    assert!(!MirrorError::Stale.is_limit());
}

impl Mirror {
    /// A second mirror holding the same page, to try something destructive on.
    fn clone_for_test(&self) -> Mirror {
        let mut copy = Mirror::new(self.limits);
        if let Some(mut snapshot) = self.snapshot() {
            copy.apply_snapshot(&mut snapshot).unwrap();
        }
        copy
    }
}
