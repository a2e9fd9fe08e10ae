// Making URL-bearing values absolute, so nothing in the agent's view resolves against the
// server's address. Pure functions; the base URL is passed in.

/**
 * Resolves `value` against `base`. Values that do not parse are returned unchanged; fragment-only
 * references ("#icon") are kept as they are when `keepFragments` is set (SVG `<use href="#…">`
 * points into the same document, which the mirror also has).
 * @param {string} value
 * @param {string} base
 * @param {boolean} [keepFragments]
 * @param {((url: string) => string) | null} [legacy] Resolves a URL the way the page's document
 *   does (see `legacyResolver`); used for URLs with non-ASCII characters.
 * @returns {string}
 */
export function absoluteUrl(value, base, keepFragments = false, legacy = null) {
  const trimmed = value.trim();
  if (trimmed === '') return value;
  if (keepFragments && trimmed.startsWith('#')) return value;
  // Already absolute (it has a scheme): nothing to resolve.
  if (/^[a-z][a-z\d+.-]*:/i.test(trimmed)) return value;
  // eslint-disable-next-line no-control-regex
  if (legacy && /[^\u0000-\u007f]/.test(trimmed)) return legacy(trimmed);
  const simple = simplePath(trimmed, base);
  if (simple !== null) return simple;
  try {
    return new URL(trimmed, base).href;
  } catch {
    return value;
  }
}

/**
 * Characters a path (and query) may have for `simplePath` to join it to its base as it is: none
 * that the URL parser would percent-encode, drop or treat specially (`%` could spell a dot
 * segment, `\\` is a slash, `#` starts a fragment, whitespace and quotes are encoded).
 */
const SIMPLE_PATH = /^[A-Za-z0-9\-._~!$&()*+,;=:@/]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@/?]*)?$/;
/** A `.` or `..` path segment, which the URL parser would resolve. */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|\?|$)/;

/** Bases split into what a root-relative and a relative path are appended to. */
/** @type {Map<string, {origin: string, dir: string} | null>} */
const simpleBases = new Map();

/**
 * Resolves a plain relative path (`/item/3`, `img/a.png?x=1`) against an http(s) base without
 * the URL parser, which is the costly part of writing a page with many links; the result is
 * what `new URL(path, base).href` gives. Null when the path or the base is not plain.
 * @param {string} path Trimmed, without a scheme.
 * @param {string} base
 * @returns {string | null}
 */
function simplePath(path, base) {
  if (path.startsWith('//') || !SIMPLE_PATH.test(path) || DOT_SEGMENT.test(path)) return null;
  let parts = simpleBases.get(base);
  if (parts === undefined) {
    parts = splitBase(base);
    if (simpleBases.size > 64) simpleBases.clear();
    simpleBases.set(base, parts);
  }
  if (parts === null) return null;
  if (path.startsWith('?')) return null; // replaces the base's query: leave it to the parser
  // Joined into one flat string: `+` would make a rope, and a snapshot holding ropes takes
  // JSON.stringify longer the first time (the 6,000-element page: 7.2 ms against 4.1, medians).
  return [path.startsWith('/') ? parts.origin : parts.dir, path].join('');
}

/**
 * @param {string} base
 * @returns {{origin: string, dir: string} | null}
 */
function splitBase(base) {
  let url;
  try {
    url = new URL(base);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  // Everything before the path: scheme, credentials, host, port (as the parser wrote them).
  url.search = '';
  url.hash = '';
  const href = url.href;
  const origin = href.slice(0, href.length - url.pathname.length);
  const dir = origin + url.pathname.slice(0, url.pathname.lastIndexOf('/') + 1);
  return { origin, dir };
}

/**
 * Whether a URL would run script when followed (`javascript:`), ignoring the whitespace and
 * control characters browsers strip.
 * @param {string} value
 * @returns {boolean}
 */
export function isScriptUrl(value) {
  if (!value.includes(':')) return false; // most URLs on a page are relative
  // eslint-disable-next-line no-control-regex
  const cleaned = value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
  return cleaned.startsWith('javascript:') || cleaned.startsWith('vbscript:');
}

/**
 * Parses a `srcset` value into candidates, following the HTML parsing rules: a URL is a run of
 * non-whitespace characters (so it may contain commas), trailing commas end the candidate, and
 * descriptors run until a comma outside parentheses.
 * @param {string} srcset
 * @returns {Array<{url: string, descriptor: string}>}
 */
export function parseSrcset(srcset) {
  /** @type {Array<{url: string, descriptor: string}>} */
  const candidates = [];
  let pos = 0;
  const len = srcset.length;
  const isSpace = (/** @type {string} */ ch) => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f';
  while (pos < len) {
    while (pos < len && (isSpace(srcset[pos]) || srcset[pos] === ',')) pos++;
    if (pos >= len) break;
    const start = pos;
    while (pos < len && !isSpace(srcset[pos])) pos++;
    let url = srcset.slice(start, pos);
    let descriptor = '';
    if (url.endsWith(',')) {
      url = url.replace(/,+$/, '');
    } else {
      while (pos < len && isSpace(srcset[pos])) pos++;
      const descStart = pos;
      let depth = 0;
      while (pos < len) {
        const ch = srcset[pos];
        if (ch === '(') depth++;
        else if (ch === ')') depth = Math.max(0, depth - 1);
        else if (ch === ',' && depth === 0) break;
        pos++;
      }
      descriptor = srcset.slice(descStart, pos).trim();
      pos++;
    }
    if (url) candidates.push({ url, descriptor });
  }
  return candidates;
}

/**
 * Makes every URL of a `srcset` absolute.
 * @param {string} srcset
 * @param {string} base
 * @param {((url: string) => string) | null} [legacy]
 * @returns {string}
 */
export function absoluteSrcset(srcset, base, legacy = null) {
  return parseSrcset(srcset)
    .map(({ url, descriptor }) => (descriptor ? `${absoluteUrl(url, base, false, legacy)} ${descriptor}` : absoluteUrl(url, base, false, legacy)))
    .join(', ');
}

/**
 * For a page in a legacy encoding (Shift_JIS, windows-1252…), a resolver that makes a URL
 * absolute the way the page's own links are: the query part is percent-encoded in the page's
 * encoding, not in UTF-8, so the agent's view asks for the very same address. Null for UTF-8
 * pages, where the URL parser does the same.
 * @param {Document} doc
 * @returns {((url: string) => string) | null}
 */
export function legacyResolver(doc) {
  if (!doc || /^utf-?8$/i.test(doc.characterSet)) return null;
  /** @type {HTMLAnchorElement | null} */
  let anchor = null;
  return (url) => {
    anchor ??= /** @type {HTMLAnchorElement} */ (doc.createElement('a'));
    anchor.setAttribute('href', url);
    return anchor.href || url;
  };
}

const CSS_URL = /url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)'"\s]*))\s*\)/gi;
const CSS_IMPORT = /@import\s+(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')/gi;

/**
 * Makes `url(…)` references and `@import "…"` strings inside CSS text absolute.
 * @param {string} css
 * @param {string} base
 * @returns {string}
 */
export function absoluteCssUrls(css, base) {
  if (!css.includes('url(') && !css.includes('URL(') && !css.includes('@import')) return css;
  return css
    .replace(CSS_URL, (match, dq, sq, bare) => {
      const raw = dq ?? sq ?? bare ?? '';
      if (raw === '' || raw.startsWith('#') || /^data:/i.test(raw)) return match;
      const abs = absoluteUrl(raw, base);
      return `url("${abs.replace(/["\\]/g, '\\$&')}")`;
    })
    .replace(CSS_IMPORT, (match, dq, sq) => {
      const raw = dq ?? sq ?? '';
      return `@import "${absoluteUrl(raw, base).replace(/["\\]/g, '\\$&')}"`;
    });
}

/** Attributes that hold one URL, by attribute name. */
const URL_ATTRIBUTES = new Set([
  'href', 'src', 'action', 'formaction', 'poster', 'background', 'cite', 'data', 'longdesc',
  'xlink:href', 'manifest', 'codebase', 'icon', 'ping',
]);

/**
 * Rewrites an attribute value so every URL in it is absolute. `svg` tells whether the element
 * is in the SVG namespace (fragment references are kept there).
 * @param {string} name Qualified attribute name, lower case for HTML.
 * @param {string} value
 * @param {string} base
 * @param {boolean} svg
 * @param {((url: string) => string) | null} [legacy] See `legacyResolver`.
 * @returns {string}
 */
export function absoluteAttribute(name, value, base, svg, legacy = null) {
  if (name === 'srcset' || name === 'imagesrcset') return absoluteSrcset(value, base, legacy);
  if (name === 'style') return absoluteCssUrls(value, base); // CSS URLs are always UTF-8
  if (name === 'ping') return value.split(/\s+/).filter(Boolean).map((u) => absoluteUrl(u, base, false, legacy)).join(' ');
  if (URL_ATTRIBUTES.has(name)) return absoluteUrl(value, base, svg || name === 'href', legacy);
  return value;
}

/**
 * A URL with the values of the named query parameters replaced by asterisks (the page came from
 * a GET form whose masked fields put their values into the address).
 * @param {string} url
 * @param {Iterable<string>} names
 * @returns {string}
 */
export function maskQueryParams(url, names) {
  const hidden = new Set(names);
  const q = url.indexOf('?');
  if (hidden.size === 0 || q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const masked = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    let name = pair.slice(0, eq);
    try {
      name = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // keep it raw
    }
    if (!hidden.has(name)) return pair;
    const value = pair.slice(eq + 1);
    return `${pair.slice(0, eq)}=${'*'.repeat(Math.min(value.length, 64))}`;
  });
  return `${url.slice(0, q + 1)}${masked.join('&')}${hash < 0 ? '' : url.slice(hash)}`;
}
