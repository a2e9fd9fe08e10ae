//! Property test: the mirror against a naive reference model.
//!
//! The model is a plain [`Snapshot`] whose nested [`Node`] tree is searched and edited by brute
//! force. Each case builds a random page, then runs random steps: batches of random ops (valid
//! against the current page, some with dangerous content), some batches ending with an op that
//! must be refused, and input, scroll and focus frames. After each step:
//!
//! - a valid batch: the model applies the batch *as the mirror sanitized it*, and the mirror's
//!   snapshot must equal the model. This is the property the server relies on: a viewer that got
//!   the sanitized snapshot and the sanitized batches holds exactly what the mirror holds.
//! - `changed` is true exactly when the batch was altered, and a batch with only harmless
//!   content is never altered.
//! - nothing executable is left anywhere (checked by an independent, simpler rule set).
//! - a refused batch leaves the mirror stale; a snapshot of the model restores it unchanged.

use super::*;
use cobrowse_protocol::{Attr, Focus, Input, MaskKind, Scroll};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

const NAMES: [&str; 19] = [
    "div", "span", "p", "input", "iframe", "textarea", "select", "img", "a", "style", "script", "SCRIPT", "frame",
    "meta", "base", "animate", "set", "object", "embed",
];
const ATTR_NAMES: [&str; 16] = [
    "class",
    "id",
    "title",
    "style",
    "href",
    "src",
    "data",
    "onclick",
    "ONLOAD",
    "srcdoc",
    "http-equiv",
    "content",
    "target",
    "attributeName",
    "to",
    "values",
];
/// Attribute names no rule touches (whatever the value, as long as it is not a script URL).
const SAFE_ATTR_NAMES: usize = 4;
const VALUES: [&str; 12] = [
    "a",
    "b c",
    "/x",
    "https://e.x/",
    "href",
    "refresh",
    "javascript:alert(1)",
    " JaVa\tScript:x",
    "data:text/html,x",
    "vbscript:x",
    "Refresh ",
    "xlink:href",
];
/// Values no rule touches on a safe attribute name.
const SAFE_VALUES: usize = 6;
const TEXTS: [&str; 4] = ["", "hello", "alert(1)", "x y"];

/// Mostly harmless picks, sometimes anything.
fn pick<'a>(seed: u8, all: &[&'a str], safe: usize) -> &'a str {
    if seed % 10 < 7 {
        all[usize::from(seed / 10) % safe]
    } else {
        all[usize::from(seed) % all.len()]
    }
}

/// A subtree to add, before it has IDs.
#[derive(Debug, Clone)]
enum Shape {
    Text(u8),
    Comment(u8),
    Element {
        name: u8,
        attrs: Vec<(u8, u8)>,
        children: Vec<Shape>,
        shadow: Option<Vec<Shape>>,
        frame: Option<Vec<Shape>>,
        state: u8,
    },
}

fn shape() -> impl Strategy<Value = Shape> {
    let element = |children: BoxedStrategy<Vec<Shape>>, extra: BoxedStrategy<Option<Vec<Shape>>>| {
        (any::<u8>(), vec((any::<u8>(), any::<u8>()), 0..3), children, extra.clone(), extra, any::<u8>()).prop_map(
            |(name, attrs, children, shadow, frame, state)| Shape::Element {
                name,
                attrs,
                children,
                shadow,
                frame,
                state,
            },
        )
    };
    let leaf = prop_oneof![
        any::<u8>().prop_map(Shape::Text),
        any::<u8>().prop_map(Shape::Comment),
        element(Just(vec![]).boxed(), Just(None).boxed()),
    ];
    leaf.prop_recursive(4, 32, 4, move |inner| {
        element(vec(inner.clone(), 0..4).boxed(), option::weighted(0.15, vec(inner, 0..3)).boxed())
    })
}

#[derive(Debug, Clone)]
enum OpSeed {
    Add(u16, Option<u16>, Shape),
    Remove(u16),
    Attr(u16, u8, Option<u8>),
    Text(u16, u8),
    Css(u16, Option<u8>),
    Adopt(u16, u8),
    Mark(u16, Option<u8>, bool),
    Shadow(u16, Vec<Shape>),
    Frame(u16, Option<Vec<Shape>>),
}

fn op_seed() -> impl Strategy<Value = OpSeed> {
    let n = any::<u16>;
    prop_oneof![
        4 => (n(), option::of(n()), shape()).prop_map(|(p, b, s)| OpSeed::Add(p, b, s)),
        3 => n().prop_map(OpSeed::Remove),
        4 => (n(), any::<u8>(), option::weighted(0.8, any::<u8>())).prop_map(|(t, a, v)| OpSeed::Attr(t, a, v)),
        2 => (n(), any::<u8>()).prop_map(|(t, x)| OpSeed::Text(t, x)),
        1 => (n(), option::of(any::<u8>())).prop_map(|(t, x)| OpSeed::Css(t, x)),
        1 => (n(), any::<u8>()).prop_map(|(t, x)| OpSeed::Adopt(t, x)),
        1 => (n(), option::of(any::<u8>()), any::<bool>()).prop_map(|(t, m, r)| OpSeed::Mark(t, m, r)),
        1 => (n(), vec(shape(), 0..3)).prop_map(|(t, s)| OpSeed::Shadow(t, s)),
        1 => (n(), option::of(vec(shape(), 0..3))).prop_map(|(t, s)| OpSeed::Frame(t, s)),
    ]
}

/// An op that the mirror must refuse.
#[derive(Debug, Clone)]
enum BadSeed {
    RemoveUnknown(u16),
    AddUnderUnknown(u16),
    DuplicateId(u16, u16),
    BeforeNotAChild(u16, u16),
    TextOnElement(u16),
    ChildUnderLeaf(u16),
    AttrOnUnknown(u16),
    ShadowTwice(u16),
    FrameOnNonIframe(u16),
    RemoveDocument,
}

fn bad_seed() -> impl Strategy<Value = BadSeed> {
    let n = any::<u16>;
    prop_oneof![
        n().prop_map(BadSeed::RemoveUnknown),
        n().prop_map(BadSeed::AddUnderUnknown),
        (n(), n()).prop_map(|(a, b)| BadSeed::DuplicateId(a, b)),
        (n(), n()).prop_map(|(a, b)| BadSeed::BeforeNotAChild(a, b)),
        n().prop_map(BadSeed::TextOnElement),
        n().prop_map(BadSeed::ChildUnderLeaf),
        n().prop_map(BadSeed::AttrOnUnknown),
        n().prop_map(BadSeed::ShadowTwice),
        n().prop_map(BadSeed::FrameOnNonIframe),
        Just(BadSeed::RemoveDocument),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Batch(Vec<OpSeed>, Option<BadSeed>),
    Input(u16, u8),
    Scroll(u16, u8),
    Focus(Option<u16>),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        10 => (vec(op_seed(), 1..5), option::weighted(0.12, bad_seed())).prop_map(|(ops, bad)| Step::Batch(ops, bad)),
        1 => (any::<u16>(), any::<u8>()).prop_map(|(t, v)| Step::Input(t, v)),
        1 => (any::<u16>(), any::<u8>()).prop_map(|(t, v)| Step::Scroll(t, v)),
        1 => option::of(any::<u16>()).prop_map(Step::Focus),
    ]
}

/// The initial page: head and body content, plus scroll and focus picks.
type Initial = (Vec<Shape>, Vec<Shape>, Vec<(u16, u8)>, Option<u16>);

fn initial() -> impl Strategy<Value = Initial> {
    (vec(shape(), 0..4), vec(shape(), 0..8), vec((any::<u16>(), any::<u8>()), 0..4), option::of(any::<u16>()))
}

/// ID allocation for new nodes: fresh, or reused after removal.
struct Ids {
    next: u32,
    freed: Vec<u32>,
}

impl Ids {
    fn take(&mut self, seed: u8) -> NodeId {
        if seed % 3 == 0 {
            if let Some(id) = self.freed.pop() {
                return NodeId(id);
            }
        }
        self.next += 1;
        NodeId(self.next)
    }
}

fn is_named(name: Option<&str>, names: &[&str]) -> bool {
    name.is_some_and(|n| names.iter().any(|m| n.eq_ignore_ascii_case(m)))
}

fn build(shape: &Shape, ids: &mut Ids) -> Node {
    match shape {
        Shape::Text(t) => Node { id: ids.take(*t), ..Node::text(0, TEXTS[usize::from(*t) % TEXTS.len()]) },
        Shape::Comment(t) => Node { id: ids.take(*t), ..Node::comment(0, TEXTS[usize::from(*t) % TEXTS.len()]) },
        Shape::Element { name, attrs, children, shadow, frame, state } => {
            let name = pick(*name, &NAMES, 5);
            let mut node = Node::element(0, name, &[], vec![]);
            node.id = ids.take(*state);
            for (n, v) in attrs {
                let attr = Attr::new(pick(*n, &ATTR_NAMES, SAFE_ATTR_NAMES), pick(*v, &VALUES, SAFE_VALUES));
                if node.attr(&attr.name).is_none() {
                    node.attrs.push(attr);
                }
            }
            node.children = children.iter().map(|c| build(c, ids)).collect();
            if let Some(shadow) = shadow {
                node.shadow =
                    Some(Box::new(shadow_root(ids.take(*state).0, shadow.iter().map(|c| build(c, ids)).collect())));
            }
            if let Some(frame) = frame.as_ref().filter(|_| is_named(Some(name), &["iframe", "frame"])) {
                node.frame_doc =
                    Some(Box::new(Node::document(ids.take(*state).0, frame.iter().map(|c| build(c, ids)).collect())));
            }
            if is_named(Some(name), &["input", "textarea", "select"]) && state % 2 == 0 {
                node.state = Some(FormState {
                    value: Some(TEXTS[usize::from(*state) % TEXTS.len()].into()),
                    ..Default::default()
                });
            }
            node
        }
    }
}

/// What the generator needs to know about one node of the model.
#[derive(Debug, Clone)]
struct Info {
    id: NodeId,
    kind: NodeKind,
    name: Option<String>,
    /// Parent ID when the node is in its parent's child list.
    parent: Option<NodeId>,
    parent_is_script: bool,
    has_shadow: bool,
    children: Vec<NodeId>,
}

fn infos(doc: &Node) -> Vec<Info> {
    fn walk(node: &Node, parent: Option<&Node>, out: &mut Vec<Info>) {
        out.push(Info {
            id: node.id,
            kind: node.kind,
            name: node.name.clone(),
            parent: parent.map(|p| p.id),
            parent_is_script: parent.is_some_and(is_script),
            has_shadow: node.shadow.is_some(),
            children: node.children.iter().map(|c| c.id).collect(),
        });
        for child in &node.children {
            walk(child, Some(node), out);
        }
        for sub in node.shadow.iter().chain(&node.frame_doc) {
            walk(sub, None, out);
        }
    }
    let mut out = Vec::new();
    walk(doc, None, &mut out);
    out
}

fn is_script(node: &Node) -> bool {
    node.kind == NodeKind::Element && is_named(node.name.as_deref(), &["script"])
}

fn choose(infos: &[Info], seed: u16, test: impl Fn(&Info) -> bool) -> Option<&Info> {
    let fits: Vec<&Info> = infos.iter().filter(|i| test(i)).collect();
    (!fits.is_empty()).then(|| fits[usize::from(seed) % fits.len()])
}

fn is_container(info: &Info) -> bool {
    matches!(info.kind, NodeKind::Document | NodeKind::Element | NodeKind::ShadowRoot)
}

fn is_element(info: &Info) -> bool {
    info.kind == NodeKind::Element
}

/// Turns a seed into an op that is valid against `plan`, or `None` when the page has no fitting
/// target.
fn make_op(seed: &OpSeed, plan: &Snapshot, ids: &mut Ids) -> Option<Op> {
    let infos = infos(&plan.doc);
    let op = match seed {
        OpSeed::Add(p, b, shape) => {
            let parent = choose(&infos, *p, is_container)?;
            let before = b.and_then(|b| {
                (!parent.children.is_empty()).then(|| parent.children[usize::from(b) % parent.children.len()])
            });
            Op::Add { parent: parent.id, before, node: build(shape, ids) }
        }
        OpSeed::Remove(t) => Op::Remove { id: choose(&infos, *t, |i| i.parent.is_some())?.id },
        OpSeed::Attr(t, n, v) => Op::Attr {
            id: choose(&infos, *t, is_element)?.id,
            name: pick(*n, &ATTR_NAMES, SAFE_ATTR_NAMES).into(),
            value: v.map(|v| pick(v, &VALUES, SAFE_VALUES).into()),
        },
        OpSeed::Text(t, x) => Op::Text {
            id: choose(&infos, *t, |i| matches!(i.kind, NodeKind::Text | NodeKind::Comment))?.id,
            text: TEXTS[usize::from(*x) % TEXTS.len()].into(),
        },
        OpSeed::Css(t, x) => {
            Op::Css { id: choose(&infos, *t, is_element)?.id, text: x.map(|x| format!("a{{order:{x}}}")) }
        }
        OpSeed::Adopt(t, x) => Op::Adopt {
            id: choose(&infos, *t, |i| matches!(i.kind, NodeKind::Document | NodeKind::ShadowRoot))?.id,
            sheets: (0..x % 3).map(|i| format!("b{{order:{i}}}")).collect(),
        },
        OpSeed::Mark(t, m, r) => Op::Mark {
            id: choose(&infos, *t, |_| true)?.id,
            mask: m.map(|m| [MaskKind::Value, MaskKind::Text, MaskKind::Image][usize::from(m) % 3]),
            restricted: *r,
        },
        OpSeed::Shadow(t, shapes) => {
            let host = choose(&infos, *t, |i| is_element(i) && !i.has_shadow)?.id;
            Op::Shadow { host, root: shadow_root(ids.take(1).0, shapes.iter().map(|s| build(s, ids)).collect()) }
        }
        OpSeed::Frame(t, shapes) => {
            let iframe = choose(&infos, *t, |i| is_element(i) && is_named(i.name.as_deref(), &["iframe", "frame"]))?.id;
            let document =
                shapes.as_ref().map(|s| Node::document(ids.take(1).0, s.iter().map(|s| build(s, ids)).collect()));
            Op::Frame { iframe, document }
        }
    };
    Some(op)
}

/// Turns a seed into an op the mirror must refuse, against `plan`.
fn make_bad_op(seed: &BadSeed, plan: &Snapshot) -> Op {
    let infos = infos(&plan.doc);
    let unknown = |s: u16| NodeId(5_000_000 + u32::from(s));
    let fallback = |s: u16| Op::Remove { id: unknown(s) };
    match seed {
        BadSeed::RemoveUnknown(s) => fallback(*s),
        BadSeed::AddUnderUnknown(s) => Op::Add { parent: unknown(*s), before: None, node: Node::text(6_000_000, "x") },
        BadSeed::DuplicateId(p, x) => {
            let parent = choose(&infos, *p, is_container).map_or(plan.doc.id, |i| i.id);
            let taken = choose(&infos, *x, |_| true).map_or(plan.doc.id, |i| i.id);
            Op::Add { parent, before: None, node: Node { id: taken, ..Node::text(0, "dup") } }
        }
        BadSeed::BeforeNotAChild(p, x) => {
            let parent = choose(&infos, *p, is_container).map_or(plan.doc.id, |i| i.id);
            let other = choose(&infos, *x, |i| i.parent != Some(parent)).map_or(parent, |i| i.id);
            Op::Add { parent, before: Some(other), node: Node::text(6_000_000, "x") }
        }
        BadSeed::TextOnElement(t) => match choose(&infos, *t, is_element) {
            Some(info) => Op::Text { id: info.id, text: "x".into() },
            None => fallback(*t),
        },
        BadSeed::ChildUnderLeaf(t) => match choose(&infos, *t, |i| !is_container(i)) {
            Some(info) => Op::Add { parent: info.id, before: None, node: Node::text(6_000_000, "x") },
            None => fallback(*t),
        },
        BadSeed::AttrOnUnknown(s) => Op::Attr { id: unknown(*s), name: "class".into(), value: None },
        BadSeed::ShadowTwice(t) => match choose(&infos, *t, |i| i.has_shadow) {
            Some(info) => Op::Shadow { host: info.id, root: shadow_root(6_000_000, vec![]) },
            None => fallback(*t),
        },
        BadSeed::FrameOnNonIframe(t) => {
            match choose(&infos, *t, |i| {
                i.kind != NodeKind::Element || !is_named(i.name.as_deref(), &["iframe", "frame"])
            }) {
                Some(info) => Op::Frame { iframe: info.id, document: None },
                None => fallback(*t),
            }
        }
        BadSeed::RemoveDocument => Op::Remove { id: plan.doc.id },
    }
}

/// True when `op` carries nothing any rule touches, so the mirror must pass it on unaltered.
fn harmless(op: &Op, plan: &Snapshot) -> bool {
    fn safe_attr(name: &str, value: Option<&str>) -> bool {
        ATTR_NAMES[..SAFE_ATTR_NAMES].contains(&name) && value.is_none_or(|v| VALUES[..SAFE_VALUES].contains(&v))
    }
    fn safe_tree(node: &Node) -> bool {
        let mut safe = true;
        node.walk(&mut |n| safe &= !is_script(n) && n.attrs.iter().all(|a| safe_attr(&a.name, Some(&a.value))));
        safe
    }
    let info = |id: NodeId| infos(&plan.doc).into_iter().find(|i| i.id == id);
    let not_script = |id: NodeId| info(id).is_some_and(|i| !is_named(i.name.as_deref(), &["script"]));
    match op {
        Op::Add { parent, node, .. } => not_script(*parent) && safe_tree(node),
        Op::Attr { id, name, value } => not_script(*id) && safe_attr(name, value.as_deref()),
        Op::Text { id, .. } => info(*id).is_some_and(|i| !i.parent_is_script),
        Op::Shadow { root, .. } => safe_tree(root),
        Op::Frame { document, .. } => document.as_ref().is_none_or(safe_tree),
        Op::Remove { .. }
        | Op::Css { .. }
        | Op::CssInsert { .. }
        | Op::CssDelete { .. }
        | Op::Adopt { .. }
        | Op::Mark { .. } => true,
    }
}

fn find_mut(node: &mut Node, id: NodeId) -> Option<&mut Node> {
    if node.id == id {
        return Some(node);
    }
    node.children
        .iter_mut()
        .chain(node.shadow.as_deref_mut())
        .chain(node.frame_doc.as_deref_mut())
        .find_map(|child| find_mut(child, id))
}

fn detach(node: &mut Node, id: NodeId) -> Option<Node> {
    if let Some(pos) = node.children.iter().position(|c| c.id == id) {
        return Some(node.children.remove(pos));
    }
    node.children
        .iter_mut()
        .chain(node.shadow.as_deref_mut())
        .chain(node.frame_doc.as_deref_mut())
        .find_map(|child| detach(child, id))
}

/// Forgets scroll and focus of a removed subtree and makes its IDs reusable.
fn purge(model: &mut Snapshot, removed: &Node, ids: &mut Ids) {
    let mut gone = Vec::new();
    removed.walk(&mut |n| gone.push(n.id));
    model.scroll.retain(|s| !gone.contains(&s.id));
    if model.focus.and_then(|f| f.id).is_some_and(|id| gone.contains(&id)) {
        model.focus = None;
    }
    ids.freed.extend(gone.iter().map(|id| id.0));
}

/// Applies a (sanitized, valid) op to the model the naive way.
fn model_apply(model: &mut Snapshot, op: &Op, ids: &mut Ids) {
    fn target(model: &mut Snapshot, id: NodeId) -> &mut Node {
        find_mut(&mut model.doc, id).expect("valid op target")
    }
    match op.clone() {
        Op::Add { parent, before, node } => {
            let parent = target(model, parent);
            let at = before.and_then(|b| parent.children.iter().position(|c| c.id == b));
            parent.children.insert(at.unwrap_or(parent.children.len()), node);
        }
        Op::Remove { id } => {
            let removed = detach(&mut model.doc, id).expect("valid remove");
            purge(model, &removed, ids);
        }
        Op::Attr { id, name, value } => {
            let node = target(model, id);
            match value {
                Some(value) => match node.attrs.iter_mut().find(|a| a.name == name) {
                    Some(attr) => attr.value = value,
                    None => node.attrs.push(Attr::new(name, value)),
                },
                None => node.attrs.retain(|a| a.name != name),
            }
        }
        Op::Text { id, text } => target(model, id).text = Some(text),
        Op::Css { id, text } => target(model, id).sheet_text = text,
        // Rule edits are not generated here: css_rules and apply_tests cover them.
        Op::CssInsert { .. } | Op::CssDelete { .. } => unreachable!("the generator makes no rule edits"),
        Op::Adopt { id, sheets } => target(model, id).adopted = Some(sheets),
        Op::Mark { id, mask, restricted } => {
            let node = target(model, id);
            node.mask = mask;
            node.restricted = restricted;
        }
        Op::Shadow { host, root } => target(model, host).shadow = Some(Box::new(root)),
        Op::Frame { iframe, document } => {
            let old = target(model, iframe).frame_doc.take();
            if let Some(old) = old {
                purge(model, &old, ids);
            }
            target(model, iframe).frame_doc = document.map(Box::new);
        }
    }
}

/// Independent, simpler statement of the rules: nothing executable is left in `node`.
fn assert_clean(node: &Node, parent_is_script: bool) {
    let name = node.name.as_deref().unwrap_or_default().to_ascii_lowercase();
    let element = node.kind == NodeKind::Element;
    if element && name == "script" {
        assert!(node.attrs.is_empty(), "script attributes: {node:?}");
    }
    if parent_is_script && node.kind == NodeKind::Text {
        assert_eq!(node.text.as_deref().unwrap_or_default(), "", "script text");
    }
    let has = |attr: &str, value: Option<&str>| {
        node.attrs
            .iter()
            .any(|a| a.name.eq_ignore_ascii_case(attr) && value.is_none_or(|v| a.value.trim().eq_ignore_ascii_case(v)))
    };
    for a in &node.attrs {
        let attr = a.name.to_ascii_lowercase();
        assert!(!attr.starts_with("on") && attr != "srcdoc", "{a:?}");
        let squeezed: String =
            a.value.chars().filter(|c| !c.is_ascii_control() && *c != ' ').collect::<String>().to_ascii_lowercase();
        for scheme in ["javascript:", "vbscript:", "data:text/html"] {
            assert!(!squeezed.starts_with(scheme), "{a:?}");
        }
        let forbidden: &[&str] = match name.as_str() {
            "iframe" | "frame" | "embed" => &["src"],
            "object" => &["data"],
            "base" => &["href", "target"],
            _ => &[],
        };
        assert!(!forbidden.contains(&attr.as_str()), "{name} {a:?}");
    }
    if element && name == "meta" {
        assert!(!has("http-equiv", Some("refresh")), "meta refresh");
    }
    if element
        && (name == "set" || name == "animate")
        && (has("attributeName", Some("href")) || has("attributeName", Some("xlink:href")))
    {
        assert!(["to", "from", "values", "by"].iter().all(|n| !has(n, None)), "animated link {node:?}");
    }
    for child in &node.children {
        assert_clean(child, element && name == "script");
    }
    for sub in node.shadow.iter().chain(&node.frame_doc) {
        assert_clean(sub, false);
    }
}

/// Checks the mirror against the model.
fn check(mirror: &Mirror, model: &Snapshot) -> Result<(), TestCaseError> {
    consistent(mirror);
    prop_assert!(!mirror.is_stale());
    let snapshot = mirror.snapshot();
    prop_assert_eq!(snapshot.as_ref(), Some(model));
    assert_clean(&model.doc, false);
    prop_assert_eq!(mirror.node_count(), model.doc.count());
    Ok(())
}

fn run(initial: Initial, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let (head, body, scrolls, focus) = initial;
    let mut ids = Ids { next: 10, freed: Vec::new() };
    let head = head.iter().map(|s| build(s, &mut ids)).collect();
    let body = body.iter().map(|s| build(s, &mut ids)).collect();
    let doc = Node::document(
        1,
        vec![
            Node::doctype_html(2),
            Node::element(
                3,
                "html",
                &[],
                vec![Node::element(4, "head", &[], head), Node::element(5, "body", &[], body)],
            ),
        ],
    );
    let mut model = snapshot_of(doc);
    let all = infos(&model.doc);
    model.scroll = scrolls
        .iter()
        .map(|(t, y)| Scroll { id: all[usize::from(*t) % all.len()].id, x: 0.0, y: f64::from(*y) })
        .collect();
    model.focus = focus.map(|t| Focus { id: Some(all[usize::from(t) % all.len()].id), start: None, end: None });

    let mut mirror = Mirror::default();
    mirror.apply_snapshot(&mut model).expect("a generated page applies");
    check(&mirror, &model)?;

    for step in &steps {
        match step {
            Step::Batch(seeds, bad) => {
                // Plan the batch on a copy, so each op is valid after the ones before it.
                let mut plan = model.clone();
                let mut plan_ids = Ids { next: ids.next, freed: ids.freed.clone() };
                let mut ops = Vec::new();
                let mut all_harmless = true;
                for seed in seeds {
                    if let Some(op) = make_op(seed, &plan, &mut plan_ids) {
                        all_harmless &= harmless(&op, &plan);
                        model_apply(&mut plan, &op, &mut Ids { next: 0, freed: Vec::new() });
                        ops.push(op);
                    }
                }
                ids.next = plan_ids.next;
                ids.freed = plan_ids.freed;
                if let Some(bad) = bad {
                    ops.push(make_bad_op(bad, &plan));
                    let (result, _) = apply(&mut mirror, ops);
                    prop_assert!(result.is_err(), "a bad op was accepted");
                    prop_assert!(mirror.is_stale());
                    prop_assert_eq!(mirror.snapshot(), None);
                    prop_assert_eq!(apply(&mut mirror, vec![]).0, Err(MirrorError::Stale));
                    // Recovery: the model's page, already sanitized, applies unchanged.
                    let mut again = model.clone();
                    prop_assert!(!mirror.apply_snapshot(&mut again).expect("the model applies").changed);
                    prop_assert_eq!(&again, &model);
                } else {
                    let (result, sent) = apply(&mut mirror, ops.clone());
                    let changed = result.expect("a valid batch applies").changed;
                    prop_assert_eq!(changed, sent != ops, "changed must say whether the batch was altered");
                    if all_harmless {
                        prop_assert_eq!(&sent, &ops, "harmless ops pass unaltered");
                    }
                    for op in &sent {
                        model_apply(&mut model, op, &mut ids);
                    }
                }
            }
            Step::Input(t, v) => {
                let all = infos(&model.doc);
                let info = &all[usize::from(*t) % all.len()];
                let id = if t % 8 == 0 { NodeId(5_000_000) } else { info.id };
                let state =
                    FormState { value: Some(TEXTS[usize::from(*v) % TEXTS.len()].into()), ..Default::default() };
                let result = mirror.apply_input(&Input { id, state: state.clone() });
                if id == info.id && is_element(info) && is_named(info.name.as_deref(), &["input", "textarea", "select"])
                {
                    prop_assert!(result.is_ok());
                    find_mut(&mut model.doc, id).expect("known").state = Some(state);
                } else {
                    prop_assert!(result.is_err());
                }
            }
            Step::Scroll(t, y) => {
                let all = infos(&model.doc);
                let info = &all[usize::from(*t) % all.len()];
                let scroll = Scroll { id: info.id, x: 1.0, y: f64::from(*y) };
                let result = mirror.apply_scroll(&scroll);
                if matches!(info.kind, NodeKind::Element | NodeKind::Document) {
                    prop_assert!(result.is_ok());
                    model.scroll.retain(|s| s.id != info.id);
                    model.scroll.push(scroll);
                } else {
                    prop_assert!(result.is_err());
                }
            }
            Step::Focus(t) => {
                let all = infos(&model.doc);
                let info = t.map(|t| &all[usize::from(t) % all.len()]);
                let focus = Focus { id: info.map(|i| i.id), start: Some(0), end: Some(1) };
                let result = mirror.apply_focus(&focus);
                if info.is_none_or(is_element) {
                    prop_assert!(result.is_ok());
                    model.focus = Some(focus);
                } else {
                    prop_assert!(result.is_err());
                }
            }
        }
        check(&mirror, &model)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn the_mirror_matches_a_naive_model(initial in initial(), steps in vec(step(), 0..40)) {
        run(initial, steps)?;
    }
}
