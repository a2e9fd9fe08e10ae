//! `cssins` and `cssdel`: rule edits of a stylesheet's effective CSS, what a later snapshot then
//! holds, and the refusals (no effective CSS yet, a bad index, a rule that is not one rule, the
//! byte ceiling).

use super::{apply, apply_err, apply_ok, consistent, loaded, node};
use crate::{Mirror, MirrorError, MirrorLimits};
use cobrowse_protocol::{NodeId, Op};

fn css(id: u32, text: &str) -> Op {
    Op::Css { id: NodeId(id), text: Some(text.into()) }
}

fn ins(id: u32, index: u32, rule: &str) -> Op {
    Op::CssInsert { id: NodeId(id), index, rule: rule.into() }
}

fn del(id: u32, index: u32) -> Op {
    Op::CssDelete { id: NodeId(id), index }
}

fn sheet(mirror: &Mirror, id: u32) -> Option<String> {
    node(mirror, id).unwrap().sheet_text
}

#[test]
fn rule_edits_change_the_effective_css_a_snapshot_carries() {
    let mut mirror = loaded();
    apply_ok(&mut mirror, vec![css(8, ".a{}\n.b{}")]);
    let kept = apply_ok(&mut mirror, vec![ins(8, 2, ".c{color:red}"), ins(8, 0, "@media print{.d{}}"), del(8, 1)]);
    assert_eq!(kept, vec![ins(8, 2, ".c{color:red}"), ins(8, 0, "@media print{.d{}}"), del(8, 1)], "forwarded as sent");
    assert_eq!(sheet(&mirror, 8).as_deref(), Some("@media print{.d{}}\n.b{}\n.c{color:red}"));
    consistent(&mirror);

    // A join's snapshot holds the edited text.
    let snapshot = mirror.snapshot().unwrap();
    let mut rebuilt = Mirror::new(MirrorLimits::default());
    rebuilt.apply_snapshot(&mut snapshot.clone()).unwrap();
    assert_eq!(sheet(&rebuilt, 8).as_deref(), Some("@media print{.d{}}\n.b{}\n.c{color:red}"));
    // ...and rule edits go on from it, against the same rule numbering.
    apply_ok(&mut rebuilt, vec![del(8, 0), ins(8, 1, ".e{}")]);
    assert_eq!(sheet(&rebuilt, 8).as_deref(), Some(".b{}\n.e{}\n.c{color:red}"));

    // A new css op replaces the text and its rule numbering.
    apply_ok(&mut mirror, vec![css(8, ".x{}"), ins(8, 1, ".y{}"), del(8, 0)]);
    assert_eq!(sheet(&mirror, 8).as_deref(), Some(".y{}"));
    apply_ok(&mut mirror, vec![del(8, 0), ins(8, 0, ".z{}")]);
    assert_eq!(sheet(&mirror, 8).as_deref(), Some(".z{}"));
    consistent(&mirror);
}

#[test]
fn rule_edits_of_a_sheet_that_came_in_a_snapshot_or_add() {
    let mut page = super::page();
    page.doc.children[1].children[0].children[0].sheet_text = Some(".from-snapshot{}".into());
    let mut mirror = Mirror::new(MirrorLimits::default());
    mirror.apply_snapshot(&mut page).unwrap();
    apply_ok(&mut mirror, vec![ins(5, 1, ".more{}")]);
    assert_eq!(sheet(&mirror, 5).as_deref(), Some(".from-snapshot{}\n.more{}"));

    let mut style =
        cobrowse_protocol::Node::element(30, "style", &[], vec![cobrowse_protocol::Node::text(31, ".src{}")]);
    style.sheet_text = Some(".a{} .b{}".into());
    apply_ok(&mut mirror, vec![Op::Add { parent: NodeId(4), before: None, node: style }, del(30, 0)]);
    assert_eq!(sheet(&mirror, 30).as_deref(), Some(".b{}"));
    consistent(&mirror);
}

#[test]
fn rule_edits_are_refused_with_a_reason() {
    // No effective CSS yet: the SDK sends the whole text first.
    apply_err(
        &mut loaded(),
        vec![ins(8, 0, ".a{}")],
        MirrorError::WrongKind { id: NodeId(8), expected: "an element with effective CSS (a css op comes first)" },
    );
    apply_err(&mut loaded(), vec![del(9, 0)], MirrorError::WrongKind { id: NodeId(9), expected: "an element" });
    apply_err(&mut loaded(), vec![del(99, 0)], MirrorError::UnknownNode(NodeId(99)));
    // Indices past the end.
    apply_err(
        &mut loaded(),
        vec![css(8, ".a{}"), ins(8, 2, ".b{}")],
        MirrorError::RuleIndex { id: NodeId(8), index: 2, rules: 1 },
    );
    apply_err(
        &mut loaded(),
        vec![css(8, ".a{}"), del(8, 1)],
        MirrorError::RuleIndex { id: NodeId(8), index: 1, rules: 1 },
    );
    apply_err(&mut loaded(), vec![css(8, ""), del(8, 0)], MirrorError::RuleIndex { id: NodeId(8), index: 0, rules: 0 });
    apply_err(
        &mut loaded(),
        vec![css(8, ".a{} .b{color:red"), ins(8, 2, ".c{}")],
        MirrorError::RuleIndex { id: NodeId(8), index: 2, rules: 2 },
    );
    apply_err(
        &mut loaded(),
        vec![css(8, ".a{}"), ins(8, 4_000_000_000, ".c{}")],
        MirrorError::RuleIndex { id: NodeId(8), index: 4_000_000_000, rules: 1 },
    );
    // Not exactly one complete rule: it could change where its neighbours end.
    for bad in ["", ".a{", ".a{}.b{}", "@import 'x'", "}", "/* x */"] {
        apply_err(
            &mut loaded(),
            vec![css(8, ".a{}"), ins(8, 0, bad)],
            MirrorError::Malformed { id: NodeId(8), reason: "a cssins rule must be exactly one complete CSS rule" },
        );
    }
}

#[test]
fn rule_inserts_count_against_the_byte_ceiling() {
    let mut mirror = Mirror::new(MirrorLimits { max_bytes: 64 * 1024, ..MirrorLimits::default() });
    mirror.apply_snapshot(&mut super::page()).unwrap();
    apply_ok(&mut mirror, vec![css(8, ".a{}")]);
    let big = format!(".b{{content:\"{}\"}}", "x".repeat(16 * 1024));
    let (result, _) = apply(&mut mirror, vec![ins(8, 0, &big), ins(8, 0, &big)]);
    assert!(result.is_ok());
    let (result, _) = apply(&mut mirror, vec![ins(8, 0, &big), ins(8, 0, &big)]);
    assert_eq!(result, Err(MirrorError::LimitExceeded { what: "bytes", limit: 64 * 1024 }));

    // Deleting gives the bytes back: the estimate balances.
    let mut mirror = loaded();
    apply_ok(&mut mirror, vec![css(8, ".a{}")]);
    let before = mirror.approx_bytes();
    apply_ok(&mut mirror, vec![ins(8, 1, &big)]);
    assert!(mirror.approx_bytes() > before + big.len());
    apply_ok(&mut mirror, vec![del(8, 1), css(8, ".a{}")]);
    assert_eq!(mirror.approx_bytes(), before);
    consistent(&mirror);
}
