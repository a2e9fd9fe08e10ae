// What the viewer refuses to rebuild, whatever the server already filtered (defense in depth).
// Pure functions over names and values: no DOM, so the rules are easy to read and to test.
//
// The rebuilt page lives in an <iframe sandbox="allow-same-origin"> without allow-scripts, so
// nothing in it can run even if a rule here were missing; these rules make sure the rebuilt DOM
// does not even carry executable content or things that navigate or refresh.

/** Namespaces whose `script` elements execute. */
const HTML_NS = 'http://www.w3.org/1999/xhtml';
const SVG_NS = 'http://www.w3.org/2000/svg';

/** Attributes whose values are URLs (lower-cased names). */
const URL_ATTRS = new Set([
  'href', 'src', 'action', 'formaction', 'poster', 'background', 'cite', 'longdesc', 'lowsrc',
  'dynsrc', 'data', 'codebase', 'manifest', 'xlink:href', 'ping', 'icon', 'itemtype',
]);

/** Attributes that carry lists of URLs with descriptors. */
const SRCSET_ATTRS = new Set(['srcset', 'imagesrcset']);

/** SVG animation attributes that can set an `href` to a script URL. */
const ANIMATION_VALUE_ATTRS = new Set(['to', 'from', 'values', 'by']);

/** Elements whose children are kept out of the rebuilt DOM: their content must never show or run. */
const INERT_CONTENT = new Set(['script', 'noscript']);

/** Value that replaces a refused URL: keeps a link looking like a link, goes nowhere. */
export const NEUTRAL_URL = '#';

/**
 * A URL that would run code when followed or loaded.
 * Browsers strip ASCII whitespace and control characters anywhere in the scheme, so do the same.
 * @param {string} value
 * @returns {boolean}
 */
export function isScriptUrl(value) {
  // eslint-disable-next-line no-control-regex
  const compact = value.replace(/[\u0000-\u0020\u007f-\u00a0]+/g, '').toLowerCase();
  return (
    compact.startsWith('javascript:') ||
    compact.startsWith('vbscript:') ||
    compact.startsWith('livescript:') ||
    compact.startsWith('data:text/html') ||
    compact.startsWith('data:application/xhtml')
  );
}

/**
 * Whether an element's children must stay out of the rebuilt DOM (script text, noscript content
 * that would show because scripting is off in the sandbox).
 * @param {string} localName
 * @returns {boolean}
 */
export function hasInertContent(localName) {
  return INERT_CONTENT.has(localName.toLowerCase());
}

/**
 * Whether an element is a script in a namespace where scripts run (HTML or SVG).
 * @param {string} localName
 * @param {string | null | undefined} ns
 * @returns {boolean}
 */
export function isScriptElement(localName, ns) {
  return localName.toLowerCase() === 'script' && (!ns || ns === HTML_NS || ns === SVG_NS);
}

/**
 * Decides what an attribute becomes in the rebuilt DOM.
 * Returns the value to set, or null to leave the attribute out.
 * `resolve` turns a URL value into the absolute (or proxied) URL to load, or null to refuse it.
 * @param {string} elementName local name of the element (any case)
 * @param {string} attrName qualified attribute name (any case)
 * @param {string} value
 * @param {(url: string, kind: 'link' | 'resource') => string | null} resolve
 * @param {Record<string, string>} [otherAttrs] the element's other attributes, when known
 * @returns {string | null}
 */
export function sanitizeAttribute(elementName, attrName, value, resolve, otherAttrs) {
  const el = elementName.toLowerCase();
  const name = attrName.toLowerCase();
  if (name.startsWith('on')) return null; // event handlers
  if (name === 'srcdoc') return null; // an inline document inside an iframe
  if (el === 'script' && (name === 'src' || name === 'href' || name === 'xlink:href')) return null;
  if (el === 'base' && (name === 'href' || name === 'target')) return null;
  if (el === 'meta' && name === 'http-equiv') {
    const what = value.trim().toLowerCase();
    if (what === 'refresh' || what === 'set-cookie' || what.startsWith('content-security-policy')) return null;
  }
  if (el === 'meta' && name === 'content' && otherAttrs) {
    const equiv = Object.entries(otherAttrs).find(([k]) => k.toLowerCase() === 'http-equiv');
    if (equiv && equiv[1].trim().toLowerCase() === 'refresh') return null;
  }
  if ((el === 'object' || el === 'embed' || el === 'applet') && (name === 'data' || name === 'src' || name === 'code' || name === 'archive')) {
    return null; // plugins never load in the viewer
  }
  if (el === 'iframe' || el === 'frame') {
    // Frame content is rebuilt from `fd`, never loaded from the customer's URL.
    if (name === 'src') return null;
  }
  if (ANIMATION_VALUE_ATTRS.has(name) && isScriptUrl(value)) return null;
  if (URL_ATTRS.has(name)) {
    if (isScriptUrl(value)) return isNavigationAttr(el, name) ? NEUTRAL_URL : null;
    const trimmed = value.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return value;
    const kind = isNavigationAttr(el, name) ? 'link' : 'resource';
    const resolved = resolve(trimmed, kind);
    if (resolved === null) return isNavigationAttr(el, name) ? NEUTRAL_URL : null;
    return resolved;
  }
  if (SRCSET_ATTRS.has(name)) return rewriteSrcset(value, resolve);
  if (name === 'style') return rewriteCssUrls(value, resolve);
  return value;
}

/**
 * Attributes that name where a link or form goes (as opposed to a resource that loads).
 * @param {string} el
 * @param {string} name
 * @returns {boolean}
 */
function isNavigationAttr(el, name) {
  if (name === 'action' || name === 'formaction' || name === 'cite' || name === 'longdesc' || name === 'ping') return true;
  if (name === 'href' || name === 'xlink:href') return el === 'a' || el === 'area';
  return false;
}

/**
 * Resolves each URL of a `srcset` list, dropping refused candidates.
 * @param {string} value
 * @param {(url: string, kind: 'link' | 'resource') => string | null} resolve
 * @returns {string}
 */
export function rewriteSrcset(value, resolve) {
  const out = [];
  for (const { url, descriptors } of parseSrcset(value)) {
    if (isScriptUrl(url)) continue;
    const resolved = resolve(url, 'resource');
    if (resolved === null) continue;
    out.push(descriptors ? `${resolved} ${descriptors}` : resolved);
  }
  return out.join(', ');
}

/**
 * Splits a `srcset` the way the HTML standard does: a URL runs to the next whitespace (so it may
 * contain commas, as in `img/a,small.png 1x`); a URL ending in commas ends its candidate; otherwise
 * descriptors run to the next comma outside parentheses.
 * @param {string} value
 * @returns {{ url: string, descriptors: string }[]}
 */
export function parseSrcset(value) {
  /** @type {{ url: string, descriptors: string }[]} */
  const candidates = [];
  let i = 0;
  const isSpace = (/** @type {string} */ c) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
  while (i < value.length) {
    while (i < value.length && (isSpace(value[i]) || value[i] === ',')) i++;
    if (i >= value.length) break;
    const start = i;
    while (i < value.length && !isSpace(value[i])) i++;
    let url = value.slice(start, i);
    let descriptors = '';
    if (url.endsWith(',')) {
      url = url.replace(/,+$/, '');
    } else {
      const from = i;
      let depth = 0;
      while (i < value.length && !(value[i] === ',' && depth === 0)) {
        if (value[i] === '(') depth++;
        else if (value[i] === ')' && depth > 0) depth--;
        i++;
      }
      descriptors = value.slice(from, i).trim();
    }
    if (url) candidates.push({ url, descriptors });
  }
  return candidates;
}

/**
 * Rewrites `url(...)` and `@import "..."` references in CSS text. Script URLs are refused.
 * @param {string} css
 * @param {(url: string, kind: 'link' | 'resource') => string | null} resolve
 * @returns {string}
 */
export function rewriteCssUrls(css, resolve) {
  /** @param {string} raw */
  const fix = (raw) => {
    const url = raw.trim();
    if (url === '' || url.startsWith('#')) return url;
    if (isScriptUrl(url)) return '';
    return resolve(url, 'resource') ?? '';
  };
  return css
    // A quoted URL may hold parentheses (`url("javascript:alert(1)")`), so each quote style is
    // matched on its own rather than stopping at the first `)`.
    .replace(/url\(\s*(?:"([^"]*)"|'([^']*)'|([^'")\s]*))\s*\)/gi, (_m, double, single, bare) => {
      const quote = single !== undefined ? "'" : '"';
      return `url(${quote}${escapeCssString(fix(double ?? single ?? bare ?? ''))}${quote})`;
    })
    .replace(/@import\s+(['"])([^'"]*)\1/gi, (_m, quote, url) => `@import ${quote}${escapeCssString(fix(url))}${quote}`);
}

/**
 * @param {string} text
 * @returns {string}
 */
function escapeCssString(text) {
  return text.replace(/["'\\\n]/g, (ch) => (ch === '\n' ? '\\a ' : `\\${ch}`));
}

/**
 * Makes a URL resolver for a page at `baseUrl`: relative URLs become absolute, only http(s),
 * data (images), and blob URLs survive. `proxy`, when given, maps an absolute resource URL to the
 * URL the agent's browser should load it from (the server's resource proxy).
 * @param {string} baseUrl
 * @param {(absolute: string) => string} [proxy]
 * @returns {(url: string, kind: 'link' | 'resource') => string | null}
 */
export function urlResolver(baseUrl, proxy) {
  return (url, kind) => {
    /** @type {URL} */
    let parsed;
    try {
      parsed = new URL(url, baseUrl);
    } catch {
      return null;
    }
    const scheme = parsed.protocol;
    if (scheme === 'data:') return kind === 'resource' && !isScriptUrl(url) ? url : null;
    if (scheme === 'mailto:' || scheme === 'tel:') return kind === 'link' ? parsed.href : null;
    if (scheme !== 'http:' && scheme !== 'https:') return null;
    if (kind === 'resource' && proxy) return proxy(parsed.href);
    return parsed.href;
  };
}
