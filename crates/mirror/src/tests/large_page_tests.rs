//! A page of realistic size: 6,000 elements and 6,000 text nodes.

use super::*;

/// `sections` sections of `per_section` divs, each div holding a text node, each section
/// starting with a heading text. IDs are dense from 1.
pub(crate) fn large_page(sections: u32, per_section: u32) -> Snapshot {
    let mut next = 10;
    let mut id = || {
        next += 1;
        next
    };
    let body_children = (0..sections)
        .map(|s| {
            let section = id();
            let mut children = vec![Node::text(id(), &format!("Section {s}"))];
            children.extend((0..per_section).map(|d| {
                let div = id();
                let class = format!("row row-{}", d % 7);
                Node::element(div, "div", &[("class", &class)], vec![Node::text(id(), &format!("Item {s}.{d}"))])
            }));
            Node::element(section, "section", &[("id", &format!("s{s}"))], children)
        })
        .collect();
    snapshot_of(Node::document(
        1,
        vec![
            Node::doctype_html(2),
            Node::element(
                3,
                "html",
                &[],
                vec![Node::element(4, "head", &[], vec![]), Node::element(5, "body", &[], body_children)],
            ),
        ],
    ))
}

#[test]
fn a_twelve_thousand_node_page_round_trips() {
    let mut snapshot = large_page(100, 59);
    let elements = {
        let mut count = 0;
        snapshot.doc.walk(&mut |n| count += usize::from(n.kind == NodeKind::Element));
        count
    };
    assert_eq!(elements, 3 + 100 + 100 * 59);
    let total = snapshot.doc.count();
    assert!((12_000..12_100).contains(&total), "{total}");

    let original = snapshot.clone();
    let mut mirror = Mirror::default();
    assert!(!mirror.apply_snapshot(&mut snapshot).unwrap().changed);
    assert_eq!(snapshot, original);
    assert_eq!(mirror.node_count(), total);
    assert_eq!(mirror.snapshot(), Some(original));
    consistent(&mirror);
}

#[test]
fn a_typical_batch_on_a_large_page() {
    let mut mirror = Mirror::default();
    let mut snapshot = large_page(100, 59);
    mirror.apply_snapshot(&mut snapshot).unwrap();
    let first_section = snapshot.doc.children[1].children[1].children[0].id.0;
    let mut ops = Vec::new();
    for i in 0..5 {
        let id = 1_000_000 + i * 2;
        ops.push(add(first_section, None, Node::element(id, "li", &[], vec![Node::text(id + 1, "new")])));
        ops.push(attr(id, "class", Some("fresh")));
        ops.push(Op::Text { id: NodeId(id + 1), text: "newer".into() });
        ops.push(Op::Remove { id: NodeId(first_section + 2 + i * 2) });
    }
    assert_eq!(ops.len(), 20);
    let sent = ops.clone();
    assert_eq!(apply_ok(&mut mirror, ops), sent);
    assert_eq!(mirror.node_count(), snapshot.doc.count());
    let section = node(&mirror, first_section).unwrap();
    assert_eq!(section.children.len(), 1 + 59);
    assert_eq!(section.children.last().unwrap().text, None);
    assert_eq!(section.children.last().unwrap().attrs[0].value, "fresh");
    consistent(&mirror);
}
