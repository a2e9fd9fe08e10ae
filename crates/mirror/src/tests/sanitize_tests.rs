//! Each sanitization rule, through a snapshot and through ops.

use super::*;
use cobrowse_protocol::Attr;

const SVG: &str = "http://www.w3.org/2000/svg";

fn attrs(pairs: &[(&str, &str)]) -> Vec<Attr> {
    pairs.iter().map(|(n, v)| Attr::new(*n, *v)).collect()
}

/// Applies a page whose body holds `content`; returns the mirror, the sanitized snapshot and
/// whether it changed.
fn with_body(content: Vec<Node>) -> (Mirror, Snapshot, bool) {
    let doc = Node::document(1, vec![Node::element(2, "html", &[], vec![Node::element(3, "body", &[], content)])]);
    let mut snapshot = snapshot_of(doc);
    let mut mirror = Mirror::default();
    let changed = mirror.apply_snapshot(&mut snapshot).unwrap().changed;
    assert_eq!(mirror.snapshot().as_ref(), Some(&snapshot), "the mirror holds what the server forwards");
    consistent(&mirror);
    (mirror, snapshot, changed)
}

fn svg(id: u32, name: &str, pairs: &[(&str, &str)], children: Vec<Node>) -> Node {
    Node { namespace: Some(SVG.into()), ..Node::element(id, name, pairs, children) }
}

#[test]
fn scripts_keep_their_place_but_lose_attributes_and_text() {
    let (mirror, _, changed) = with_body(vec![
        Node::element(
            10,
            "script",
            &[("src", "https://evil/x.js"), ("type", "module")],
            vec![Node::text(11, "alert(1)")],
        ),
        Node::element(12, "SCRIPT", &[("nonce", "n")], vec![Node::text(13, "x()"), Node::comment(14, "kept")]),
        svg(15, "script", &[("href", "/x.js")], vec![Node::text(16, "y()")]),
        Node::element(17, "noscript", &[("class", "n")], vec![Node::text(18, "kept")]),
    ]);
    assert!(changed);
    assert_eq!(node(&mirror, 10).unwrap(), Node::element(10, "script", &[], vec![Node::text(11, "")]));
    assert_eq!(
        node(&mirror, 12).unwrap(),
        Node::element(12, "SCRIPT", &[], vec![Node::text(13, ""), Node::comment(14, "kept")])
    );
    assert_eq!(node(&mirror, 15).unwrap(), svg(15, "script", &[], vec![Node::text(16, "")]));
    assert_eq!(
        node(&mirror, 17).unwrap(),
        Node::element(17, "noscript", &[("class", "n")], vec![Node::text(18, "kept")])
    );
}

#[test]
fn script_ops_are_dropped_or_emptied() {
    let (mut mirror, _, _) = with_body(vec![
        Node::element(10, "script", &[], vec![Node::text(11, "")]),
        Node::element(12, "p", &[], vec![]),
    ]);
    let (result, sent) = apply(
        &mut mirror,
        vec![
            attr(10, "src", Some("https://evil/x.js")),
            attr(10, "type", None),
            Op::Text { id: NodeId(11), text: "alert(1)".into() },
            add(10, None, Node::text(20, "more()")),
            add(10, None, Node::element(21, "b", &[("class", "x")], vec![Node::text(22, "not script text")])),
            add(12, None, Node::element(23, "script", &[("src", "/a.js")], vec![Node::text(24, "z()")])),
            Op::Text { id: NodeId(22), text: "still fine".into() },
        ],
    );
    assert!(result.unwrap().changed);
    assert_eq!(
        sent,
        vec![
            add(10, None, Node::text(20, "")),
            add(10, None, Node::element(21, "b", &[("class", "x")], vec![Node::text(22, "not script text")])),
            add(12, None, Node::element(23, "script", &[], vec![Node::text(24, "")])),
            Op::Text { id: NodeId(22), text: "still fine".into() },
        ]
    );
    assert_eq!(child_ids(&mirror, 10), [11, 20, 21]);
    assert_eq!(node(&mirror, 11).unwrap().text.as_deref(), Some(""));
    // Later ops can still reference the script and its children.
    apply_ok(&mut mirror, vec![Op::Remove { id: NodeId(11) }, Op::Remove { id: NodeId(23) }]);
}

#[test]
fn event_handler_attributes_are_dropped() {
    let (mirror, _, changed) = with_body(vec![Node::element(
        10,
        "button",
        &[("onclick", "steal()"), ("ONMOUSEOVER", "x"), ("on", "y"), ("class", "b"), ("one", "z")],
        vec![],
    )]);
    assert!(changed);
    assert_eq!(node(&mirror, 10).unwrap().attrs, attrs(&[("class", "b")]));

    let (mut mirror, _, _) = with_body(vec![Node::element(10, "button", &[], vec![])]);
    let (result, sent) = apply(
        &mut mirror,
        vec![attr(10, "onclick", Some("steal()")), attr(10, "OnLoad", Some("x")), attr(10, "onclick", None)],
    );
    assert!(result.unwrap().changed);
    assert_eq!(sent, vec![attr(10, "onclick", None)], "removing a handler is harmless and kept");
    assert!(node(&mirror, 10).unwrap().attrs.is_empty());
}

#[test]
fn script_urls_are_dropped() {
    let (mirror, _, changed) = with_body(vec![
        Node::element(10, "a", &[("href", " JaVaScRiPt:alert(1)"), ("title", "t")], vec![]),
        Node::element(11, "form", &[("action", "vbscript:x")], vec![]),
        Node::element(12, "a", &[("href", "data:text/html,<script>alert(1)</script>")], vec![]),
        svg(13, "a", &[("xlink:href", "java\nscript:x")], vec![]),
        Node::element(14, "img", &[("src", "data:image/png;base64,AA"), ("alt", "javascript")], vec![]),
    ]);
    assert!(changed);
    assert_eq!(node(&mirror, 10).unwrap().attrs, attrs(&[("title", "t")]));
    assert!(node(&mirror, 11).unwrap().attrs.is_empty());
    assert!(node(&mirror, 12).unwrap().attrs.is_empty());
    assert!(node(&mirror, 13).unwrap().attrs.is_empty());
    assert_eq!(node(&mirror, 14).unwrap().attrs.len(), 2);

    let (mut mirror, _, _) = with_body(vec![Node::element(10, "a", &[("href", "/safe")], vec![])]);
    let (result, sent) = apply(&mut mirror, vec![attr(10, "href", Some("javascript:alert(1)"))]);
    assert!(result.unwrap().changed);
    assert_eq!(sent, vec![attr(10, "href", None)], "the old value must go from the viewer too");
    assert!(node(&mirror, 10).unwrap().attrs.is_empty());
}

#[test]
fn srcdoc_is_dropped_everywhere() {
    let (mirror, _, changed) = with_body(vec![
        Node::element(10, "iframe", &[("srcdoc", "<script>x</script>"), ("name", "f")], vec![]),
        Node::element(11, "div", &[("SRCDOC", "x")], vec![]),
    ]);
    assert!(changed);
    assert_eq!(node(&mirror, 10).unwrap().attrs, attrs(&[("name", "f")]));
    assert!(node(&mirror, 11).unwrap().attrs.is_empty());

    let (mut mirror, _, _) = with_body(vec![Node::element(10, "iframe", &[], vec![])]);
    let (result, sent) = apply(&mut mirror, vec![attr(10, "srcdoc", Some("<b>"))]);
    assert!(result.unwrap().changed);
    assert!(sent.is_empty());
}

#[test]
fn embedded_browsing_contexts_never_load() {
    let (mirror, _, changed) = with_body(vec![
        Node::element(10, "iframe", &[("src", "https://a/"), ("width", "10")], vec![]),
        Node::element(11, "FRAME", &[("src", "https://a/")], vec![]),
        Node::element(12, "embed", &[("src", "x.swf")], vec![]),
        Node::element(13, "object", &[("data", "x.pdf"), ("type", "application/pdf")], vec![]),
        Node::element(14, "img", &[("src", "/logo.png")], vec![]),
        Node::element(15, "div", &[("data", "kept")], vec![]),
    ]);
    assert!(changed);
    assert_eq!(node(&mirror, 10).unwrap().attrs, attrs(&[("width", "10")]));
    assert!(node(&mirror, 11).unwrap().attrs.is_empty());
    assert!(node(&mirror, 12).unwrap().attrs.is_empty());
    assert_eq!(node(&mirror, 13).unwrap().attrs, attrs(&[("type", "application/pdf")]));
    assert_eq!(node(&mirror, 14).unwrap().attrs, attrs(&[("src", "/logo.png")]));
    assert_eq!(node(&mirror, 15).unwrap().attrs, attrs(&[("data", "kept")]));

    let (mut mirror, _, _) = with_body(vec![
        Node::element(10, "iframe", &[], vec![]),
        Node::element(11, "object", &[], vec![]),
        Node::element(12, "img", &[], vec![]),
    ]);
    let (result, sent) = apply(
        &mut mirror,
        vec![attr(10, "src", Some("https://a/")), attr(11, "data", Some("x.pdf")), attr(12, "src", Some("/a.png"))],
    );
    assert!(result.unwrap().changed);
    assert_eq!(sent, vec![attr(12, "src", Some("/a.png"))]);
}

#[test]
fn meta_refresh_is_disarmed() {
    let (mirror, _, changed) = with_body(vec![
        Node::element(10, "meta", &[("http-equiv", "Refresh"), ("content", "0;url=https://evil/")], vec![]),
        Node::element(11, "meta", &[("http-equiv", "content-type"), ("content", "text/html")], vec![]),
        Node::element(12, "meta", &[("name", "viewport"), ("content", "width=device-width")], vec![]),
    ]);
    assert!(changed);
    assert!(node(&mirror, 10).unwrap().attrs.is_empty());
    assert_eq!(node(&mirror, 11).unwrap().attrs.len(), 2);
    assert_eq!(node(&mirror, 12).unwrap().attrs.len(), 2);

    // An op that turns a meta into a refresh loses it and takes `content` with it.
    let (mut mirror, _, _) = with_body(vec![Node::element(
        10,
        "meta",
        &[("http-equiv", "content-type"), ("content", "5;url=/next")],
        vec![],
    )]);
    let (result, sent) = apply(&mut mirror, vec![attr(10, "http-equiv", Some(" refresh"))]);
    assert!(result.unwrap().changed);
    assert_eq!(sent, vec![attr(10, "http-equiv", None), attr(10, "content", None)]);
    assert!(node(&mirror, 10).unwrap().attrs.is_empty());
    // Content alone is harmless.
    let sent = apply_ok(&mut mirror, vec![attr(10, "content", Some("1"))]);
    assert_eq!(sent, vec![attr(10, "content", Some("1"))]);
}

#[test]
fn base_cannot_rewrite_urls() {
    let (mirror, _, changed) = with_body(vec![Node::element(
        10,
        "base",
        &[("href", "https://evil/"), ("target", "_top"), ("id", "b")],
        vec![],
    )]);
    assert!(changed);
    assert_eq!(node(&mirror, 10).unwrap().attrs, attrs(&[("id", "b")]));

    let (mut mirror, _, _) = with_body(vec![Node::element(10, "base", &[], vec![])]);
    let (result, sent) =
        apply(&mut mirror, vec![attr(10, "href", Some("https://evil/")), attr(10, "TARGET", Some("_blank"))]);
    assert!(result.unwrap().changed);
    assert!(sent.is_empty());
}

#[test]
fn svg_animations_cannot_set_links() {
    let (mirror, _, changed) = with_body(vec![svg(
        10,
        "svg",
        &[],
        vec![
            svg(11, "set", &[("attributeName", "href"), ("to", "javascript:alert(1)")], vec![]),
            svg(
                12,
                "animate",
                &[("attributeName", "xlink:href"), ("values", "a;b"), ("from", "a"), ("by", "b")],
                vec![],
            ),
            svg(13, "animate", &[("attributeName", "fill"), ("to", "red")], vec![]),
        ],
    )]);
    assert!(changed);
    assert_eq!(node(&mirror, 11).unwrap().attrs, attrs(&[("attributeName", "href")]));
    assert_eq!(node(&mirror, 12).unwrap().attrs, attrs(&[("attributeName", "xlink:href")]));
    assert_eq!(node(&mirror, 13).unwrap().attrs, attrs(&[("attributeName", "fill"), ("to", "red")]));

    // Retargeting an animation at href removes its values; values sent later are dropped.
    let (mut mirror, _, _) = with_body(vec![svg(13, "animate", &[("attributeName", "fill"), ("to", "red")], vec![])]);
    let (result, sent) = apply(
        &mut mirror,
        vec![attr(13, "attributeName", Some("href")), attr(13, "values", Some("x;y")), attr(13, "dur", Some("1s"))],
    );
    assert!(result.unwrap().changed);
    assert_eq!(sent, vec![attr(13, "attributeName", Some("href")), attr(13, "to", None), attr(13, "dur", Some("1s"))]);
    assert_eq!(node(&mirror, 13).unwrap().attrs, attrs(&[("attributeName", "href"), ("dur", "1s")]));
}

#[test]
fn shadow_roots_and_frame_documents_are_sanitized_too() {
    let mut host = Node::element(10, "x-card", &[], vec![]);
    host.shadow = Some(Box::new(shadow_root(11, vec![Node::element(12, "a", &[("onclick", "x")], vec![])])));
    let mut iframe = Node::element(13, "iframe", &[("src", "/same-origin")], vec![]);
    iframe.frame_doc = Some(Box::new(Node::document(
        14,
        vec![Node::element(15, "script", &[("src", "x")], vec![Node::text(16, "evil()")])],
    )));
    let (mirror, _, changed) = with_body(vec![host.clone(), iframe.clone()]);
    assert!(changed);
    assert!(node(&mirror, 12).unwrap().attrs.is_empty());
    assert!(node(&mirror, 13).unwrap().attrs.is_empty());
    assert_eq!(node(&mirror, 15).unwrap(), Node::element(15, "script", &[], vec![Node::text(16, "")]));

    // And through ops.
    let (mut mirror, _, _) =
        with_body(vec![Node::element(10, "x-card", &[], vec![]), Node::element(13, "iframe", &[], vec![])]);
    let (result, sent) = apply(
        &mut mirror,
        vec![
            Op::Shadow { host: NodeId(10), root: host.shadow.as_deref().unwrap().clone() },
            Op::Frame { iframe: NodeId(13), document: iframe.frame_doc.as_deref().cloned() },
        ],
    );
    assert!(result.unwrap().changed);
    let Op::Shadow { root, .. } = &sent[0] else { panic!("shadow op kept") };
    assert!(root.children[0].attrs.is_empty());
    let Op::Frame { document: Some(doc), .. } = &sent[1] else { panic!("frame op kept") };
    assert_eq!(doc.children[0], Node::element(15, "script", &[], vec![Node::text(16, "")]));
    assert_eq!(node(&mirror, 14).as_ref(), Some(doc));
}

#[test]
fn benign_content_is_untouched() {
    let (mut mirror, snapshot, changed) = with_body(vec![
        Node::element(10, "a", &[("href", "https://shop.example/"), ("class", "nav"), ("data-on", "x")], vec![]),
        Node::element(11, "img", &[("src", "/a.png"), ("alt", "a javascript: guide")], vec![]),
        Node::element(12, "style", &[], vec![Node::text(13, "a{color:red}")]),
    ]);
    assert!(!changed);
    assert_eq!(node(&mirror, 10).unwrap().attrs.len(), 3);
    assert_eq!(snapshot.doc.count(), 7);
    let ops = vec![
        attr(10, "href", Some("/cart")),
        attr(11, "srcset", Some("/a@2x.png 2x")),
        Op::Text { id: NodeId(13), text: "b{}".into() },
        add(3, None, Node::element(14, "p", &[("title", "data:text/plain,hi")], vec![])),
    ];
    let (result, sent) = apply(&mut mirror, ops.clone());
    assert!(!result.unwrap().changed);
    assert_eq!(sent, ops);
}

#[test]
fn sanitizing_twice_changes_nothing_more() {
    let (_, mut snapshot, changed) = with_body(vec![
        Node::element(10, "script", &[("src", "x")], vec![Node::text(11, "x")]),
        Node::element(12, "meta", &[("http-equiv", "refresh"), ("content", "0")], vec![]),
        Node::element(13, "a", &[("href", "javascript:x"), ("onclick", "y")], vec![]),
    ]);
    assert!(changed);
    let once = snapshot.clone();
    assert!(!Mirror::default().apply_snapshot(&mut snapshot).unwrap().changed);
    assert_eq!(snapshot, once);
}
