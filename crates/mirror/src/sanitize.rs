//! The rules that keep executable content away from an agent's browser.
//!
//! Pure functions over names and values, shared by the snapshot path (whole nodes) and the
//! mutation path (single `attr` ops), so both paths refuse exactly the same things:
//!
//! - `script` elements keep their place in the tree but lose every attribute, and their text
//!   children lose their data.
//! - `on*` event handler attributes and `srcdoc` are dropped everywhere.
//! - Values that are `javascript:`, `vbscript:` or `data:text/html` URLs (after removing ASCII
//!   whitespace and control characters, ignoring case) are dropped.
//! - `src` of `iframe`/`frame`/`embed` and `data` of `object` are dropped: embedded browsing
//!   contexts never load in the viewer (same-origin iframe content arrives as a frame document).
//! - `<meta http-equiv=refresh>` loses `http-equiv` and `content`; `<base>` loses `href` and
//!   `target`; SVG `set`/`animate` that target `href` lose `to`, `from`, `values` and `by`.
//!
//! Element names are compared ASCII case-insensitively in every namespace. That is broader than
//! the HTML parser (an SVG `SCRIPT` or a MathML `script` never runs) on purpose: refusing a few
//! harmless attributes costs nothing, missing a live one would.

use cobrowse_protocol::{Attr, Node, NodeKind};

/// What the sanitizer needs to know about an element, decided once from its kind and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    /// `script`: attributes and text data are dropped.
    Script,
    /// `iframe` or `frame`: `src` dropped; may carry a frame document.
    FrameOwner,
    /// `embed`: `src` dropped.
    Embed,
    /// `object`: `data` dropped.
    Object,
    /// `meta`: `http-equiv=refresh` dropped.
    Meta,
    /// `base`: `href` and `target` dropped.
    Base,
    /// SVG `set` or `animate`: may not animate `href` to a value.
    Animation,
    /// `input`, `textarea` or `select`: the only elements with form state.
    FormField,
    /// Any other element.
    OtherElement,
    /// Not an element.
    NotElement,
}

impl Tag {
    /// Classifies a node by its kind and (element) name.
    pub(crate) fn of(kind: NodeKind, name: Option<&str>) -> Tag {
        if kind != NodeKind::Element {
            return Tag::NotElement;
        }
        let Some(name) = name else { return Tag::OtherElement };
        const TAGS: [(&str, Tag); 12] = [
            ("script", Tag::Script),
            ("iframe", Tag::FrameOwner),
            ("frame", Tag::FrameOwner),
            ("embed", Tag::Embed),
            ("object", Tag::Object),
            ("meta", Tag::Meta),
            ("base", Tag::Base),
            ("set", Tag::Animation),
            ("animate", Tag::Animation),
            ("input", Tag::FormField),
            ("textarea", Tag::FormField),
            ("select", Tag::FormField),
        ];
        TAGS.iter().find(|(n, _)| name.eq_ignore_ascii_case(n)).map_or(Tag::OtherElement, |(_, tag)| *tag)
    }
}

/// Attributes an SVG animation element uses to give the animated attribute its values.
const ANIMATION_VALUES: [&str; 4] = ["to", "from", "values", "by"];

/// True when an attribute with this name is never kept on an element with this tag, whatever
/// its value.
pub(crate) fn forbidden_name(tag: Tag, name: &str) -> bool {
    let starts_with_on = name.len() >= 2 && name.as_bytes()[..2].eq_ignore_ascii_case(b"on");
    starts_with_on
        || name.eq_ignore_ascii_case("srcdoc")
        || match tag {
            Tag::FrameOwner | Tag::Embed => name.eq_ignore_ascii_case("src"),
            Tag::Object => name.eq_ignore_ascii_case("data"),
            Tag::Base => name.eq_ignore_ascii_case("href") || name.eq_ignore_ascii_case("target"),
            _ => false,
        }
}

/// True when `value` is a URL that would run code if followed: `javascript:`, `vbscript:` or
/// `data:text/html`, once ASCII whitespace and control characters are removed and case ignored.
pub(crate) fn is_dangerous_url(value: &str) -> bool {
    const SCHEMES: [&[u8]; 3] = [b"javascript:", b"vbscript:", b"data:text/html"];
    const LONGEST: usize = 14;
    let mut head = [0u8; LONGEST];
    let mut len = 0;
    for byte in value.bytes().filter(|b| *b > b' ' && *b != 0x7f) {
        if len == LONGEST {
            break;
        }
        head[len] = byte.to_ascii_lowercase();
        len += 1;
    }
    let head = &head[..len];
    SCHEMES.iter().any(|scheme| head.starts_with(scheme))
}

/// True when a `meta` element's `http-equiv` value asks for a refresh.
fn is_refresh(value: &str) -> bool {
    value.trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control()).eq_ignore_ascii_case("refresh")
}

/// True when an animation element's `attributeName` value targets a link.
fn targets_href(value: &str) -> bool {
    let value = value.trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control());
    value.eq_ignore_ascii_case("href") || value.eq_ignore_ascii_case("xlink:href")
}

fn is_animation_value(name: &str) -> bool {
    ANIMATION_VALUES.iter().any(|n| name.eq_ignore_ascii_case(n))
}

fn has_attr(attrs: &[Attr], name: &str, test: fn(&str) -> bool) -> bool {
    attrs.iter().any(|a| a.name.eq_ignore_ascii_case(name) && test(&a.value))
}

/// Removes from `attrs` everything the rules forbid on an element with this tag. Returns true
/// when anything was removed.
pub(crate) fn clean_attrs(tag: Tag, attrs: &mut Vec<Attr>) -> bool {
    let before = attrs.len();
    if tag == Tag::Script {
        attrs.clear();
        return before > 0;
    }
    attrs.retain(|a| !forbidden_name(tag, &a.name) && !is_dangerous_url(&a.value));
    match tag {
        Tag::Meta if has_attr(attrs, "http-equiv", is_refresh) => {
            attrs.retain(|a| !a.name.eq_ignore_ascii_case("http-equiv") && !a.name.eq_ignore_ascii_case("content"));
        }
        Tag::Animation if has_attr(attrs, "attributeName", targets_href) => {
            attrs.retain(|a| !is_animation_value(&a.name));
        }
        _ => {}
    }
    attrs.len() != before
}

/// Sanitizes one node's own content in place (not its subtree): its attributes, its data when it
/// is a text node inside a `script`, and form state anywhere but on a form field (the only place
/// the protocol puts it). Returns true when anything changed.
pub(crate) fn clean_node(node: &mut Node, tag: Tag, parent_is_script: bool) -> bool {
    let mut changed = clean_attrs(tag, &mut node.attrs);
    if parent_is_script && node.kind == NodeKind::Text {
        if let Some(text) = node.text.as_mut().filter(|t| !t.is_empty()) {
            text.clear();
            changed = true;
        }
    }
    if tag != Tag::FormField && node.state.take().is_some() {
        changed = true;
    }
    changed
}

/// What to do with one `attr` op, given the element's tag and its current attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrVerdict {
    /// Apply the op as sent.
    Keep,
    /// Leave it out of the batch: it would set something that is never kept.
    Drop,
    /// Turn it into a removal of the attribute (its value is refused, and an older value may
    /// still be in the viewer).
    Remove,
}

/// Decides an `attr` op that sets `name` to `value` (`None` removes it).
pub(crate) fn judge_attr_op(tag: Tag, current: &[Attr], name: &str, value: Option<&str>) -> AttrVerdict {
    if tag == Tag::Script {
        return AttrVerdict::Drop;
    }
    let Some(value) = value else { return AttrVerdict::Keep };
    if forbidden_name(tag, name) {
        return AttrVerdict::Drop;
    }
    if is_dangerous_url(value) {
        return AttrVerdict::Remove;
    }
    match tag {
        Tag::Meta if name.eq_ignore_ascii_case("http-equiv") && is_refresh(value) => AttrVerdict::Remove,
        Tag::Meta if name.eq_ignore_ascii_case("content") && has_attr(current, "http-equiv", is_refresh) => {
            AttrVerdict::Drop
        }
        Tag::Animation if is_animation_value(name) && has_attr(current, "attributeName", targets_href) => {
            AttrVerdict::Drop
        }
        _ => AttrVerdict::Keep,
    }
}

/// The attributes that must go as well once an `attr` op set `name` to `value`: `content` when a
/// meta's `http-equiv` turns into refresh, the animation values when `attributeName` turns into
/// `href`. Names are compared case-insensitively with the element's attributes.
pub(crate) fn follow_up_removals(tag: Tag, name: &str, value: &str) -> &'static [&'static str] {
    match tag {
        Tag::Meta if name.eq_ignore_ascii_case("http-equiv") && is_refresh(value) => &["content"],
        Tag::Animation if name.eq_ignore_ascii_case("attributeName") && targets_href(value) => &ANIMATION_VALUES,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> Vec<Attr> {
        pairs.iter().map(|(n, v)| Attr::new(*n, *v)).collect()
    }

    #[test]
    fn tags_ignore_case() {
        assert_eq!(Tag::of(NodeKind::Element, Some("SCRIPT")), Tag::Script);
        assert_eq!(Tag::of(NodeKind::Element, Some("IFrame")), Tag::FrameOwner);
        assert_eq!(Tag::of(NodeKind::Element, Some("select")), Tag::FormField);
        assert_eq!(Tag::of(NodeKind::Element, Some("div")), Tag::OtherElement);
        assert_eq!(Tag::of(NodeKind::Text, Some("script")), Tag::NotElement);
    }

    #[test]
    fn dangerous_urls_are_found_through_whitespace_controls_and_case() {
        for bad in [
            "javascript:alert(1)",
            "  JavaScript:alert(1)",
            "java\tscript:x",
            "java\nscript:x",
            "\u{1}javascript:x",
            "j a v a s c r i p t :x",
            "VBScript:msgbox",
            "data:text/html,<script>",
            "DATA:TEXT/HTML;base64,AAAA",
            "java\u{7f}script:x",
        ] {
            assert!(is_dangerous_url(bad), "{bad:?}");
        }
        for fine in ["https://a/", "/javascript:x", "data:image/png;base64,AA", "javascript", "", "ja", "ｊavascript:x"]
        {
            assert!(!is_dangerous_url(fine), "{fine:?}");
        }
    }

    #[test]
    fn forbidden_names() {
        assert!(forbidden_name(Tag::OtherElement, "onclick"));
        assert!(forbidden_name(Tag::OtherElement, "ONLOAD"));
        assert!(forbidden_name(Tag::OtherElement, "on"));
        assert!(!forbidden_name(Tag::OtherElement, "o"));
        assert!(forbidden_name(Tag::OtherElement, "SrcDoc"));
        assert!(forbidden_name(Tag::FrameOwner, "src"));
        assert!(forbidden_name(Tag::Embed, "SRC"));
        assert!(!forbidden_name(Tag::OtherElement, "src"));
        assert!(forbidden_name(Tag::Object, "data"));
        assert!(!forbidden_name(Tag::OtherElement, "data"));
        assert!(forbidden_name(Tag::Base, "href"));
        assert!(forbidden_name(Tag::Base, "target"));
        assert!(!forbidden_name(Tag::OtherElement, "href"));
    }

    #[test]
    fn clean_attrs_applies_every_rule() {
        let mut a = attrs(&[("src", "x.js"), ("type", "module")]);
        assert!(clean_attrs(Tag::Script, &mut a));
        assert!(a.is_empty());

        let mut a = attrs(&[("class", "a"), ("onclick", "x()"), ("href", " javascript:x"), ("srcdoc", "<b>")]);
        assert!(clean_attrs(Tag::OtherElement, &mut a));
        assert_eq!(a, attrs(&[("class", "a")]));

        let mut a = attrs(&[("http-equiv", " Refresh "), ("content", "0;url=/x"), ("name", "n")]);
        assert!(clean_attrs(Tag::Meta, &mut a));
        assert_eq!(a, attrs(&[("name", "n")]));

        let mut a = attrs(&[("http-equiv", "content-type"), ("content", "text/html")]);
        assert!(!clean_attrs(Tag::Meta, &mut a));
        assert_eq!(a.len(), 2);

        let mut a = attrs(&[("attributeName", "xlink:href"), ("to", "x"), ("values", "a;b"), ("dur", "1s")]);
        assert!(clean_attrs(Tag::Animation, &mut a));
        assert_eq!(a, attrs(&[("attributeName", "xlink:href"), ("dur", "1s")]));

        let mut a = attrs(&[("attributeName", "fill"), ("to", "red")]);
        assert!(!clean_attrs(Tag::Animation, &mut a));

        let mut a = attrs(&[("href", "/x"), ("target", "_top"), ("id", "b")]);
        assert!(clean_attrs(Tag::Base, &mut a));
        assert_eq!(a, attrs(&[("id", "b")]));

        let mut a = attrs(&[("src", "/x"), ("width", "3")]);
        assert!(clean_attrs(Tag::FrameOwner, &mut a));
        assert_eq!(a, attrs(&[("width", "3")]));
    }

    #[test]
    fn attr_op_verdicts() {
        use AttrVerdict::*;
        assert_eq!(judge_attr_op(Tag::Script, &[], "type", Some("x")), Drop);
        assert_eq!(judge_attr_op(Tag::Script, &[], "type", None), Drop);
        assert_eq!(judge_attr_op(Tag::OtherElement, &[], "onclick", Some("x")), Drop);
        assert_eq!(judge_attr_op(Tag::OtherElement, &[], "onclick", None), Keep);
        assert_eq!(judge_attr_op(Tag::OtherElement, &[], "href", Some("javascript:x")), Remove);
        assert_eq!(judge_attr_op(Tag::OtherElement, &[], "href", Some("/x")), Keep);
        assert_eq!(judge_attr_op(Tag::Meta, &[], "http-equiv", Some("REFRESH")), Remove);
        let refresh = attrs(&[("http-equiv", "refresh")]);
        assert_eq!(judge_attr_op(Tag::Meta, &refresh, "content", Some("0")), Drop);
        assert_eq!(judge_attr_op(Tag::Meta, &[], "content", Some("0")), Keep);
        let href = attrs(&[("attributeName", "href")]);
        assert_eq!(judge_attr_op(Tag::Animation, &href, "to", Some("/x")), Drop);
        assert_eq!(judge_attr_op(Tag::Animation, &[], "to", Some("/x")), Keep);
        assert_eq!(follow_up_removals(Tag::Meta, "http-equiv", "refresh"), &["content"]);
        assert_eq!(follow_up_removals(Tag::Animation, "attributeName", "href").len(), 4);
        assert!(follow_up_removals(Tag::OtherElement, "attributeName", "href").is_empty());
    }
}
