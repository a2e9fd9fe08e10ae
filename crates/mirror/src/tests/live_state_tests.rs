use super::*;
use cobrowse_protocol::{Focus, Input, Scroll};

fn input(id: u32, value: &str) -> Input {
    Input { id: NodeId(id), state: FormState { value: Some(value.into()), ..Default::default() } }
}

fn scroll(id: u32, y: f64) -> Scroll {
    Scroll { id: NodeId(id), x: 0.0, y }
}

fn focus(id: u32) -> Focus {
    Focus { id: Some(NodeId(id)), start: Some(1), end: Some(2) }
}

#[test]
fn input_state_appears_in_the_snapshot() {
    let mut mirror = loaded();
    mirror.apply_input(&input(10, "hello")).unwrap();
    assert_eq!(node(&mirror, 10).unwrap().state, Some(input(10, "hello").state));
    let checked = Input { id: NodeId(10), state: FormState { checked: Some(true), ..Default::default() } };
    mirror.apply_input(&checked).unwrap();
    assert_eq!(node(&mirror, 10).unwrap().state, Some(checked.state), "the new state replaces the old");

    apply_ok(
        &mut mirror,
        vec![
            add(7, None, Node::element(20, "SELECT", &[], vec![])),
            add(7, None, Node::element(21, "textarea", &[], vec![])),
        ],
    );
    let select = Input { id: NodeId(20), state: FormState { selected: Some(vec![0, 2]), ..Default::default() } };
    mirror.apply_input(&select).unwrap();
    mirror.apply_input(&input(21, "long text")).unwrap();
    assert_eq!(node(&mirror, 20).unwrap().state, Some(select.state));
    assert_eq!(node(&mirror, 21).unwrap().state, Some(input(21, "long text").state));
    consistent(&mirror);
}

#[test]
fn scroll_positions_appear_in_the_order_last_set() {
    let mut mirror = loaded();
    mirror.apply_scroll(&scroll(1, 100.0)).unwrap();
    mirror.apply_scroll(&scroll(8, 5.0)).unwrap();
    mirror.apply_scroll(&scroll(1, 200.0)).unwrap();
    assert_eq!(mirror.snapshot().unwrap().scroll, vec![scroll(8, 5.0), scroll(1, 200.0)]);
}

#[test]
fn focus_appears_in_the_snapshot_and_can_be_cleared() {
    let mut mirror = loaded();
    mirror.apply_focus(&focus(10)).unwrap();
    assert_eq!(mirror.snapshot().unwrap().focus, Some(focus(10)));
    let nowhere = Focus { id: None, start: None, end: None };
    mirror.apply_focus(&nowhere).unwrap();
    assert_eq!(mirror.snapshot().unwrap().focus, Some(nowhere));
    consistent(&mirror);
}

#[test]
fn unknown_or_unfit_nodes_are_refused_without_going_stale() {
    let mut mirror = loaded();
    assert_eq!(mirror.apply_input(&input(99, "x")), Err(MirrorError::UnknownNode(NodeId(99))));
    assert_eq!(mirror.apply_scroll(&scroll(99, 1.0)), Err(MirrorError::UnknownNode(NodeId(99))));
    assert_eq!(mirror.apply_focus(&focus(99)), Err(MirrorError::UnknownNode(NodeId(99))));
    assert_eq!(
        mirror.apply_input(&input(8, "x")),
        Err(MirrorError::WrongKind { id: NodeId(8), expected: "a form field (input, textarea or select)" })
    );
    assert_eq!(
        mirror.apply_scroll(&scroll(9, 1.0)),
        Err(MirrorError::WrongKind { id: NodeId(9), expected: "an element or document" })
    );
    assert_eq!(mirror.apply_focus(&focus(9)), Err(MirrorError::WrongKind { id: NodeId(9), expected: "an element" }));
    assert!(!mirror.is_stale());
    assert_eq!(mirror.snapshot(), Some(page()));
}

#[test]
fn removal_takes_state_scroll_and_focus_with_it() {
    let mut mirror = loaded();
    mirror.apply_input(&input(10, "secret-ish")).unwrap();
    mirror.apply_scroll(&scroll(10, 3.0)).unwrap();
    mirror.apply_scroll(&scroll(1, 9.0)).unwrap();
    mirror.apply_focus(&focus(10)).unwrap();
    apply_ok(&mut mirror, vec![Op::Remove { id: NodeId(7) }]);
    let snapshot = mirror.snapshot().unwrap();
    assert_eq!(snapshot.scroll, vec![scroll(1, 9.0)]);
    assert_eq!(snapshot.focus, None);

    // A new node with a freed ID starts clean.
    apply_ok(&mut mirror, vec![add(3, None, Node::element(10, "input", &[], vec![]))]);
    assert_eq!(node(&mirror, 10).unwrap().state, None);
    assert_eq!(mirror.snapshot().unwrap().scroll, vec![scroll(1, 9.0)]);
    consistent(&mirror);
}

#[test]
fn focus_elsewhere_survives_a_removal() {
    let mut mirror = loaded();
    mirror.apply_focus(&focus(10)).unwrap();
    apply_ok(&mut mirror, vec![Op::Remove { id: NodeId(12) }]);
    assert_eq!(mirror.snapshot().unwrap().focus, Some(focus(10)));
}

#[test]
fn replacing_a_frame_document_drops_its_scroll_and_focus() {
    let mut mirror = loaded();
    let doc = Node::document(20, vec![Node::element(21, "input", &[], vec![])]);
    apply_ok(&mut mirror, vec![Op::Frame { iframe: NodeId(11), document: Some(doc) }]);
    mirror.apply_scroll(&scroll(20, 4.0)).unwrap();
    mirror.apply_focus(&focus(21)).unwrap();
    apply_ok(&mut mirror, vec![Op::Frame { iframe: NodeId(11), document: None }]);
    let snapshot = mirror.snapshot().unwrap();
    assert!(snapshot.scroll.is_empty());
    assert_eq!(snapshot.focus, None);
}

#[test]
fn snapshot_scroll_and_focus_round_trip() {
    let mut snapshot = page();
    snapshot.scroll = vec![scroll(8, 1.0), scroll(1, 2.0)];
    snapshot.focus = Some(focus(10));
    let original = snapshot.clone();
    let mut mirror = Mirror::default();
    assert!(!mirror.apply_snapshot(&mut snapshot).unwrap().changed);
    assert_eq!(snapshot, original);
    assert_eq!(mirror.snapshot(), Some(original));
    consistent(&mirror);
}

#[test]
fn snapshot_scroll_and_focus_on_missing_nodes_are_removed() {
    let mut snapshot = page();
    snapshot.scroll = vec![scroll(99, 1.0), scroll(8, 1.0), scroll(9, 1.0), scroll(1, 2.0), scroll(8, 3.0)];
    snapshot.focus = Some(focus(99));
    let mut mirror = Mirror::default();
    assert!(mirror.apply_snapshot(&mut snapshot).unwrap().changed);
    assert_eq!(snapshot.scroll, vec![scroll(1, 2.0), scroll(8, 3.0)]);
    assert_eq!(snapshot.focus, None);
    assert_eq!(mirror.snapshot(), Some(snapshot.clone()));

    snapshot.focus = Some(focus(9));
    assert!(mirror.apply_snapshot(&mut snapshot).unwrap().changed);
    assert_eq!(snapshot.focus, None);
}

#[test]
fn snapshot_form_state_only_stays_on_form_fields() {
    let mut snapshot = page();
    let div = &mut snapshot.doc.children[1].children[1].children[0];
    div.state = Some(FormState { value: Some("x".into()), ..Default::default() });
    let mut mirror = Mirror::default();
    assert!(mirror.apply_snapshot(&mut snapshot).unwrap().changed);
    assert_eq!(snapshot, page());
    assert_eq!(mirror.snapshot(), Some(page()));
}
