//! Rule-level edits of a stylesheet's effective CSS text (`cssins` and `cssdel` ops).
//!
//! The mirror keeps a sheet as text (what a snapshot carries), but the customer's browser names
//! rules by their index in the sheet's CSSOM. To apply an index to the text, the text is split
//! into its top-level rules with the tokenizing rules of CSS Syntax that decide where a rule
//! ends: strings, comments, escapes and nested blocks. The split is done once per sheet and then
//! kept up to date by each edit, so an edit costs a splice of the text, never a new parse.
//!
//! The SDK writes sheets as the browser serializes them (`cssText` of each rule, one per line),
//! so for real traffic the split agrees with the browser's own. For anything else the split is
//! still deterministic, and a rule to insert must be exactly one complete rule, so that
//! inserting it can never change where its neighbours begin or end.

use std::ops::Range;

/// Byte ranges of the top-level rules of `css`, in order, and whether the last one is complete
/// (ended by its block's `}` or, for a block-less at-rule, by `;`). An unterminated last rule
/// runs to the end of the text.
pub(crate) fn split_rules(css: &str) -> (Vec<Range<usize>>, bool) {
    let bytes = css.as_bytes();
    let mut rules = Vec::new();
    let mut pos = 0;
    loop {
        let (next, closed) = skip_blank(bytes, pos);
        pos = next;
        if pos >= bytes.len() {
            // An unterminated comment at the end would swallow whatever is appended.
            return (rules, closed);
        }
        let (end, complete) = rule_end(bytes, pos);
        rules.push(pos..end);
        if !complete {
            return (rules, false);
        }
        pos = end;
    }
}

/// Whether `rule` is exactly one complete top-level rule, with nothing around it but
/// whitespace.
pub(crate) fn is_one_rule(rule: &str) -> bool {
    let bytes = rule.as_bytes();
    let start = skip_whitespace(bytes, 0);
    if start >= bytes.len() || starts_comment(bytes, start) {
        return false;
    }
    let (end, complete) = rule_end(bytes, start);
    complete && skip_whitespace(bytes, end) == bytes.len()
}

/// Why a rule edit cannot be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleEditError {
    /// The index is past the end of the sheet's rules (`len` of them).
    Index { len: usize },
    /// The sheet's last rule is unterminated, so nothing can safely follow it.
    Unterminated,
}

/// A sheet's text with its rules' ranges, edited in step.
pub(crate) struct SheetEdit<'a> {
    pub text: &'a mut String,
    pub rules: &'a mut Vec<Range<usize>>,
    /// Whether the last rule of `text` is complete.
    pub complete: bool,
}

impl SheetEdit<'_> {
    /// Inserts `rule` (already checked with [`is_one_rule`]) so that it becomes rule `index`.
    pub(crate) fn insert(&mut self, index: usize, rule: &str) -> Result<(), RuleEditError> {
        let len = self.rules.len();
        if index > len {
            return Err(RuleEditError::Index { len });
        }
        let rule = rule.trim_matches(is_css_whitespace);
        let (at, inserted, start) = if index < len {
            let at = self.rules[index].start;
            (at, format!("{rule}\n"), at)
        } else {
            if !self.complete {
                return Err(RuleEditError::Unterminated);
            }
            let at = self.text.len();
            let sep = if at == 0 { "" } else { "\n" };
            (at, format!("{sep}{rule}"), at + sep.len())
        };
        self.text.insert_str(at, &inserted);
        for range in &mut self.rules[index..] {
            range.start += inserted.len();
            range.end += inserted.len();
        }
        self.rules.insert(index, start..start + rule.len());
        Ok(())
    }

    /// Deletes rule `index`, with the separator between it and its neighbour.
    pub(crate) fn delete(&mut self, index: usize) -> Result<(), RuleEditError> {
        let len = self.rules.len();
        if index >= len {
            return Err(RuleEditError::Index { len });
        }
        // Deleting an unterminated last rule takes the text's open end with it.
        let open_end = index + 1 == len && !self.complete && self.rules[index].end == self.text.len();
        let cut = if index + 1 < len {
            self.rules[index].start..self.rules[index + 1].start
        } else if index > 0 {
            self.rules[index - 1].end..self.rules[index].end
        } else {
            self.rules[index].clone()
        };
        self.text.replace_range(cut.clone(), "");
        self.rules.remove(index);
        let removed = cut.len();
        for range in &mut self.rules[index..] {
            range.start -= removed;
            range.end -= removed;
        }
        if open_end {
            self.complete = true;
        }
        Ok(())
    }
}

fn is_css_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c')
}

fn skip_whitespace(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b'\n' | b'\r' | 0x0c) {
        pos += 1;
    }
    pos
}

fn starts_comment(bytes: &[u8], pos: usize) -> bool {
    bytes.get(pos) == Some(&b'/') && bytes.get(pos + 1) == Some(&b'*')
}

/// The position after a comment starting at `pos`, or `None` when it runs to the end unclosed.
fn comment_end(bytes: &[u8], pos: usize) -> Option<usize> {
    let mut i = pos + 2;
    while i + 1 < bytes.len() {
        if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            return Some(i + 2);
        }
        i += 1;
    }
    None
}

/// Skips whitespace, comments and the `<!--` / `-->` tokens a stylesheet ignores at top level;
/// false with the end of the text when an unclosed comment runs to it.
fn skip_blank(bytes: &[u8], mut pos: usize) -> (usize, bool) {
    loop {
        pos = skip_whitespace(bytes, pos);
        if starts_comment(bytes, pos) {
            match comment_end(bytes, pos) {
                Some(end) => pos = end,
                None => return (bytes.len(), false),
            }
        } else if bytes[pos..].starts_with(b"<!--") {
            pos += 4;
        } else if bytes[pos..].starts_with(b"-->") {
            pos += 3;
        } else {
            return (pos, true);
        }
    }
}

/// Where the rule starting at `start` ends, and whether it ended properly.
fn rule_end(bytes: &[u8], start: usize) -> (usize, bool) {
    let at_rule = bytes[start] == b'@';
    // Closers expected for the open blocks, innermost last.
    let mut open: Vec<u8> = Vec::new();
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\\' => {
                // An escape: the next character is literal (an escaped newline is not an escape,
                // but skipping it is harmless as it opens or closes nothing).
                i += 2;
                continue;
            }
            b'"' | b'\'' => {
                i = string_end(bytes, i);
                continue;
            }
            b'/' if starts_comment(bytes, i) => {
                match comment_end(bytes, i) {
                    Some(end) => i = end,
                    None => return (bytes.len(), false),
                }
                continue;
            }
            b'{' => open.push(b'}'),
            b'[' => open.push(b']'),
            b'(' => open.push(b')'),
            // A closer that matches nothing open is an ordinary token.
            b'}' | b']' | b')' if open.last() == Some(&b) => {
                open.pop();
                if b == b'}' && open.is_empty() {
                    return (i + 1, true);
                }
            }
            b';' if at_rule && open.is_empty() => return (i + 1, true),
            _ => {}
        }
        i += 1;
    }
    (bytes.len(), false)
}

/// The position after the string whose quote is at `pos`. A newline ends a string (it is then a
/// bad string, which still ends there); so does the end of the text.
fn string_end(bytes: &[u8], pos: usize) -> usize {
    let quote = bytes[pos];
    let mut i = pos + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' | b'\r' | 0x0c => return i,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(css: &str) -> Vec<&str> {
        split_rules(css).0.into_iter().map(|r| &css[r]).collect()
    }

    #[test]
    fn splits_top_level_rules_past_strings_comments_escapes_and_nesting() {
        let css = "/* head */ @charset \"utf-8\";\n.a{content:\"}\"}\n@media (min-width: 1px) { .b { color: red } }\n\
                   .c\\{ { x: '{' } <!-- --> @import url(\"x;y\");.d[title=\"]\"]{}";
        assert_eq!(
            texts(css),
            [
                "@charset \"utf-8\";",
                ".a{content:\"}\"}",
                "@media (min-width: 1px) { .b { color: red } }",
                ".c\\{ { x: '{' }",
                "@import url(\"x;y\");",
                ".d[title=\"]\"]{}"
            ]
        );
        assert!(split_rules(css).1);
        assert_eq!(split_rules("").0, vec![]);
        assert_eq!(split_rules("  /* only a comment */ ").0, vec![]);
    }

    #[test]
    fn an_unterminated_last_rule_runs_to_the_end() {
        let (rules, complete) = split_rules("a{} b{color:red");
        assert_eq!(rules, vec![0..3, 4..15]);
        assert!(!complete);
        let one = |range: Range<usize>| (vec![range], false);
        assert_eq!(split_rules("a{} /* open"), one(0..3));
        assert_eq!(split_rules("a{ /*/ }"), one(0..8));
        assert!(!split_rules("@import 'x'").1);
    }

    #[test]
    fn one_rule_means_exactly_one_complete_rule() {
        assert!(is_one_rule(".a{color:red}"));
        assert!(is_one_rule("  @media print{.a{}}\n"));
        assert!(is_one_rule("@import url(x.css);"));
        for bad in ["", "  ", ".a{}.b{}", ".a{", "@import 'x'", "/* c */.a{}", ".a{} /* c */", "a{}}"] {
            assert!(!is_one_rule(bad), "{bad:?}");
        }
    }

    fn edit(css: &str, f: impl FnOnce(&mut SheetEdit) -> Result<(), RuleEditError>) -> Result<String, RuleEditError> {
        let mut text = css.to_string();
        let (mut rules, complete) = split_rules(css);
        let mut sheet = SheetEdit { text: &mut text, rules: &mut rules, complete };
        f(&mut sheet)?;
        let complete = sheet.complete;
        // The kept ranges must be what a fresh split finds.
        assert_eq!(split_rules(&text), (rules, complete));
        Ok(text)
    }

    #[test]
    fn inserts_and_deletes_keep_the_ranges_true() {
        let css = ".a{}\n.b{}\n.c{}";
        assert_eq!(edit(css, |s| s.insert(0, ".z{}")).unwrap(), ".z{}\n.a{}\n.b{}\n.c{}");
        assert_eq!(edit(css, |s| s.insert(2, " .z{} ")).unwrap(), ".a{}\n.b{}\n.z{}\n.c{}");
        assert_eq!(edit(css, |s| s.insert(3, ".z{}")).unwrap(), ".a{}\n.b{}\n.c{}\n.z{}");
        assert_eq!(edit("", |s| s.insert(0, ".z{}")).unwrap(), ".z{}");
        assert_eq!(edit(css, |s| s.delete(0)).unwrap(), ".b{}\n.c{}");
        assert_eq!(edit(css, |s| s.delete(1)).unwrap(), ".a{}\n.c{}");
        assert_eq!(edit(css, |s| s.delete(2)).unwrap(), ".a{}\n.b{}");
        assert_eq!(edit(".a{}", |s| s.delete(0)).unwrap(), "");
        assert_eq!(
            edit(css, |s| {
                s.delete(0)?;
                s.insert(2, ".d{}")?;
                s.delete(1)?;
                s.insert(0, "@media x{.e{}}")
            })
            .unwrap(),
            "@media x{.e{}}\n.b{}\n.d{}"
        );
    }

    #[test]
    fn bad_edits_are_errors() {
        assert_eq!(edit(".a{}", |s| s.insert(2, ".z{}")), Err(RuleEditError::Index { len: 1 }));
        assert_eq!(edit(".a{}", |s| s.delete(1)), Err(RuleEditError::Index { len: 1 }));
        assert_eq!(edit("", |s| s.delete(0)), Err(RuleEditError::Index { len: 0 }));
        assert_eq!(edit(".a{} .b{", |s| s.insert(2, ".z{}")), Err(RuleEditError::Unterminated));
        // Before an unterminated rule is fine, and deleting it makes the sheet whole again.
        assert_eq!(edit(".a{} .b{", |s| s.insert(1, ".z{}")).unwrap(), ".a{} .z{}\n.b{");
        assert_eq!(edit(".a{} .b{", |s| s.delete(1)).unwrap(), ".a{}");
        assert_eq!(edit(".a{} /* open", |s| s.insert(1, ".z{}")), Err(RuleEditError::Unterminated));
        assert_eq!(edit(".a{} /* open", |s| s.delete(0)).unwrap(), " /* open");
    }
}
