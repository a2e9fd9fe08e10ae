// Mirrors the customer's interaction states — hover, focus, focus-visible, focus-within — in the
// rebuilt page without touching the mirrored elements.
//
// The rebuilt page never has the customer's real hover or focus: the agent's own mouse is not the
// customer's, and focusing an element inside the viewer would take the keyboard away from the
// workspace. Instead, every page rule that uses one of these pseudo-classes is copied into one
// constructed stylesheet adopted by the rebuilt document, with the pseudo-class replaced by a
// structural selector (`:root > :nth-child(2) > :nth-child(3)`) of the elements the customer
// hovers or focuses. No attribute, class or node is added to the page. The copy keeps the
// original specificity: `:hover` weighs one class, and so does its replacement
// `:where(<paths>):not(.<never-used class>)`.
//
// The browser's own focus ring is copied too, in a cascade layer so that any page rule (such as
// `:focus { outline: none }`) still wins over it, as it does in the customer's browser.

/** The interaction pseudo-classes this module mirrors. */
const STATE_PSEUDO = /:(hover|focus-visible|focus-within|focus)(?![\w-])/g;

/** A class no page uses: `:not()` of it matches everything and weighs as much as a pseudo-class. */
const NEVER_CLASS = 'cb-state-never-6d1f';

/**
 * @typedef {object} StateRule
 * @property {string} selector The page's selector text, with at least one state pseudo-class.
 * @property {string} body The declarations.
 * @property {string[]} wrappers Enclosing conditional rules' preludes (`@media (min-width: 40em)`).
 */

/**
 * @typedef {object} CustomerStates
 * @property {Element[]} hover The element under the customer's pointer and its ancestors.
 * @property {Element | null} focus The element the customer's focus is on.
 * @property {boolean} focusVisible Whether the customer's browser shows a focus ring there.
 * @property {Element[]} [maskedImages] Images the customer's browser masked: they arrive without
 *   a source, and an image without a source but with alt text lays out as a line of text; as an
 *   inline block it keeps the size its width and height give, as the customer's image had.
 */

/**
 * Whether a selector text uses one of the mirrored pseudo-classes (outside strings and brackets).
 * @param {string} selector
 * @returns {boolean}
 */
export function usesStatePseudo(selector) {
  return rewriteSelector(selector, () => 'x') !== selector;
}

/**
 * Replaces each mirrored pseudo-class in a selector with what `replace` returns for it. Text
 * inside quotes and attribute brackets is left alone, as are pseudo-elements (`::focus` is not a
 * thing, but a custom `::part(hover)` must not be touched).
 * @param {string} selector
 * @param {(state: 'hover' | 'focus' | 'focus-visible' | 'focus-within') => string} replace
 * @returns {string}
 */
export function rewriteSelector(selector, replace) {
  let out = '';
  let i = 0;
  while (i < selector.length) {
    const ch = selector[i];
    if (ch === '"' || ch === "'") {
      const end = closingQuote(selector, i);
      out += selector.slice(i, end);
      i = end;
      continue;
    }
    if (ch === '[') {
      const end = selector.indexOf(']', i);
      const stop = end < 0 ? selector.length : end + 1;
      out += selector.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '\\') {
      out += selector.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (ch === ':' && selector[i + 1] !== ':' && selector[i - 1] !== ':') {
      STATE_PSEUDO.lastIndex = i;
      const match = STATE_PSEUDO.exec(selector);
      if (match && match.index === i) {
        out += replace(/** @type {'hover' | 'focus' | 'focus-visible' | 'focus-within'} */ (match[1]));
        i += match[0].length;
        continue;
      }
    }
    out += ch;
    i++;
  }
  return out;
}

/**
 * @param {string} text
 * @param {number} start index of the opening quote
 * @returns {number} index just after the closing quote
 */
function closingQuote(text, start) {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text[i] === quote) return i + 1;
    else i++;
  }
  return text.length;
}

/**
 * The rules of a document's stylesheets (and adopted ones) that use a mirrored pseudo-class.
 * Sheets whose rules cannot be read (cross-origin without the proxy) are skipped.
 * @param {Document} doc
 * @param {CSSStyleSheet | null} own the module's own sheet, left out
 * @returns {StateRule[]}
 */
export function collectStateRules(doc, own) {
  /** @type {StateRule[]} */
  const out = [];
  /** @type {CSSStyleSheet[]} */
  const sheets = [];
  for (const sheet of Array.from(doc.styleSheets ?? [])) sheets.push(/** @type {CSSStyleSheet} */ (sheet));
  if ('adoptedStyleSheets' in doc) for (const sheet of doc.adoptedStyleSheets) if (sheet !== own) sheets.push(sheet);
  for (const sheet of sheets) {
    /** @type {CSSRuleList | null} */
    let rules = null;
    try {
      rules = sheet.cssRules;
    } catch {
      rules = null; // cross-origin
    }
    if (rules) collectFrom(rules, [], out);
  }
  return out;
}

/**
 * @param {CSSRuleList} rules
 * @param {string[]} wrappers
 * @param {StateRule[]} out
 */
function collectFrom(rules, wrappers, out) {
  for (const rule of Array.from(rules)) {
    const anyRule = /** @type {any} */ (rule);
    if (typeof anyRule.selectorText === 'string' && anyRule.style) {
      const selector = /** @type {string} */ (anyRule.selectorText);
      if (usesStatePseudo(selector)) out.push({ selector, body: anyRule.style.cssText, wrappers });
      continue;
    }
    const prelude = conditionPrelude(rule);
    if (prelude !== null && anyRule.cssRules) {
      collectFrom(anyRule.cssRules, [...wrappers, prelude], out);
    } else if (anyRule.styleSheet) {
      // @import: its sheet's rules (same-origin or proxied only).
      try {
        const inner = /** @type {CSSStyleSheet} */ (anyRule.styleSheet).cssRules;
        const media = anyRule.media && anyRule.media.mediaText ? [`@media ${anyRule.media.mediaText}`] : [];
        collectFrom(inner, [...wrappers, ...media], out);
      } catch {
        // cross-origin import
      }
    }
  }
}

/**
 * The prelude of a conditional grouping rule, or null for other rules.
 * @param {CSSRule} rule
 * @returns {string | null}
 */
function conditionPrelude(rule) {
  const anyRule = /** @type {any} */ (rule);
  const text = String(anyRule.cssText ?? '');
  if (anyRule.media && typeof anyRule.conditionText === 'string' && text.startsWith('@media')) return `@media ${anyRule.conditionText}`;
  if (text.startsWith('@media') && anyRule.media) return `@media ${anyRule.media.mediaText}`;
  if (text.startsWith('@supports')) return `@supports ${anyRule.conditionText}`;
  if (text.startsWith('@container')) return `@container ${anyRule.containerName ?? ''} ${anyRule.containerQuery ?? anyRule.conditionText ?? ''}`;
  if (text.startsWith('@layer') && typeof anyRule.name === 'string') return `@layer ${anyRule.name}`;
  return null;
}

/**
 * A selector that matches exactly this element in its tree, by child positions from the root.
 * Null for elements not in a document tree (detached, or inside a shadow root: a document's
 * stylesheet cannot reach into shadow trees).
 * @param {Element} el
 * @returns {string | null}
 */
export function structuralPath(el) {
  /** @type {string[]} */
  const steps = [];
  /** @type {Element | null} */
  let current = el;
  while (current) {
    const parent = current.parentNode;
    if (!parent) return null;
    if (parent.nodeType === 9) {
      steps.unshift(':root');
      return steps.join(' > ');
    }
    if (parent.nodeType !== 1) return null; // a shadow root or a fragment
    let index = 1;
    for (let sibling = current.previousElementSibling; sibling; sibling = sibling.previousElementSibling) index++;
    steps.unshift(`:nth-child(${index})`);
    current = /** @type {Element} */ (parent);
  }
  return null;
}

/**
 * The CSS text mirroring the customer's states, for rules found by `collectStateRules`.
 * @param {StateRule[]} rules
 * @param {CustomerStates} states
 * @returns {string}
 */
export function stateSheetText(rules, states) {
  const paths = (/** @type {Element[]} */ elements) => elements.map(structuralPath).filter((p) => p !== null);
  const hover = paths(states.hover);
  const focus = states.focus ? paths([states.focus]) : [];
  /** @type {Element[]} */
  const within = [];
  for (let el = states.focus; el; el = el.parentElement) within.push(el);
  const focusWithin = paths(within);
  const visible = states.focusVisible ? focus : [];
  /** @param {string[]} list */
  const matcher = (list) => (list.length ? `:where(${list.join(', ')}):not(.${NEVER_CLASS})` : null);
  const replacements = {
    hover: matcher(hover),
    focus: matcher(focus),
    'focus-visible': matcher(visible),
    'focus-within': matcher(focusWithin),
  };
  /** @type {string[]} */
  const out = [];
  const masked = paths(states.maskedImages ?? []);
  if (masked.length) out.push(`@layer cb-user-agent { :where(${masked.join(', ')}) { display: inline-block; } }`);
  if (visible.length) {
    // The browser's default focus ring, below every page rule.
    out.push(`@layer cb-user-agent { :where(${visible.join(', ')}) { outline: auto 1px; outline: -webkit-focus-ring-color auto 1px; } }`);
  }
  for (const rule of rules) {
    const parts = splitSelectorList(rule.selector);
    /** @type {string[]} */
    const kept = [];
    for (const part of parts) {
      let impossible = false;
      let stateful = false;
      const rewritten = rewriteSelector(part, (state) => {
        stateful = true;
        const replacement = replacements[state];
        if (replacement === null) impossible = true;
        return replacement ?? '';
      });
      // Parts without a state already apply through the page's own sheet.
      if (stateful && !impossible) kept.push(rewritten);
    }
    if (!kept.length) continue;
    let text = `${kept.join(', ')} { ${rule.body} }`;
    for (let i = rule.wrappers.length - 1; i >= 0; i--) text = `${rule.wrappers[i]} { ${text} }`;
    out.push(text);
  }
  return out.join('\n');
}

/**
 * Splits a selector list at its top-level commas.
 * @param {string} selector
 * @returns {string[]}
 */
export function splitSelectorList(selector) {
  /** @type {string[]} */
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (ch === '\\') {
      i++;
    } else if (ch === '"' || ch === "'") {
      i = closingQuote(selector, i) - 1;
    } else if (ch === '(' || ch === '[') {
      depth++;
    } else if (ch === ')' || ch === ']') {
      depth = Math.max(0, depth - 1);
    } else if (ch === ',' && depth === 0) {
      parts.push(selector.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(selector.slice(start).trim());
  return parts.filter((p) => p !== '');
}

/**
 * The element at a point of a document and its ancestors (crossing into open shadow roots and
 * back out to their hosts), innermost first: what `:hover` matches when the pointer is there.
 * @param {Document} doc
 * @param {number} x viewport coordinates
 * @param {number} y
 * @returns {Element[]}
 */
export function hoverChainAt(doc, x, y) {
  if (typeof doc.elementFromPoint !== 'function') return [];
  /** @type {Element | null} */
  let el = doc.elementFromPoint(x, y);
  // Descend into open shadow roots.
  for (let depth = 0; el && el.shadowRoot && depth < 32; depth++) {
    const inner = el.shadowRoot.elementFromPoint(x, y);
    if (!inner || inner === el) break;
    el = inner;
  }
  /** @type {Element[]} */
  const chain = [];
  /** @type {Node | null} */
  let node = el;
  while (node) {
    if (node.nodeType === 1) chain.push(/** @type {Element} */ (node));
    if (node.parentNode) node = node.parentNode;
    else if (node.nodeType === 11 && /** @type {ShadowRoot} */ (node).host) node = /** @type {ShadowRoot} */ (node).host;
    else node = null;
  }
  return chain;
}

/**
 * Keeps one constructed stylesheet in a rebuilt document up to date with the customer's states.
 */
export class StateMirror {
  /**
   * @param {(doc: Document, sheet: CSSStyleSheet | null) => void} install puts the sheet into the
   *   document's adopted stylesheets, after the page's own (the rebuilder does this)
   */
  constructor(install) {
    this.install = install;
    /** @type {Document | null} */
    this.doc = null;
    /** @type {CSSStyleSheet | null} */
    this.sheet = null;
    /** @type {StateRule[] | null} rules found in the page, until its styles change */
    this.rules = null;
    /** @type {CustomerStates} */
    this.states = { hover: [], focus: null, focusVisible: false, maskedImages: [] };
    this.lastText = '';
  }

  /**
   * A new rebuilt document (or the same one rebuilt): forget everything.
   * @param {Document} doc
   */
  attach(doc) {
    this.doc = doc;
    this.rules = null;
    this.lastText = '';
    this.states = { hover: [], focus: null, focusVisible: false, maskedImages: [] };
    const view = /** @type {any} */ (doc.defaultView);
    this.sheet = null;
    if (view && typeof view.CSSStyleSheet === 'function' && 'adoptedStyleSheets' in doc) {
      try {
        this.sheet = new view.CSSStyleSheet();
      } catch {
        this.sheet = null;
      }
    }
    this.install(doc, this.sheet);
  }

  /** The page's styles may have changed: find the rules again on the next update. */
  stylesChanged() {
    this.rules = null;
  }

  /**
   * @param {Partial<CustomerStates>} states
   */
  set(states) {
    this.states = { ...this.states, ...states };
    this.update();
  }

  /** Rewrites the sheet if what it should say changed. */
  update() {
    const doc = this.doc;
    if (!doc || !this.sheet) return;
    const active = this.states.hover.length > 0 || this.states.focus !== null;
    if (!active) {
      this.write(stateSheetText([], this.states));
      return;
    }
    if (this.rules === null) this.rules = collectStateRules(doc, this.sheet);
    this.write(stateSheetText(this.rules, this.states));
  }

  /** @param {string} text */
  write(text) {
    if (text === this.lastText || !this.sheet) return;
    this.lastText = text;
    try {
      this.sheet.replaceSync(text);
    } catch {
      // A rule this browser cannot parse after rewriting; the states are not shown.
    }
  }
}
