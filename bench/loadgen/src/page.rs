//! The page a simulated customer shares and the frames it sends about it.
//!
//! Every delta is valid against the snapshot, so the server's mirror applies all of it: text ops
//! on the snapshot's text nodes, attribute ops on its elements, and for the large frames an
//! `add` of a fresh subtree followed by its `rm` in the same batch (the mirror does both, and
//! its size stays that of the snapshot). Every frame carries the customer's sequence number and
//! a send time in microseconds on the generator's clock, so the receiver computes the one-way
//! latency on the same clock and finds missing frames even when the relay renumbers them.

use std::fmt::Write as _;

/// How big the shared page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageSize {
    /// About 40 nodes: the mirror holds almost nothing, so per-session memory is the relay's own.
    Tiny,
    /// About 1,500 nodes and 100 KB of JSON: an ordinary content page.
    Realistic,
}

/// A generated page: the snapshot body and the node IDs deltas may name.
pub struct Page {
    /// Body of the `snapshot` frame (without `[tag, seq, …]`).
    pub snapshot_body: String,
    /// Node count of the snapshot.
    pub nodes: u32,
    /// Text nodes that `text` ops rewrite.
    text_ids: Vec<u32>,
    /// Elements that `attr` ops change.
    element_ids: Vec<u32>,
    /// The element under which large frames add and remove a subtree.
    container: u32,
    /// First ID never used by the snapshot.
    first_free_id: u32,
}

/// Which kind of frame the mix picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `pointer`, about 40 bytes.
    Pointer,
    /// `scroll`, about 40 bytes.
    Scroll,
    /// A `mut` batch of about 1.5 KB.
    Medium,
    /// A `mut` batch of about 20 KB.
    Large,
}

impl Kind {
    /// Index into per-kind tables.
    pub fn index(self) -> usize {
        match self {
            Kind::Pointer => 0,
            Kind::Scroll => 1,
            Kind::Medium => 2,
            Kind::Large => 3,
        }
    }

    /// Names in reports.
    pub const NAMES: [&'static str; 4] = ["pointer", "scroll", "mut_1_5k", "mut_20k"];

    /// The frame mix: 70 % small (pointer and scroll, half each), 25 % ~1.5 KB batches, 5 %
    /// ~20 KB batches. `roll` is uniform in 0..1000.
    pub fn pick(roll: u32) -> Kind {
        match roll {
            0..=349 => Kind::Pointer,
            350..=699 => Kind::Scroll,
            700..=949 => Kind::Medium,
            _ => Kind::Large,
        }
    }

    /// The frame's tag.
    pub fn tag(self) -> &'static str {
        match self {
            Kind::Pointer => "pointer",
            Kind::Scroll => "scroll",
            Kind::Medium | Kind::Large => "mut",
        }
    }
}

const WORDS: [&str; 16] = [
    "account",
    "balance",
    "transfer",
    "statement",
    "payment",
    "savings",
    "interest",
    "card",
    "limit",
    "branch",
    "online",
    "secure",
    "review",
    "confirm",
    "details",
    "history",
];

/// Deterministic filler text of about `len` characters.
fn filler(seed: u32, len: usize) -> String {
    let mut text = String::with_capacity(len + 12);
    let mut i = seed as usize;
    while text.len() < len {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(WORDS[i % WORDS.len()]);
        i = i.wrapping_mul(31).wrapping_add(7);
    }
    text
}

/// Writes the snapshot JSON by hand: the node tree of `docs/protocol.md` section 5.
struct Builder {
    json: String,
    next_id: u32,
    text_ids: Vec<u32>,
    element_ids: Vec<u32>,
}

impl Builder {
    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Opens an element: `{"id":…,"k":"e","n":name,"a":{…},"c":[`.
    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> u32 {
        let id = self.id();
        let _ = write!(self.json, r#"{{"id":{id},"k":"e","n":"{name}""#);
        if !attrs.is_empty() {
            self.json.push_str(r#","a":{"#);
            for (i, (k, v)) in attrs.iter().enumerate() {
                if i > 0 {
                    self.json.push(',');
                }
                let _ = write!(self.json, r#""{k}":"{v}""#);
            }
            self.json.push('}');
        }
        self.json.push_str(r#","c":["#);
        id
    }

    fn close(&mut self) {
        if self.json.ends_with(',') {
            self.json.pop();
        }
        self.json.push_str("]},");
    }

    fn text(&mut self, data: &str) -> u32 {
        let id = self.id();
        let _ = write!(self.json, r#"{{"id":{id},"k":"x","v":"{data}"}},"#);
        id
    }

    /// `<name attrs>text</name>`; returns (element, text node).
    fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], data: &str) -> (u32, u32) {
        let element = self.open(name, attrs);
        let text = self.text(data);
        self.close();
        (element, text)
    }
}

impl Page {
    /// Builds the page of the given size.
    pub fn new(size: PageSize) -> Page {
        let (sections, paragraphs, items, css_rules) = match size {
            PageSize::Tiny => (2, 2, 2, 2),
            PageSize::Realistic => (48, 3, 6, 120),
        };
        let mut b = Builder { json: String::new(), next_id: 1, text_ids: Vec::new(), element_ids: Vec::new() };
        b.json.push_str(r#"{"url":"https://bank.example/accounts","title":"Accounts","charset":"UTF-8","mode":"standards","vp":{"w":1280,"h":800,"dpr":1.0},"doc":"#);
        let doc = b.id();
        let doctype = b.id();
        let _ = write!(b.json, r#"{{"id":{doc},"k":"d","c":[{{"id":{doctype},"k":"t","n":"html"}},"#);
        b.open("html", &[("lang", "en")]);
        b.open("head", &[]);
        b.leaf("title", &[], "Accounts");
        let mut css = String::new();
        for i in 0..css_rules {
            let _ = write!(css, ".c{i} .item-{i}{{margin:{}px;padding:4px 8px;color:#333}} ", i % 17);
        }
        b.leaf("style", &[], &css);
        b.close();
        b.open("body", &[("class", "page")]);
        b.open("nav", &[("class", "top")]);
        for i in 0..sections.min(12) {
            let href = format!("/section/{i}");
            let (link, _) = b.leaf("a", &[("href", &href), ("class", "nav-link")], &filler(i, 12));
            b.element_ids.push(link);
        }
        b.close();
        b.open("main", &[("id", "main")]);
        for s in 0..sections {
            let class = format!("card c{s}");
            let section = b.open("section", &[("class", &class)]);
            b.element_ids.push(section);
            b.leaf("h2", &[], &filler(s, 24));
            for p in 0..paragraphs {
                let (para, text) = b.leaf("p", &[("class", "body-text")], &filler(s * 7 + p, 200));
                b.element_ids.push(para);
                b.text_ids.push(text);
            }
            b.open("ul", &[("class", "items")]);
            for i in 0..items {
                let item_class = format!("item item-{i}");
                let li = b.open("li", &[("class", &item_class)]);
                b.element_ids.push(li);
                let href = format!("/item/{s}/{i}");
                let (_, text) = b.leaf("a", &[("href", &href)], &filler(s * 11 + i, 40));
                b.text_ids.push(text);
                b.close();
            }
            b.close();
            b.close();
        }
        let container = b.open("div", &[("id", "feed")]);
        b.close();
        b.close(); // main
        b.close(); // body
        b.close(); // html
        b.json.pop(); // the trailing comma after html
        b.json.push_str(r#"]},"scroll":[{"id":1,"x":0.0,"y":0.0}]}"#);
        let nodes = b.next_id - 1;
        Page {
            snapshot_body: b.json,
            nodes,
            text_ids: b.text_ids,
            element_ids: b.element_ids,
            container,
            first_free_id: b.next_id,
        }
    }

    /// The body of a frame of `kind`, stamped with the customer's `seq` and send time `micros`.
    /// `n` varies the content from one frame to the next.
    pub fn frame_body(&self, kind: Kind, seq: u64, micros: u64, n: u32) -> String {
        match kind {
            Kind::Pointer => format!(r#"{{"x":{micros},"y":{seq}}}"#),
            Kind::Scroll => format!(r#"{{"id":1,"x":{seq},"y":{micros}}}"#),
            Kind::Medium => {
                let mut body = String::with_capacity(1700);
                let t = |i: u32| self.text_ids[((n.wrapping_mul(5).wrapping_add(i)) as usize) % self.text_ids.len()];
                let e =
                    |i: u32| self.element_ids[((n.wrapping_mul(3).wrapping_add(i)) as usize) % self.element_ids.len()];
                let _ = write!(body, r##"{{"ops":[["text",{},"#T{micros}:{seq}# {}"]"##, t(0), filler(n, 150));
                for i in 1..6 {
                    let _ = write!(body, r#",["text",{},"{}"]"#, t(i), filler(n + i, 180));
                }
                for i in 0..4 {
                    let _ = write!(body, r#",["attr",{},"class","item item-{} state-{}"]"#, e(i), n % 97, i);
                }
                let _ =
                    write!(body, r#",["attr",{},"data-state","{}"]"#, e(4), if n & 1 == 0 { "open" } else { "closed" });
                body.push_str("]}");
                body
            }
            Kind::Large => {
                let mut body = String::with_capacity(21_000);
                let t = self.text_ids[(n as usize) % self.text_ids.len()];
                let _ = write!(body, r##"{{"ops":[["text",{t},"#T{micros}:{seq}# {}"]"##, filler(n, 60));
                let mut id = self.first_free_id;
                let root = id;
                let _ = write!(
                    body,
                    r#",["add",{},null,{{"id":{root},"k":"e","n":"div","a":{{"class":"feed-page"}},"c":["#,
                    self.container
                );
                id += 1;
                for i in 0..40 {
                    if i > 0 {
                        body.push(',');
                    }
                    let (p, x) = (id, id + 1);
                    id += 2;
                    let _ = write!(
                        body,
                        r#"{{"id":{p},"k":"e","n":"p","a":{{"class":"entry"}},"c":[{{"id":{x},"k":"x","v":"{}"}}]}}"#,
                        filler(n.wrapping_add(i), 400)
                    );
                }
                let _ = write!(body, r#"]}}],["rm",{root}]]}}"#);
                body
            }
        }
    }
}

/// What a receiver reads back from a stamped frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The customer's (or agent's) own sequence number of the frame.
    pub seq: u64,
    /// Send time in microseconds on the generator's clock.
    pub micros: u64,
    /// Which kind it was.
    pub kind: Kind,
}

fn number_after(text: &str, key: &str) -> Option<u64> {
    let start = text.find(key)? + key.len();
    let digits: &str = &text[start..];
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// Reads the stamp of a relayed frame `[tag, seq, body]` (or the body alone, for `tag`).
pub fn read_stamp(tag: &str, frame: &str) -> Option<Stamp> {
    match tag {
        "pointer" => Some(Stamp {
            micros: number_after(frame, r#""x":"#)?,
            seq: number_after(frame, r#""y":"#)?,
            kind: Kind::Pointer,
        }),
        "scroll" => Some(Stamp {
            seq: number_after(frame, r#""x":"#)?,
            micros: number_after(frame, r#""y":"#)?,
            kind: Kind::Scroll,
        }),
        "mut" => {
            let micros = number_after(frame, "#T")?;
            let rest = &frame[frame.find("#T")? + 2..];
            let seq = number_after(rest, ":")?;
            let kind = if frame.len() > 8_000 { Kind::Large } else { Kind::Medium };
            Some(Stamp { seq, micros, kind })
        }
        _ => None,
    }
}

/// `[tag, seq, …]`: the tag and the sequence number, without parsing the body.
pub fn read_header(frame: &str) -> Option<(&str, u64)> {
    let rest = frame.strip_prefix("[\"")?;
    let end = rest.find('"')?;
    let tag = &rest[..end];
    let after = rest[end + 1..].strip_prefix(',')?;
    let digits_end = after.find(|c: char| !c.is_ascii_digit())?;
    Some((tag, after[..digits_end].parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_valid_json_of_the_expected_size() {
        for (size, min, max) in [(PageSize::Tiny, 20, 80), (PageSize::Realistic, 1200, 2500)] {
            let page = Page::new(size);
            let value: serde_json::Value = serde_json::from_str(&page.snapshot_body).unwrap();
            assert_eq!(value["doc"]["k"], "d");
            assert!(page.nodes >= min && page.nodes <= max, "{size:?}: {} nodes", page.nodes);
        }
        let realistic = Page::new(PageSize::Realistic);
        assert!((80_000..160_000).contains(&realistic.snapshot_body.len()), "{}", realistic.snapshot_body.len());
    }

    #[test]
    fn frames_are_valid_stamped_and_sized() {
        let page = Page::new(PageSize::Realistic);
        for (kind, min, max) in
            [(Kind::Pointer, 10, 60), (Kind::Scroll, 10, 60), (Kind::Medium, 1300, 1800), (Kind::Large, 18_000, 23_000)]
        {
            let body = page.frame_body(kind, 42, 123_456_789, 7);
            let _: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert!(body.len() >= min && body.len() <= max, "{kind:?}: {} bytes", body.len());
            let frame = format!("[\"{}\",42,{body}]", kind.tag());
            assert_eq!(read_header(&frame), Some((kind.tag(), 42)));
            assert_eq!(read_stamp(kind.tag(), &frame), Some(Stamp { seq: 42, micros: 123_456_789, kind }));
        }
    }

    #[test]
    fn the_mix_is_70_25_5() {
        let counts = (0..1000).fold([0; 4], |mut acc, roll| {
            acc[Kind::pick(roll).index()] += 1;
            acc
        });
        assert_eq!(counts, [350, 350, 250, 50]);
    }
}
