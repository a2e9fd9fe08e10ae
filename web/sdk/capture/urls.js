// Making URL-bearing values absolute, so nothing in the agent's view resolves against the
// server's address. Pure functions; the base URL is passed in.

/**
 * Resolves `value` against `base`. Values that do not parse are returned unchanged; fragment-only
 * references ("#icon") are kept as they are when `keepFragments` is set (SVG `<use href="#…">`
 * points into the same document, which the mirror also has).
 * @param {string} value
 * @param {string} base
 * @param {boolean} [keepFragments]
 * @returns {string}
 */
export function absoluteUrl(value, base, keepFragments = false) {
  const trimmed = value.trim();
  if (trimmed === '') return value;
  if (keepFragments && trimmed.startsWith('#')) return value;
  if (/^(data|blob|about|mailto|tel):/i.test(trimmed)) return value;
  try {
    return new URL(trimmed, base).href;
  } catch {
    return value;
  }
}

/**
 * Whether a URL would run script when followed (`javascript:`), ignoring the whitespace and
 * control characters browsers strip.
 * @param {string} value
 * @returns {boolean}
 */
export function isScriptUrl(value) {
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
 * @returns {string}
 */
export function absoluteSrcset(srcset, base) {
  return parseSrcset(srcset)
    .map(({ url, descriptor }) => (descriptor ? `${absoluteUrl(url, base)} ${descriptor}` : absoluteUrl(url, base)))
    .join(', ');
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
 * @returns {string}
 */
export function absoluteAttribute(name, value, base, svg) {
  if (name === 'srcset' || name === 'imagesrcset') return absoluteSrcset(value, base);
  if (name === 'style') return absoluteCssUrls(value, base);
  if (name === 'ping') return value.split(/\s+/).filter(Boolean).map((u) => absoluteUrl(u, base)).join(' ');
  if (URL_ATTRIBUTES.has(name)) return absoluteUrl(value, base, svg || name === 'href');
  return value;
}
