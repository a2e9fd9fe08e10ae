//! Rewrites the URLs inside a stylesheet so fonts, images and imported sheets load through the
//! proxy too (a stylesheet's relative URLs resolve against the stylesheet's own address, which
//! the agent's browser never sees).

/// Rewrites every `url(...)` and `@import "..."` in `css`, resolving relative references against
/// `base` and passing each absolute URL to `proxied`.
pub fn rewrite_urls(css: &str, base: &reqwest::Url, proxied: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(css.len() + css.len() / 8);
    let bytes = css.as_bytes();
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        // Skip comments and strings outside url(): they may contain "url(" as text.
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i = css[i + 2..].find("*/").map(|end| i + 2 + end + 2).unwrap_or(bytes.len());
            continue;
        }
        if starts_with_ignore_case(&bytes[i..], b"url(") {
            let open = i + 4;
            let Some(close) = find_url_end(css, open) else { break };
            let raw = css[open..close].trim();
            let unquoted = raw.trim_matches(|c| c == '"' || c == '\'');
            out.push_str(&css[last..open]);
            out.push_str(&rewrite_one(unquoted, base, &proxied));
            last = close;
            i = close;
            continue;
        }
        if starts_with_ignore_case(&bytes[i..], b"@import") {
            let mut j = i + 7;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
                let quote = bytes[j] as char;
                if let Some(end) = css[j + 1..].find(quote) {
                    let target = &css[j + 1..j + 1 + end];
                    out.push_str(&css[last..j]);
                    out.push_str(&rewrite_one(target, base, &proxied));
                    last = j + 1 + end + 1;
                    i = last;
                    continue;
                }
            }
        }
        i += 1;
    }
    out.push_str(&css[last..]);
    out
}

fn rewrite_one(target: &str, base: &reqwest::Url, proxied: &impl Fn(&str) -> String) -> String {
    if target.is_empty() || target.starts_with("data:") || target.starts_with('#') {
        return format!("\"{}\"", target.replace('"', "%22"));
    }
    match base.join(target) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => format!("\"{}\"", proxied(url.as_str())),
        // Anything else (javascript:, unknown schemes, garbage) is neutralized.
        _ => "\"about:invalid\"".into(),
    }
}

fn starts_with_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

/// The index of the `)` that closes a `url(` whose content starts at `open`, honouring quotes.
fn find_url_end(css: &str, open: usize) -> Option<usize> {
    let bytes = css.as_bytes();
    let mut i = open;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
        let quote = bytes[i];
        let mut j = i + 1;
        while j < bytes.len() && bytes[j] != quote {
            if bytes[j] == b'\\' {
                j += 1;
            }
            j += 1;
        }
        return css[j.min(bytes.len())..].find(')').map(|k| j + k);
    }
    css[open..].find(')').map(|k| open + k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(css: &str) -> String {
        let base = reqwest::Url::parse("https://shop.example/css/site.css").unwrap();
        rewrite_urls(css, &base, |u| format!("/proxy?url={u}"))
    }

    #[test]
    fn relative_and_absolute_urls_go_through_the_proxy() {
        assert_eq!(
            rewrite("a{background:url(../img/a.png)} b{background:URL( 'https://cdn.example/b.png' )}"),
            "a{background:url(\"/proxy?url=https://shop.example/img/a.png\")} b{background:URL(\"/proxy?url=https://cdn.example/b.png\")}"
        );
        assert_eq!(rewrite("@import \"print.css\";"), "@import \"/proxy?url=https://shop.example/css/print.css\";");
        assert_eq!(
            rewrite("@font-face{src:url(\"f.woff2\") format(\"woff2\")}"),
            "@font-face{src:url(\"/proxy?url=https://shop.example/css/f.woff2\") format(\"woff2\")}"
        );
    }

    #[test]
    fn data_urls_fragments_comments_and_scripts_are_handled() {
        assert_eq!(rewrite("a{b:url(data:image/png;base64,AA==)}"), "a{b:url(\"data:image/png;base64,AA==\")}");
        assert_eq!(rewrite("a{filter:url(#f)}"), "a{filter:url(\"#f\")}");
        assert_eq!(rewrite("/* url(x.png) */a{}"), "/* url(x.png) */a{}");
        assert_eq!(rewrite("a{b:url(javascript:alert(1))}"), "a{b:url(\"about:invalid\"))}");
        assert_eq!(rewrite("a{b:url(unterminated"), "a{b:url(unterminated");
    }
}
