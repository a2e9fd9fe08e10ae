//! Mutation operations. Each is a JSON array whose first element names it:
//!
//! | op | array |
//! |---|---|
//! | add a subtree | `["add", parent, before_or_null, node]` |
//! | remove a subtree | `["rm", id]` |
//! | set or remove an attribute | `["attr", id, name, value_or_null]` |
//! | change text or comment data | `["text", id, data]` |
//! | replace a stylesheet's effective CSS | `["css", id, text_or_null]` |
//! | insert one rule into that effective CSS | `["cssins", id, index, rule]` |
//! | delete one rule from that effective CSS | `["cssdel", id, index]` |
//! | set adopted stylesheets | `["adopt", id, [css, …]]` |
//! | change mask or restriction marks | `["mark", id, mask_or_null, restricted]` |
//! | attach an open shadow root | `["shadow", host, root_node]` |
//! | replace an iframe's document | `["frame", iframe, document_node_or_null]` |

use crate::ids::NodeId;
use crate::node::{MaskKind, Node};
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One change to the page, in the order the customer's browser observed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Insert `node` (with its subtree) under `parent`, before `before` or at the end.
    Add { parent: NodeId, before: Option<NodeId>, node: Node },
    /// Remove the node and its subtree.
    Remove { id: NodeId },
    /// Set an attribute, or remove it when `value` is `None`.
    Attr { id: NodeId, name: String, value: Option<String> },
    /// Replace the data of a text or comment node.
    Text { id: NodeId, text: String },
    /// Replace the effective CSS of a stylesheet-owning element; `None` returns to its source.
    Css { id: NodeId, text: Option<String> },
    /// Insert one top-level rule at `index` into the effective CSS a `css` op set, as the
    /// page's `insertRule` did; far smaller than resending the whole sheet on every change.
    CssInsert { id: NodeId, index: u32, rule: String },
    /// Delete the top-level rule at `index` from the effective CSS a `css` op set.
    CssDelete { id: NodeId, index: u32 },
    /// Replace the adopted stylesheets of a document or shadow root.
    Adopt { id: NodeId, sheets: Vec<String> },
    /// Change how a node is marked: masked (and how) and whether it is restricted.
    Mark { id: NodeId, mask: Option<MaskKind>, restricted: bool },
    /// Attach an open shadow root to a host element.
    Shadow { host: NodeId, root: Node },
    /// Replace (or clear) the content document of a same-origin iframe.
    Frame { iframe: NodeId, document: Option<Node> },
}

impl Op {
    /// The tag of this op on the wire.
    pub fn tag(&self) -> &'static str {
        match self {
            Op::Add { .. } => "add",
            Op::Remove { .. } => "rm",
            Op::Attr { .. } => "attr",
            Op::Text { .. } => "text",
            Op::Css { .. } => "css",
            Op::CssInsert { .. } => "cssins",
            Op::CssDelete { .. } => "cssdel",
            Op::Adopt { .. } => "adopt",
            Op::Mark { .. } => "mark",
            Op::Shadow { .. } => "shadow",
            Op::Frame { .. } => "frame",
        }
    }
}

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        seq.serialize_element(self.tag())?;
        match self {
            Op::Add { parent, before, node } => {
                seq.serialize_element(parent)?;
                seq.serialize_element(before)?;
                seq.serialize_element(node)?;
            }
            Op::Remove { id } => seq.serialize_element(id)?,
            Op::Attr { id, name, value } => {
                seq.serialize_element(id)?;
                seq.serialize_element(name)?;
                seq.serialize_element(value)?;
            }
            Op::Text { id, text } => {
                seq.serialize_element(id)?;
                seq.serialize_element(text)?;
            }
            Op::Css { id, text } => {
                seq.serialize_element(id)?;
                seq.serialize_element(text)?;
            }
            Op::CssInsert { id, index, rule } => {
                seq.serialize_element(id)?;
                seq.serialize_element(index)?;
                seq.serialize_element(rule)?;
            }
            Op::CssDelete { id, index } => {
                seq.serialize_element(id)?;
                seq.serialize_element(index)?;
            }
            Op::Adopt { id, sheets } => {
                seq.serialize_element(id)?;
                seq.serialize_element(sheets)?;
            }
            Op::Mark { id, mask, restricted } => {
                seq.serialize_element(id)?;
                seq.serialize_element(mask)?;
                seq.serialize_element(restricted)?;
            }
            Op::Shadow { host, root } => {
                seq.serialize_element(host)?;
                seq.serialize_element(root)?;
            }
            Op::Frame { iframe, document } => {
                seq.serialize_element(iframe)?;
                seq.serialize_element(document)?;
            }
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(OpVisitor)
    }
}

struct OpVisitor;

fn next<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(seq: &mut A, index: usize, tag: &str) -> Result<T, A::Error> {
    seq.next_element()?.ok_or_else(|| de::Error::custom(format_args!("op {tag:?} is missing element {index}")))
}

impl<'de> Visitor<'de> for OpVisitor {
    type Value = Op;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mutation op array such as [\"rm\", 12]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Op, A::Error> {
        let tag: std::borrow::Cow<'de, str> = next(&mut seq, 0, "op")?;
        let tag = tag.as_ref();
        let op = match tag {
            "add" => Op::Add {
                parent: next(&mut seq, 1, tag)?,
                before: next(&mut seq, 2, tag)?,
                node: next(&mut seq, 3, tag)?,
            },
            "rm" => Op::Remove { id: next(&mut seq, 1, tag)? },
            "attr" => {
                Op::Attr { id: next(&mut seq, 1, tag)?, name: next(&mut seq, 2, tag)?, value: next(&mut seq, 3, tag)? }
            }
            "text" => Op::Text { id: next(&mut seq, 1, tag)?, text: next(&mut seq, 2, tag)? },
            "css" => Op::Css { id: next(&mut seq, 1, tag)?, text: next(&mut seq, 2, tag)? },
            "cssins" => Op::CssInsert {
                id: next(&mut seq, 1, tag)?,
                index: next(&mut seq, 2, tag)?,
                rule: next(&mut seq, 3, tag)?,
            },
            "cssdel" => Op::CssDelete { id: next(&mut seq, 1, tag)?, index: next(&mut seq, 2, tag)? },
            "adopt" => Op::Adopt { id: next(&mut seq, 1, tag)?, sheets: next(&mut seq, 2, tag)? },
            "mark" => Op::Mark {
                id: next(&mut seq, 1, tag)?,
                mask: next(&mut seq, 2, tag)?,
                restricted: next(&mut seq, 3, tag)?,
            },
            "shadow" => Op::Shadow { host: next(&mut seq, 1, tag)?, root: next(&mut seq, 2, tag)? },
            "frame" => Op::Frame { iframe: next(&mut seq, 1, tag)?, document: next(&mut seq, 2, tag)? },
            other => return Err(de::Error::custom(format_args!("unknown op {other:?}"))),
        };
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(format_args!("op {tag:?} has extra elements")));
        }
        Ok(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(op: Op, json: &str) {
        assert_eq!(serde_json::to_string(&op).unwrap(), json);
        assert_eq!(serde_json::from_str::<Op>(json).unwrap(), op);
    }

    #[test]
    fn every_op_round_trips_as_an_array() {
        round_trip(
            Op::Add { parent: NodeId(4), before: None, node: Node::text(9, "hi") },
            r#"["add",4,null,{"id":9,"k":"x","v":"hi"}]"#,
        );
        round_trip(Op::Remove { id: NodeId(9) }, r#"["rm",9]"#);
        round_trip(Op::Attr { id: NodeId(3), name: "class".into(), value: None }, r#"["attr",3,"class",null]"#);
        round_trip(Op::Text { id: NodeId(5), text: "x".into() }, r#"["text",5,"x"]"#);
        round_trip(Op::Css { id: NodeId(7), text: Some("a{}".into()) }, r#"["css",7,"a{}"]"#);
        round_trip(
            Op::CssInsert { id: NodeId(7), index: 3, rule: ".a{color:red}".into() },
            r#"["cssins",7,3,".a{color:red}"]"#,
        );
        round_trip(Op::CssDelete { id: NodeId(7), index: 0 }, r#"["cssdel",7,0]"#);
        round_trip(Op::Adopt { id: NodeId(1), sheets: vec!["b{}".into()] }, r#"["adopt",1,["b{}"]]"#);
        round_trip(
            Op::Mark { id: NodeId(8), mask: Some(MaskKind::Text), restricted: true },
            r#"["mark",8,"text",true]"#,
        );
        round_trip(Op::Frame { iframe: NodeId(2), document: None }, r#"["frame",2,null]"#);
    }

    #[test]
    fn malformed_ops_are_errors_not_panics() {
        for bad in [
            r#"[]"#,
            r#"["rm"]"#,
            r#"["nope",1]"#,
            r#"["rm",1,2]"#,
            r#"["attr",1,"a"]"#,
            r#"{"rm":1}"#,
            r#"["rm","x"]"#,
            r#"["cssins",7,0]"#,
            r#"["cssins",7,-1,"a{}"]"#,
            r#"["cssins",7,"0","a{}"]"#,
            r#"["cssdel",7]"#,
            r#"["cssdel",7,1.5]"#,
            r#"["cssdel",7,0,0]"#,
        ] {
            assert!(serde_json::from_str::<Op>(bad).is_err(), "{bad} should be refused");
        }
    }
}
