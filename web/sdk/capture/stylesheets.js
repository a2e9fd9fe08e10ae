// Stylesheets: reading CSS text back from the CSSOM, and noticing when script changes it.
//
// A sheet's original text is sent while it is unmodified (the CSSOM loses declarations that use
// var() inside shorthands); only constructed or CSSOM-modified sheets go out as rule text.

import { absoluteCssUrls } from './urls.js';

/**
 * A sheet's rules, or null when the page may not read them (a sheet of another origin throws).
 * @param {CSSStyleSheet} sheet
 * @returns {CSSRuleList | null}
 */
function readableRules(sheet) {
  try {
    return sheet.cssRules;
  } catch {
    return null;
  }
}

/**
 * The CSS text of a sheet read from its rules, with URLs made absolute against the sheet's own
 * address. Null when the sheet cannot be read (cross-origin).
 * @param {CSSStyleSheet} sheet
 * @param {string} fallbackBase
 * @returns {string | null}
 */
export function sheetText(sheet, fallbackBase) {
  const rules = readableRules(sheet);
  if (!rules) return null;
  let text = '';
  for (let i = 0; i < rules.length; i++) {
    text += (i > 0 ? '\n' : '') + rules[i].cssText;
  }
  return absoluteCssUrls(text, sheet.href ?? fallbackBase);
}

/**
 * Whether script changed a `<style>` element's sheet before the SDK started watching (CSS-in-JS
 * libraries insert every rule into an empty `<style>`): its text then says less than its rules,
 * and a snapshot that sent the text would show the page without them. Told by the rule count:
 * the text parsed afresh (dropping what the browser drops) against the live sheet. A sheet of
 * another origin, or a browser that cannot parse a sheet on the side, counts as unchanged.
 * @param {CSSStyleSheet} sheet
 * @param {Element} style The `<style>` element.
 * @returns {boolean}
 */
export function changedBeforeWatching(sheet, style) {
  const rules = readableRules(sheet);
  if (!rules) return false;
  const text = style.textContent ?? '';
  if (text.trim() === '') return rules.length > 0;
  const Sheet = /** @type {typeof CSSStyleSheet | undefined} */ (style.ownerDocument.defaultView?.CSSStyleSheet);
  let fresh;
  try {
    fresh = new /** @type {typeof CSSStyleSheet} */ (Sheet)();
    fresh.replaceSync(text);
  } catch {
    return false;
  }
  // Constructed sheets drop @import rules, which come first in a sheet.
  let imports = 0;
  while (imports < rules.length && rules[imports].constructor.name === 'CSSImportRule') imports++;
  return fresh.cssRules.length + imports !== rules.length;
}

/**
 * One top-level rule change, as the page made it: `text` is the inserted rule as the browser
 * serializes it (read at once, since later changes move rules around); no `text` is a deletion.
 * @typedef {{index: number, text?: string}} RuleEdit
 */

/**
 * Wraps the CSSOM methods that change sheets so one recorder hears of every change. The wrappers
 * are installed on `start()` and removed on `stop()`; nothing is patched at import time.
 * `insertRule` and `deleteRule` are reported as rule edits, so a change can go out as one rule;
 * anything else (`replaceSync`, `replace`, the legacy `addRule`/`removeRule`) as a change with no
 * edit, which sends the whole sheet.
 */
export class StyleSheetWatcher {
  /**
   * @param {Window & typeof globalThis} win
   * @param {(sheet: CSSStyleSheet, edit: RuleEdit | null) => void} onChange
   */
  constructor(win, onChange) {
    this.win = win;
    this.onChange = onChange;
    /** Sheets whose rules script changed since they loaded. */
    /** @type {WeakSet<CSSStyleSheet>} */
    this.modified = new WeakSet();
    /** Bumped on every change, so pollers can tell quickly that nothing changed. */
    this.version = 0;
    /** @type {Array<() => void>} */
    this.restorers = [];
  }

  start() {
    const proto = this.win.CSSStyleSheet?.prototype;
    if (!proto) return;
    const watcher = this;
    for (const name of /** @type {const} */ (['insertRule', 'deleteRule', 'replaceSync', 'replace', 'addRule', 'removeRule'])) {
      const original = /** @type {any} */ (proto)[name];
      if (typeof original !== 'function') continue;
      /** @this {CSSStyleSheet} @param {...unknown} args */
      const wrapper = function (...args) {
        const result = original.apply(this, args);
        if (name === 'insertRule') {
          watcher.#changed(this, { index: result, text: this.cssRules[result]?.cssText ?? '' });
        } else if (name === 'deleteRule') {
          // The index as WebIDL converted it (an unsigned long); the call succeeded, so it was valid.
          watcher.#changed(this, { index: Number(args[0]) >>> 0 });
        } else if (result && typeof result.then === 'function') {
          result.then(() => watcher.#changed(this, null), () => {});
        } else {
          watcher.#changed(this, null);
        }
        return result;
      };
      /** @type {any} */ (proto)[name] = wrapper;
      this.restorers.push(() => {
        if (/** @type {any} */ (proto)[name] === wrapper) /** @type {any} */ (proto)[name] = original;
      });
    }
    for (const ctor of [this.win.Document, this.win.ShadowRoot]) {
      const target = ctor?.prototype;
      if (!target) continue;
      const desc = Object.getOwnPropertyDescriptor(target, 'adoptedStyleSheets');
      if (!desc || !desc.set || !desc.get || !desc.configurable) continue;
      const setter = desc.set;
      Object.defineProperty(target, 'adoptedStyleSheets', {
        ...desc,
        set(value) {
          setter.call(this, value);
          watcher.version++;
          watcher.onChange(/** @type {any} */ (null), null);
        },
      });
      this.restorers.push(() => Object.defineProperty(target, 'adoptedStyleSheets', desc));
    }
  }

  stop() {
    for (const restore of this.restorers.reverse()) restore();
    this.restorers = [];
  }

  /**
   * @param {CSSStyleSheet} sheet
   * @param {RuleEdit | null} edit
   */
  #changed(sheet, edit) {
    this.modified.add(sheet);
    this.version++;
    this.onChange(sheet, edit);
  }
}

/**
 * CSS text of the adopted sheets of a document or shadow root, or null when it has none.
 * @param {Document | ShadowRoot} owner
 * @param {string} base
 * @returns {string[] | null}
 */
export function adoptedTexts(owner, base) {
  const sheets = /** @type {{adoptedStyleSheets?: CSSStyleSheet[]}} */ (owner).adoptedStyleSheets;
  if (!sheets || sheets.length === 0) return null;
  return Array.from(sheets, (sheet) => sheetText(sheet, base) ?? '');
}
