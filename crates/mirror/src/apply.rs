//! Applying `snapshot` and `mut` frames: validation, in-place sanitization, and the change to
//! the tree. Every op costs time in proportion to what it touches (the added or removed
//! subtree, the node's attributes), never to the size of the page.

use crate::arena::{Attach, ScrollPos, SheetRules, NONE};
use crate::css_rules::{self, RuleEditError, SheetEdit};
use crate::error::MirrorError;
use crate::insert::Place;
use crate::mirror::{Applied, Mirror};
use crate::sanitize::{follow_up_removals, judge_attr_op, AttrVerdict, Tag};
use cobrowse_protocol::{Attr, Mutations, NodeId, NodeKind, Op, Snapshot};

impl Mirror {
    /// Sanitizes `snapshot` in place (so the server can forward the sanitized version) and
    /// replaces the page with it. Clears any stale flag.
    ///
    /// Scroll entries and focus that name a node the snapshot does not have (or one that cannot
    /// scroll or take focus) are removed from it, as are repeated scroll entries for one node
    /// (the last wins); this counts as a change.
    ///
    /// A snapshot that is malformed, repeats a node ID or exceeds a limit is refused: the mirror
    /// is left without a page, stale, until a good snapshot arrives. Its URL, title and viewport
    /// are kept all the same (the customer is on that page, whatever its DOM).
    pub fn apply_snapshot(&mut self, snapshot: &mut Snapshot) -> Result<Applied, MirrorError> {
        self.drop_tree(false);
        self.stale = false;
        self.url = Some(snapshot.url.clone());
        self.title = Some(snapshot.title.clone());
        self.charset.clone_from(&snapshot.charset);
        self.mode = snapshot.mode;
        self.viewport = snapshot.vp;

        let mut changed = false;
        match self.insert(&mut snapshot.doc, Place::ROOT, &mut changed) {
            Ok(root) => {
                self.root = root;
                self.arena.trim();
            }
            Err(err) => {
                self.invalidate();
                return Err(err);
            }
        }
        changed |= self.take_snapshot_scroll(snapshot);
        changed |= self.take_snapshot_focus(snapshot);
        Ok(Applied { changed })
    }

    /// Records the snapshot's scroll positions, removing from it those the mirror cannot keep.
    fn take_snapshot_scroll(&mut self, snapshot: &mut Snapshot) -> bool {
        let mut seq = 0;
        for entry in &snapshot.scroll {
            if let Some(index) = self.scrollable(entry.id) {
                self.arena.set_scroll(index, Some(ScrollPos { x: entry.x, y: entry.y, seq }));
            }
            seq += 1;
        }
        self.scroll_seq = seq;
        let before = snapshot.scroll.len();
        let mut seq = 0;
        snapshot.scroll.retain(|entry| {
            // Kept when its node can scroll and no later entry for the same node replaced it.
            let keep = self.scrollable(entry.id).and_then(|i| self.arena.slot(i).scroll).is_some_and(|s| s.seq == seq);
            seq += 1;
            keep
        });
        snapshot.scroll.len() != before
    }

    /// Records the snapshot's focus, removing it from the snapshot when its node is unknown or
    /// not an element.
    fn take_snapshot_focus(&mut self, snapshot: &mut Snapshot) -> bool {
        let Some(focus) = snapshot.focus else { return false };
        match focus.id.map(|id| self.focusable(id)) {
            None => {
                self.focus = Some(focus);
                false
            }
            Some(Ok(index)) => {
                self.focus = Some(focus);
                self.focus_slot = index;
                false
            }
            Some(Err(_)) => {
                snapshot.focus = None;
                true
            }
        }
    }

    /// Validates, sanitizes in place and applies a batch, in order.
    ///
    /// Ops that would only set something the sanitizer never keeps (an `onclick`, an attribute
    /// of a `script`, the data of a script's text) are removed from the batch; an attribute set
    /// to a `javascript:` URL becomes its removal; ops may be added to remove attributes that a
    /// change made dangerous (a meta's `content` once its `http-equiv` is `refresh`). None of
    /// that is an error; it sets [`Applied::changed`].
    ///
    /// Any refused op refuses the batch and makes the mirror stale (the tree is dropped: it may
    /// be half-applied); the batch's content is then unspecified and must not be forwarded.
    pub fn apply_mutations(&mut self, batch: &mut Mutations) -> Result<Applied, MirrorError> {
        self.require_page()?;
        let ops = std::mem::take(&mut batch.ops);
        let mut out = Vec::with_capacity(ops.len());
        let mut changed = false;
        for op in ops {
            if let Err(err) = self.apply_op(op, &mut out, &mut changed) {
                self.invalidate();
                batch.ops = out;
                return Err(err);
            }
        }
        batch.ops = out;
        Ok(Applied { changed })
    }

    /// Applies one op, pushing what remains of it after sanitization (and any follow-up ops)
    /// onto `out`.
    fn apply_op(&mut self, op: Op, out: &mut Vec<Op>, changed: &mut bool) -> Result<(), MirrorError> {
        match op {
            Op::Add { parent, before, mut node } => {
                let parent_index = self.lookup(parent)?;
                let before_index = match before {
                    None => NONE,
                    Some(id) => {
                        let index = self.lookup(id)?;
                        let slot = self.arena.slot(index);
                        if slot.parent != parent_index || slot.attach != Attach::Child {
                            return Err(MirrorError::NotAChild { parent, before: id });
                        }
                        index
                    }
                };
                self.insert(&mut node, Place::child(parent_index, before_index), changed)?;
                out.push(Op::Add { parent, before, node });
            }
            Op::Remove { id } => {
                let index = self.lookup(id)?;
                if self.arena.slot(index).attach != Attach::Child {
                    return Err(MirrorError::WrongKind {
                        id,
                        expected: "a child node (documents and shadow roots stay)",
                    });
                }
                self.free_subtree(index);
                out.push(op);
            }
            Op::Attr { id, name, value } => self.apply_attr(id, name, value, out, changed)?,
            Op::Text { id, text } => {
                let index = self.lookup(id)?;
                let slot = self.arena.slot(index);
                if !matches!(slot.kind, NodeKind::Text | NodeKind::Comment) {
                    return Err(MirrorError::WrongKind { id, expected: "a text or comment node" });
                }
                if slot.script_text {
                    *changed = true;
                    return Ok(());
                }
                self.arena.edit(index, |slot| overwrite_opt(&mut slot.text, Some(&text)));
                self.check_bytes()?;
                out.push(Op::Text { id, text });
            }
            Op::Css { id, ref text } => {
                let index = self.lookup(id)?;
                if self.arena.slot(index).kind != NodeKind::Element {
                    return Err(MirrorError::WrongKind { id, expected: "an element" });
                }
                self.arena.edit(index, |slot| {
                    let extra = slot.extra_mut();
                    overwrite_opt(&mut extra.sheet_text, text.as_deref());
                    extra.sheet_rules = None;
                });
                self.check_bytes()?;
                out.push(op);
            }
            Op::CssInsert { id, index, ref rule } => {
                if !css_rules::is_one_rule(rule) {
                    return Err(MirrorError::Malformed {
                        id,
                        reason: "a cssins rule must be exactly one complete CSS rule",
                    });
                }
                self.edit_sheet(id, index, |sheet| sheet.insert(index as usize, rule))?;
                out.push(op);
            }
            Op::CssDelete { id, index } => {
                self.edit_sheet(id, index, |sheet| sheet.delete(index as usize))?;
                out.push(op);
            }
            Op::Adopt { id, ref sheets } => {
                let index = self.lookup(id)?;
                if !matches!(self.arena.slot(index).kind, NodeKind::Document | NodeKind::ShadowRoot) {
                    return Err(MirrorError::WrongKind { id, expected: "a document or shadow root" });
                }
                self.arena.edit(index, |slot| slot.extra_mut().adopted = Some(sheets.clone()));
                self.check_bytes()?;
                out.push(op);
            }
            Op::Mark { id, mask, restricted } => {
                let index = self.lookup(id)?;
                self.arena.edit(index, |slot| {
                    slot.mask = mask;
                    slot.restricted = restricted;
                });
                out.push(op);
            }
            Op::Shadow { host, mut root } => {
                let host_index = self.lookup(host)?;
                self.insert(&mut root, Place::shadow(host_index), changed)?;
                out.push(Op::Shadow { host, root });
            }
            Op::Frame { iframe, mut document } => {
                let index = self.lookup(iframe)?;
                let slot = self.arena.slot(index);
                if slot.tag != Tag::FrameOwner {
                    return Err(MirrorError::WrongKind { id: iframe, expected: "an iframe" });
                }
                let old = slot.frame_doc;
                if old != NONE {
                    self.free_subtree(old);
                }
                if let Some(doc) = &mut document {
                    self.insert(doc, Place::frame_doc(index), changed)?;
                }
                out.push(Op::Frame { iframe, document });
            }
        }
        Ok(())
    }

    /// Applies an `attr` op as the sanitizer decides (see [`judge_attr_op`]).
    fn apply_attr(
        &mut self,
        id: NodeId,
        name: String,
        value: Option<String>,
        out: &mut Vec<Op>,
        changed: &mut bool,
    ) -> Result<(), MirrorError> {
        let index = self.lookup(id)?;
        let slot = self.arena.slot(index);
        if slot.kind != NodeKind::Element {
            return Err(MirrorError::WrongKind { id, expected: "an element" });
        }
        let tag = slot.tag;
        let verdict = judge_attr_op(tag, &slot.attrs, &name, value.as_deref());
        let follow_ups = match (verdict, value.as_deref()) {
            (AttrVerdict::Drop, _) | (_, None) => &[][..],
            (_, Some(value)) => follow_up_removals(tag, &name, value),
        };
        let value = match verdict {
            AttrVerdict::Drop => {
                *changed = true;
                return Ok(());
            }
            AttrVerdict::Remove => {
                *changed |= value.is_some();
                None
            }
            AttrVerdict::Keep => value,
        };
        let mut removed = Vec::new();
        self.arena.edit(index, |slot| {
            match &value {
                Some(value) => match slot.attrs.iter_mut().find(|a| a.name == name) {
                    Some(attr) => overwrite(&mut attr.value, value),
                    None => slot.attrs.push(Attr::new(name.clone(), value.clone())),
                },
                None => slot.attrs.retain(|a| a.name != name),
            }
            if !follow_ups.is_empty() {
                slot.attrs.retain(|a| {
                    let drop = follow_ups.iter().any(|n| a.name.eq_ignore_ascii_case(n));
                    if drop {
                        removed.push(a.name.clone());
                    }
                    !drop
                });
            }
        });
        self.check_bytes()?;
        out.push(Op::Attr { id, name, value });
        if !removed.is_empty() {
            *changed = true;
            out.extend(removed.into_iter().map(|name| Op::Attr { id, name, value: None }));
        }
        Ok(())
    }

    /// Applies a rule edit to the effective CSS that an earlier `css` op (or the node's `css` in
    /// a snapshot or `add`) gave element `id`. The rules' places are found on the first edit
    /// and kept by each one after, so an edit costs a splice of the text.
    fn edit_sheet(
        &mut self,
        id: NodeId,
        index: u32,
        edit: impl FnOnce(&mut SheetEdit) -> Result<(), RuleEditError>,
    ) -> Result<(), MirrorError> {
        let slot_index = self.lookup(id)?;
        let slot = self.arena.slot(slot_index);
        if slot.kind != NodeKind::Element {
            return Err(MirrorError::WrongKind { id, expected: "an element" });
        }
        if slot.extra.as_ref().and_then(|e| e.sheet_text.as_ref()).is_none() {
            return Err(MirrorError::WrongKind {
                id,
                expected: "an element with effective CSS (a css op comes first)",
            });
        }
        let result = self.arena.edit(slot_index, |slot| {
            let extra = slot.extra_mut();
            let text = extra.sheet_text.as_mut().expect("checked above");
            let rules = extra.sheet_rules.get_or_insert_with(|| {
                let (ranges, complete) = css_rules::split_rules(text);
                SheetRules { ranges, complete }
            });
            let mut sheet = SheetEdit { text, rules: &mut rules.ranges, complete: rules.complete };
            let result = edit(&mut sheet);
            rules.complete = sheet.complete;
            result
        });
        match result {
            Ok(()) => self.check_bytes(),
            Err(RuleEditError::Index { len }) => Err(MirrorError::RuleIndex { id, index, rules: len }),
            Err(RuleEditError::Unterminated) => {
                Err(MirrorError::RuleIndex { id, index, rules: self.rule_count(slot_index) })
            }
        }
    }

    fn rule_count(&self, index: u32) -> usize {
        let extra = self.arena.slot(index).extra.as_deref();
        extra.and_then(|e| e.sheet_rules.as_ref()).map_or(0, |r| r.ranges.len())
    }

    fn check_bytes(&self) -> Result<(), MirrorError> {
        if self.arena.bytes() > self.limits.max_bytes {
            return Err(MirrorError::LimitExceeded { what: "bytes", limit: self.limits.max_bytes });
        }
        Ok(())
    }
}

/// Writes `new` over a string a node holds. The old buffer is kept when it is at most about twice
/// what `new` needs: a frequent change (a ticking counter, a class toggled) then costs no
/// allocation and frees nothing in the pages of long-lived nodes. A string that shrank a long way
/// gets a buffer of its new size, so what a node retains stays within about twice the length the
/// byte limit counts, however a client grows and shrinks it.
fn overwrite(held: &mut String, new: &str) {
    if held.capacity() <= new.len().saturating_mul(2).saturating_add(64) {
        held.clear();
        held.push_str(new);
    } else {
        *held = new.to_owned();
    }
}

/// [`overwrite`] for a string that may be absent.
fn overwrite_opt(held: &mut Option<String>, new: Option<&str>) {
    match (held.as_mut(), new) {
        (Some(held), Some(new)) => overwrite(held, new),
        (_, new) => *held = new.map(str::to_owned),
    }
}

#[cfg(test)]
mod overwrite_tests {
    use super::{overwrite, overwrite_opt};

    #[test]
    fn a_change_of_similar_length_keeps_the_buffer() {
        let mut held = "value 1 updated".repeat(10);
        let before = held.as_ptr();
        overwrite(&mut held, &"value 2 updated".repeat(10));
        assert_eq!(held, "value 2 updated".repeat(10));
        assert_eq!(held.as_ptr(), before, "no new allocation");
    }

    #[test]
    fn a_string_that_shrank_a_long_way_gives_its_memory_back() {
        let mut held = "x".repeat(1 << 20);
        overwrite(&mut held, "short");
        assert_eq!(held, "short");
        assert!(held.capacity() < 1024, "capacity {}", held.capacity());
    }

    #[test]
    fn growing_keeps_the_buffer_within_twice_the_length() {
        let mut held = String::from("a");
        for len in [10, 100, 1_000, 10_000] {
            let new = "b".repeat(len);
            overwrite(&mut held, &new);
            assert_eq!(held, new);
            assert!(held.capacity() <= 2 * len + 64, "capacity {} for {len}", held.capacity());
        }
    }

    #[test]
    fn absent_strings_appear_and_disappear() {
        let mut held = None;
        overwrite_opt(&mut held, Some("css"));
        assert_eq!(held.as_deref(), Some("css"));
        overwrite_opt(&mut held, None);
        assert_eq!(held, None);
    }
}
