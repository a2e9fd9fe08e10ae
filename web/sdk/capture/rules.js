// Masking and restriction rules: which elements go out masked (and how) and which the agent may
// not use. One instance per recorder; it remembers every element it ever masked so a node that
// was masked once stays masked for the life of the page, even if the rule stops matching.

/** @typedef {import('../protocol.js').Policy} Policy */
/** @typedef {import('../protocol.js').MaskKindCode} MaskKindCode */

/** The attribute sites put on elements to mask them: "", "text", "value" or "image". */
export const MASK_ATTRIBUTE = 'data-cobrowse-mask';
/** The attribute sites put on elements the agent may not use. */
export const RESTRICT_ATTRIBUTE = 'data-cobrowse-restrict';

/** Mask context bits inherited by descendants. */
export const CTX_TEXT = 1;
export const CTX_VALUE = 2;
export const CTX_IMAGE = 4;
export const CTX_ALL = CTX_TEXT | CTX_VALUE | CTX_IMAGE;

/** A policy that masks nothing beyond the built-in rules. */
/** @returns {Policy} */
export function emptyPolicy() {
  return {
    write_mode_allowed: false,
    masking: { fields: [], text: [], images: [], pages: [] },
    restrictions: { selectors: [] },
    site_origins: [],
  };
}

/**
 * Fills in whatever a policy from the server left out, so the rest of the code can rely on it.
 * @param {unknown} raw
 * @returns {Policy}
 */
export function normalizePolicy(raw) {
  const base = emptyPolicy();
  if (!raw || typeof raw !== 'object') return base;
  const p = /** @type {Record<string, any>} */ (raw);
  const strings = (/** @type {unknown} */ v) => (Array.isArray(v) ? v.filter((s) => typeof s === 'string') : []);
  const masking = p.masking && typeof p.masking === 'object' ? p.masking : {};
  return {
    write_mode_allowed: p.write_mode_allowed === true,
    masking: {
      fields: strings(masking.fields),
      text: strings(masking.text),
      images: strings(masking.images),
      pages: strings(masking.pages),
    },
    restrictions: { selectors: strings(p.restrictions?.selectors) },
    site_origins: strings(p.site_origins),
  };
}

/**
 * Turns a URL glob (`*` any run of characters, `?` one character) into a regular expression
 * anchored at both ends.
 * @param {string} glob
 * @returns {RegExp}
 */
export function globToRegExp(glob) {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * Whether a page URL matches one of the page patterns. A pattern starting with `/` is matched
 * against the path (with query); any other pattern against the whole URL without its fragment.
 * @param {string} url
 * @param {string[]} patterns
 * @returns {boolean}
 */
export function pageMatches(url, patterns) {
  if (patterns.length === 0) return false;
  let full = url;
  let path = url;
  try {
    const parsed = new URL(url);
    parsed.hash = '';
    full = parsed.href;
    path = parsed.pathname + parsed.search;
  } catch {
    // keep the raw text
  }
  return patterns.some((pattern) => globToRegExp(pattern).test(pattern.startsWith('/') ? path : full));
}

/**
 * Joins selectors into one list, dropping any the browser cannot parse (one bad selector in the
 * policy must not switch masking off for the others).
 * @param {string[]} selectors
 * @param {Document} doc
 * @returns {string | null}
 */
function combine(selectors, doc) {
  const valid = selectors.filter((selector) => {
    try {
      doc.createDocumentFragment().querySelector(selector);
      return true;
    } catch {
      return false;
    }
  });
  return valid.length > 0 ? valid.join(', ') : null;
}

/**
 * Whether a selector list might match an element differently once an attribute of one of its
 * ancestors changes. Only lists of plain compound selectors (type, `*`, `#id`, `.class` and
 * attribute selectors, with neither combinators nor pseudo-classes) are known not to; anything
 * else is assumed to: combinators, `:is()`, `:lang()` (which reads ancestors' `lang`),
 * `:disabled` (a disabled fieldset around it), escapes.
 * @param {string} list
 * @returns {boolean}
 */
export function seesAncestors(list) {
  // An attribute selector's value may hold anything, quoted: take each one out first.
  let rest = '';
  for (let i = 0; i < list.length; i++) {
    if (list[i] !== '[') {
      rest += list[i];
      continue;
    }
    let quote = '';
    for (i++; i < list.length; i++) {
      const ch = list[i];
      if (quote) {
        if (ch === '\\') i++;
        else if (ch === quote) quote = '';
      } else if (ch === '"' || ch === "'") {
        quote = ch;
      } else if (ch === ']') {
        break;
      }
    }
    if (i >= list.length) return true;
    rest += '[]';
  }
  return rest.split(',').some((part) => !/^[A-Za-z0-9_*#.[\]-]+$/.test(part.trim()));
}

/**
 * @param {Element} el
 * @returns {boolean}
 */
export function isFormField(el) {
  const name = el.localName;
  return (name === 'input' || name === 'textarea' || name === 'select') && !el.namespaceURI?.endsWith('svg');
}

/**
 * @param {Element} el
 * @returns {boolean}
 */
export function isImageLike(el) {
  const name = el.localName;
  return name === 'img' || name === 'picture' || name === 'video' || name === 'image' || name === 'canvas' || name === 'object' || name === 'embed' ||
    (name === 'input' && el.getAttribute('type')?.toLowerCase() === 'image');
}

/**
 * Whether an element submits its form when activated: submit buttons and image inputs.
 * @param {Element} el
 * @returns {boolean}
 */
export function isSubmitControl(el) {
  if (el.localName === 'button') {
    const type = (el.getAttribute('type') ?? '').toLowerCase();
    if (type === 'submit') return true;
    if (type === 'button' || type === 'reset') return false;
    // No type (or an invalid one) means submit; it matters inside a form.
    return /** @type {HTMLButtonElement} */ (el).form != null || el.closest('form') != null;
  }
  if (el.localName === 'input') {
    const type = (el.getAttribute('type') ?? '').toLowerCase();
    return type === 'submit' || type === 'image';
  }
  return false;
}

export class MaskRules {
  /**
   * @param {Policy} policy
   * @param {Document} doc Used to validate selectors.
   */
  constructor(policy, doc) {
    this.policy = policy;
    this.fieldSelector = combine(policy.masking.fields, doc);
    this.textSelector = combine(policy.masking.text, doc);
    this.imageSelector = combine(policy.masking.images, doc);
    this.restrictSelector = combine(policy.restrictions.selectors, doc);
    /**
     * With policy selectors, one `matches` against this list tells whether an element can have
     * a mask of its own at all (most cannot), instead of an attribute read and one `matches` per
     * selector list. Null without policy selectors: the attribute read alone is cheaper then.
     */
    this.maskProbe = this.fieldSelector || this.imageSelector || this.textSelector
      ? combine([`input, [${MASK_ATTRIBUTE}]`, this.fieldSelector, this.imageSelector, this.textSelector].filter((s) => s !== null), doc)
      : null;
    /** The same for restriction: submit controls, the attribute, the policy's selectors. */
    this.restrictProbe = this.restrictSelector
      ? combine([`button, input, [${RESTRICT_ATTRIBUTE}]`, this.restrictSelector], doc)
      : null;
    /**
     * Every policy selector in one list (null without any): after an attribute changes,
     * descendants matching it may have to be masked or restricted now.
     */
    this.policySelector = [this.fieldSelector, this.textSelector, this.imageSelector, this.restrictSelector].filter(Boolean).join(', ') || null;
    /**
     * Whether an attribute change can make descendants match the policy at all: with only plain
     * compound selectors (`.balance`, `[name=ssn]`) it cannot, and a class toggled on a large
     * container need not search its whole subtree again.
     */
    this.policySeesAncestors = this.policySelector !== null && seesAncestors(this.policySelector);
    /** @type {WeakMap<Element, MaskKindCode>} */
    this.sticky = new WeakMap();
    /** Whether any element was ever masked by its own rule (until then, nothing is sticky). */
    this.anySticky = false;
    /** Mask context each node was sent under, so it keeps it wherever it moves. */
    /** @type {WeakMap<Node, number>} */
    this.stuckContexts = new WeakMap();
    /** Whether anything was ever sent masked (until then, nothing needs looking up). */
    this.anyStuck = false;
  }

  /**
   * The mask context a node was sent under before (0 when none): content once masked stays
   * masked when the page moves it out from under its masked ancestor.
   * @param {Node} node
   * @returns {number}
   */
  stuck(node) {
    return this.anyStuck ? this.stuckContexts.get(node) ?? 0 : 0;
  }

  /**
   * Remembers the mask context a node is sent under.
   * @param {Node} node
   * @param {number} ctx
   */
  stick(node, ctx) {
    if (ctx === 0) return;
    this.anyStuck = true;
    this.stuckContexts.set(node, ctx | this.stuck(node));
  }

  /**
   * Whether the whole page at `url` is masked.
   * @param {string} url
   * @returns {boolean}
   */
  pageMasked(url) {
    return pageMatches(url, this.policy.masking.pages);
  }

  /**
   * How this element itself is masked (not counting ancestors), or null.
   * @param {Element} el
   * @returns {MaskKindCode | null}
   */
  maskOf(el) {
    if (this.anySticky) {
      const known = this.sticky.get(el);
      if (known) return known;
    }
    const kind = this.#computeMask(el);
    if (kind) {
      this.sticky.set(el, kind);
      this.anySticky = true;
    }
    return kind;
  }

  /**
   * @param {Element} el
   * @returns {MaskKindCode | null}
   */
  #computeMask(el) {
    if (this.maskProbe !== null && !safeMatches(el, this.maskProbe)) return null;
    const field = isFormField(el);
    if (el.localName === 'input' && (el.getAttribute('type') ?? '').toLowerCase() === 'password') return 'value';
    if (el.localName === 'input' && /** @type {HTMLInputElement} */ (el).type === 'password') return 'value';
    const attr = el.getAttribute(MASK_ATTRIBUTE);
    if (attr !== null) {
      const wanted = attr.trim().toLowerCase();
      if (wanted === 'value' || wanted === 'text' || wanted === 'image') return field && wanted === 'text' ? 'value' : wanted;
      if (field) return 'value';
      if (isImageLike(el)) return 'image';
      return 'text';
    }
    if (this.fieldSelector && safeMatches(el, this.fieldSelector)) return 'value';
    if (this.imageSelector && safeMatches(el, this.imageSelector)) return 'image';
    if (this.textSelector && safeMatches(el, this.textSelector)) return field ? 'value' : 'text';
    return null;
  }

  /**
   * Whether the agent may not use this element (not counting ancestors).
   * @param {Element} el
   * @returns {boolean}
   */
  isRestricted(el) {
    if (this.restrictProbe !== null && !safeMatches(el, this.restrictProbe)) return false;
    if (isSubmitControl(el)) return true;
    if (el.hasAttribute(RESTRICT_ATTRIBUTE)) return true;
    return this.restrictSelector !== null && safeMatches(el, this.restrictSelector);
  }

  /**
   * The mask context an element's descendants inherit.
   * @param {number} ctx The element's own inherited context.
   * @param {MaskKindCode | null} own
   * @returns {number}
   */
  static childContext(ctx, own) {
    if (own === 'text') return ctx | CTX_TEXT | CTX_VALUE | CTX_IMAGE;
    if (own === 'value') return ctx | CTX_VALUE;
    if (own === 'image') return ctx | CTX_IMAGE;
    return ctx;
  }

  /**
   * The mask an element goes out with, given what it inherits.
   * @param {Element} el
   * @param {number} ctx
   * @returns {MaskKindCode | null}
   */
  effectiveMask(el, ctx) {
    const own = this.maskOf(el);
    if (own) return own;
    if (ctx & (CTX_VALUE | CTX_TEXT) && isFormField(el)) return 'value';
    if (ctx & CTX_IMAGE && isImageLike(el)) return 'image';
    if (el.localName === 'source' && (ctx & CTX_IMAGE || this.#pictureImageMasked(el, ctx))) return 'image';
    return null;
  }

  /**
   * Whether a `<source>` sits in a `<picture>` whose `<img>` is masked: the source would load
   * the image in the agent's view, so it is masked with it.
   * @param {Element} source
   * @param {number} ctx
   * @returns {boolean}
   */
  #pictureImageMasked(source, ctx) {
    const parent = source.parentElement;
    if (!parent || parent.localName !== 'picture') return false;
    for (let child = parent.firstElementChild; child; child = child.nextElementSibling) {
      if (child.localName === 'img') return this.effectiveMask(child, ctx) === 'image';
    }
    return false;
  }

  /**
   * Whether an element is masked where it is now: by its own rule, by an ancestor's, by the page,
   * or because it was sent masked before.
   * @param {Element} el
   * @param {string} pageUrl
   * @returns {boolean}
   */
  isMasked(el, pageUrl) {
    const ctx = this.contextOf(el, pageUrl) | this.stuck(el);
    return ctx !== 0 || this.effectiveMask(el, ctx) !== null;
  }

  /**
   * The mask context of a node from its ancestors (walking up through shadow hosts and frames).
   * @param {Node} node
   * @param {string} pageUrl
   * @returns {number}
   */
  contextOf(node, pageUrl) {
    if (this.pageMasked(pageUrl)) return CTX_ALL;
    /** @type {Element[]} */
    const chain = [];
    /** @type {Node | null} */
    let cur = parentAcrossBoundaries(node);
    while (cur) {
      if (cur.nodeType === 1) chain.push(/** @type {Element} */ (cur));
      cur = parentAcrossBoundaries(cur);
    }
    let ctx = 0;
    for (let i = chain.length - 1; i >= 0; i--) {
      ctx = MaskRules.childContext(ctx, this.effectiveMask(chain[i], ctx));
    }
    return ctx;
  }
}

/**
 * The parent of a node, stepping from a shadow root to its host and from a frame's document to
 * its iframe element.
 * @param {Node} node
 * @returns {Node | null}
 */
export function parentAcrossBoundaries(node) {
  if (node.parentNode) {
    const parent = node.parentNode;
    if (parent.nodeType === 11 && /** @type {ShadowRoot} */ (parent).host) return /** @type {ShadowRoot} */ (parent).host;
    return parent;
  }
  if (node.nodeType === 11 && /** @type {ShadowRoot} */ (node).host) return /** @type {ShadowRoot} */ (node).host;
  if (node.nodeType === 9) {
    const frame = /** @type {Document} */ (node).defaultView?.frameElement ?? null;
    return frame;
  }
  return null;
}

/**
 * @param {Element} el
 * @param {string} selector
 * @returns {boolean}
 */
function safeMatches(el, selector) {
  try {
    return el.matches(selector);
  } catch {
    return false;
  }
}
