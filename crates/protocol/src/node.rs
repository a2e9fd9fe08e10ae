//! The serialized DOM carried by snapshots and `add` operations.
//!
//! Field names are short because a 6,000-element page is sent in one frame; each field is
//! described here and in `docs/protocol.md`. Optional fields are omitted when empty.

use crate::ids::NodeId;
use serde::{Deserialize, Serialize};

/// What kind of DOM node a [`Node`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeKind {
    /// A document: the page itself, or a same-origin iframe's content document.
    #[serde(rename = "d")]
    Document,
    /// `<!DOCTYPE …>`; its presence and ids decide quirks mode.
    #[serde(rename = "t")]
    Doctype,
    /// An element.
    #[serde(rename = "e")]
    Element,
    /// A text node (CDATA sections arrive as text).
    #[serde(rename = "x")]
    Text,
    /// A comment.
    #[serde(rename = "c")]
    Comment,
    /// An open shadow root, attached to its host element's `sh` field.
    #[serde(rename = "f")]
    ShadowRoot,
}

/// How the customer's browser masked a node before sending it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskKind {
    /// A form field whose value went out as asterisks.
    Value,
    /// An element whose text went out as asterisks.
    Text,
    /// An image replaced by a placeholder box of the same size.
    Image,
}

/// The document's rendering mode, as `document.compatMode` and the doctype decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CompatMode {
    /// No quirks.
    #[default]
    Standards,
    /// Limited quirks (some transitional doctypes).
    LimitedQuirks,
    /// Full quirks (no doctype, or an old one).
    Quirks,
}

/// One attribute: name and value, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attr {
    /// The qualified name as the DOM reports it (`class`, `xlink:href`, `data-x`).
    pub name: String,
    /// The value.
    pub value: String,
}

impl Attr {
    /// Builds an attribute.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self { name: name.into(), value: value.into() }
    }
}

/// One serialized DOM node with its subtree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The SDK's ID for this node.
    pub id: NodeId,
    /// The node's kind.
    #[serde(rename = "k")]
    pub kind: NodeKind,
    /// Element: tag name as the DOM reports `localName` (case kept for SVG); doctype: its name.
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Element namespace URI when it is not HTML's (SVG, MathML, other XML).
    #[serde(rename = "ns", default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Attributes in document order, as a JSON object.
    #[serde(rename = "a", default, skip_serializing_if = "Vec::is_empty", with = "attr_list")]
    pub attrs: Vec<Attr>,
    /// Children in document order.
    #[serde(rename = "c", default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
    /// Text and comment data.
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Doctype public and system identifiers, `[public, system]`.
    #[serde(rename = "ids", default, skip_serializing_if = "Option::is_none")]
    pub doctype_ids: Option<[String; 2]>,
    /// Live form state of `input`, `textarea` and `select` (the property, not the attribute).
    #[serde(rename = "st", default, skip_serializing_if = "Option::is_none")]
    pub state: Option<FormState>,
    /// Set when the customer's browser masked this node.
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<MaskKind>,
    /// Set when the agent may not use this element.
    #[serde(rename = "r", default, skip_serializing_if = "std::ops::Not::not")]
    pub restricted: bool,
    /// The open shadow root of this element, if any.
    #[serde(rename = "sh", default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<Box<Node>>,
    /// The content document of a same-origin `<iframe>`, if any.
    #[serde(rename = "fd", default, skip_serializing_if = "Option::is_none")]
    pub frame_doc: Option<Box<Node>>,
    /// Effective stylesheet text of a `<style>` or `<link rel=stylesheet>` whose CSSOM was
    /// changed by script (`insertRule`, `deleteRule`, `replaceSync`); absent while unmodified.
    #[serde(rename = "css", default, skip_serializing_if = "Option::is_none")]
    pub sheet_text: Option<String>,
    /// Adopted (constructed) stylesheets of a document or shadow root, as CSS text.
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<Vec<String>>,
}

impl Node {
    /// A node of `kind` with nothing else set; builders below fill in the rest.
    pub fn bare(id: u32, kind: NodeKind) -> Self {
        Self {
            id: NodeId(id),
            kind,
            name: None,
            namespace: None,
            attrs: Vec::new(),
            children: Vec::new(),
            text: None,
            doctype_ids: None,
            state: None,
            mask: None,
            restricted: false,
            shadow: None,
            frame_doc: None,
            sheet_text: None,
            adopted: None,
        }
    }

    /// A document node with children.
    pub fn document(id: u32, children: Vec<Node>) -> Self {
        Self { children, ..Self::bare(id, NodeKind::Document) }
    }

    /// `<!DOCTYPE html>`.
    pub fn doctype_html(id: u32) -> Self {
        Self { name: Some("html".into()), ..Self::bare(id, NodeKind::Doctype) }
    }

    /// An HTML element with attributes and children.
    pub fn element(id: u32, name: &str, attrs: &[(&str, &str)], children: Vec<Node>) -> Self {
        Self {
            name: Some(name.into()),
            attrs: attrs.iter().map(|(n, v)| Attr::new(*n, *v)).collect(),
            children,
            ..Self::bare(id, NodeKind::Element)
        }
    }

    /// A text node.
    pub fn text(id: u32, text: &str) -> Self {
        Self { text: Some(text.into()), ..Self::bare(id, NodeKind::Text) }
    }

    /// A comment node.
    pub fn comment(id: u32, text: &str) -> Self {
        Self { text: Some(text.into()), ..Self::bare(id, NodeKind::Comment) }
    }

    /// Visits this node and every node below it (children, shadow root, frame document).
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Node)) {
        visit(self);
        for child in &self.children {
            child.walk(visit);
        }
        if let Some(shadow) = &self.shadow {
            shadow.walk(visit);
        }
        if let Some(doc) = &self.frame_doc {
            doc.walk(visit);
        }
    }

    /// The number of nodes in this subtree, this one included.
    pub fn count(&self) -> usize {
        let mut count = 0;
        self.walk(&mut |_| count += 1);
        count
    }

    /// The value of attribute `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.name == name).map(|a| a.value.as_str())
    }
}

/// Live state of a form field. Each part is present only where it applies.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FormState {
    /// `.value` of an input or textarea (asterisks when masked).
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `.checked` of a checkbox or radio.
    #[serde(rename = "ch", default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<bool>,
    /// Indices of the selected options of a `<select>`.
    #[serde(rename = "sel", default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<Vec<u32>>,
}

/// Attributes as an ordered JSON object: `{"class": "a", "id": "b"}`.
mod attr_list {
    use super::Attr;
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(attrs: &[Attr], serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(attrs.len()))?;
        for attr in attrs {
            map.serialize_entry(&attr.name, &attr.value)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Attr>, D::Error> {
        struct AttrVisitor;
        impl<'de> Visitor<'de> for AttrVisitor {
            type Value = Vec<Attr>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of attribute names to string values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut attrs = Vec::with_capacity(access.size_hint().unwrap_or(0).min(64));
                while let Some((name, value)) = access.next_entry::<String, String>()? {
                    attrs.push(Attr { name, value });
                }
                Ok(attrs)
            }
        }
        deserializer.deserialize_map(AttrVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_keep_document_order() {
        let node = Node::element(3, "a", &[("z", "1"), ("a", "2")], vec![]);
        let json = serde_json::to_string(&node).unwrap();
        assert_eq!(json, r#"{"id":3,"k":"e","n":"a","a":{"z":"1","a":"2"}}"#);
        let back: Node = serde_json::from_str(&json).unwrap();
        assert_eq!(back, node);
    }

    #[test]
    fn a_page_round_trips() {
        let page = Node::document(
            1,
            vec![
                Node::doctype_html(2),
                Node::element(3, "html", &[], vec![Node::element(4, "body", &[], vec![Node::text(5, "hi")])]),
            ],
        );
        let back: Node = serde_json::from_str(&serde_json::to_string(&page).unwrap()).unwrap();
        assert_eq!(back, page);
        assert_eq!(back.count(), 5);
    }
}
