// Carries out the agent's actions on the customer's page, in write mode only, and says why when
// it will not. Restricted and masked elements are off limits; so is implicit form submission by
// Enter, and navigation to origins outside the allowed sites.

import { MaskRules, parentAcrossBoundaries } from '../capture/rules.js';
import { RefusalReason } from '../protocol.js';

/** @typedef {import('../protocol.js').Action} Action */
/** @typedef {import('../protocol.js').RefusalReasonValue} RefusalReasonValue */

/**
 * @typedef {object} ActionExecutorOptions
 * @property {Window & typeof globalThis} win
 * @property {MaskRules} rules
 * @property {(id: number) => Node | null} nodeById The node the mirror knows by this ID.
 * @property {() => boolean} isWriteMode
 * @property {() => string[]} siteOrigins Origins the agent may send the customer to.
 * @property {(dispatching: boolean) => void} [onDispatch] Told while the SDK dispatches events,
 *   so the customer's own click capture can tell them apart.
 * @property {(url: string) => void} [navigate] Loads a URL (default `location.assign`).
 */

/** Editing keys the agent may press. */
const EDITING_KEYS = new Set(['Backspace', 'Delete', 'ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'Tab', 'Enter', 'Escape']);

/** Input types that do not take typed text. */
const NON_TEXT_INPUTS = new Set(['checkbox', 'radio', 'file', 'submit', 'image', 'reset', 'button', 'hidden', 'range', 'color']);

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), [contenteditable=""], [contenteditable=true]';

export class ActionExecutor {
  /** @param {ActionExecutorOptions} options */
  constructor(options) {
    this.options = options;
    this.win = options.win;
  }

  /**
   * Runs an action. Returns null when it was carried out, or the reason it was refused.
   * @param {Action} action
   * @returns {RefusalReasonValue | null}
   */
  run(action) {
    if (!this.options.isWriteMode()) return RefusalReason.NOT_IN_WRITE_MODE;
    if (action.do === 'navigate') return this.#navigate(action);
    const node = this.options.nodeById(action.id);
    if (!node || !node.isConnected) return RefusalReason.NOT_FOUND;
    if (action.do === 'scroll') return this.#scroll(node, action.x, action.y);
    if (node.nodeType !== 1) return RefusalReason.UNSUPPORTED;
    const el = /** @type {HTMLElement} */ (node);
    if (this.#restricted(el)) return RefusalReason.RESTRICTED;
    if (this.#masked(el)) return RefusalReason.MASKED;
    this.options.onDispatch?.(true);
    try {
      switch (action.do) {
        case 'click':
          return this.#click(el, action.x, action.y);
        case 'input':
          return this.#input(el, action.value);
        case 'select':
          return this.#select(el, action.selected);
        case 'check':
          return this.#check(el, action.checked);
        case 'focus':
          el.focus();
          return null;
        case 'key':
          return this.#key(el, action.key);
        default:
          return RefusalReason.UNSUPPORTED;
      }
    } finally {
      this.options.onDispatch?.(false);
    }
  }

  /**
   * Whether the element or any ancestor is restricted (clicking inside a submit button submits).
   * @param {Element} el
   * @returns {boolean}
   */
  #restricted(el) {
    for (let cur = /** @type {Node | null} */ (el); cur; cur = parentAcrossBoundaries(cur)) {
      if (cur.nodeType === 1 && this.options.rules.isRestricted(/** @type {Element} */ (cur))) return true;
    }
    return false;
  }

  /**
   * @param {Element} el
   * @returns {boolean}
   */
  #masked(el) {
    return this.options.rules.isMasked(el, this.win.location.href);
  }

  /**
   * Whether the agent may send the customer to this URL.
   * @param {string} raw
   * @returns {URL | null}
   */
  #allowedUrl(raw) {
    let url;
    try {
      url = new URL(raw, this.win.location.href);
    } catch {
      return null;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    const own = this.win.location.origin;
    const allowed = new Set([own, ...this.options.siteOrigins().map((o) => {
      try {
        return new URL(o).origin;
      } catch {
        return o;
      }
    })]);
    return allowed.has(url.origin) ? url : null;
  }

  /**
   * @param {Extract<Action, {do: 'navigate'}>} action
   * @returns {RefusalReasonValue | null}
   */
  #navigate(action) {
    const history = this.win.history;
    switch (action.nav) {
      case 'back':
        history.back();
        return null;
      case 'forward':
        history.forward();
        return null;
      case 'reload':
        this.win.location.reload();
        return null;
      case 'url': {
        const url = this.#allowedUrl(action.url);
        if (!url) return RefusalReason.ORIGIN_NOT_ALLOWED;
        (this.options.navigate ?? ((u) => this.win.location.assign(u)))(url.href);
        return null;
      }
      default:
        return RefusalReason.UNSUPPORTED;
    }
  }

  /**
   * @param {Node} node
   * @param {number} x
   * @param {number} y
   * @returns {RefusalReasonValue | null}
   */
  #scroll(node, x, y) {
    if (node.nodeType === 9) {
      this.win.scrollTo(x, y);
      return null;
    }
    if (node.nodeType !== 1) return RefusalReason.UNSUPPORTED;
    const el = /** @type {Element} */ (node);
    if (el === this.win.document.documentElement || el === this.win.document.body) {
      this.win.scrollTo(x, y);
    } else {
      el.scrollLeft = x;
      el.scrollTop = y;
    }
    return null;
  }

  /**
   * @param {HTMLElement} el
   * @param {number} x
   * @param {number} y
   * @returns {RefusalReasonValue | null}
   */
  #click(el, x, y) {
    const link = el.closest('a[href]');
    if (link) {
      const href = link.getAttribute('href') ?? '';
      if (!href.startsWith('#') && !this.#allowedUrl(href)) return RefusalReason.ORIGIN_NOT_ALLOWED;
    }
    const win = this.win;
    const init = { bubbles: true, cancelable: true, composed: true, clientX: x, clientY: y, button: 0, view: win };
    if (typeof win.PointerEvent === 'function') el.dispatchEvent(new win.PointerEvent('pointerdown', { ...init, pointerType: 'mouse', isPrimary: true }));
    el.dispatchEvent(new win.MouseEvent('mousedown', init));
    if (typeof el.focus === 'function') el.focus();
    if (typeof win.PointerEvent === 'function') el.dispatchEvent(new win.PointerEvent('pointerup', { ...init, pointerType: 'mouse', isPrimary: true }));
    el.dispatchEvent(new win.MouseEvent('mouseup', init));
    el.click();
    return null;
  }

  /**
   * Sets a text field's value through the native setter, so frameworks that track the value
   * (React) see the change, then fires `input` and `change`.
   * @param {HTMLElement} el
   * @param {string} value
   * @returns {RefusalReasonValue | null}
   */
  #input(el, value) {
    const win = this.win;
    if (el.localName === 'input') {
      const input = /** @type {HTMLInputElement} */ (el);
      if (NON_TEXT_INPUTS.has(input.type)) return RefusalReason.UNSUPPORTED;
      setNativeValue(win.HTMLInputElement.prototype, input, value);
    } else if (el.localName === 'textarea') {
      setNativeValue(win.HTMLTextAreaElement.prototype, el, value);
    } else if (el.isContentEditable) {
      el.textContent = value;
    } else {
      return RefusalReason.UNSUPPORTED;
    }
    el.dispatchEvent(new win.Event('input', { bubbles: true, composed: true }));
    el.dispatchEvent(new win.Event('change', { bubbles: true }));
    return null;
  }

  /**
   * @param {HTMLElement} el
   * @param {number[]} selected
   * @returns {RefusalReasonValue | null}
   */
  #select(el, selected) {
    if (el.localName !== 'select') return RefusalReason.UNSUPPORTED;
    const select = /** @type {HTMLSelectElement} */ (el);
    if (selected.some((i) => !Number.isInteger(i) || i < 0 || i >= select.options.length)) return RefusalReason.UNSUPPORTED;
    if (!select.multiple && selected.length > 1) return RefusalReason.UNSUPPORTED;
    for (let i = 0; i < select.options.length; i++) select.options[i].selected = selected.includes(i);
    if (!select.multiple && selected.length === 0) select.selectedIndex = -1;
    select.dispatchEvent(new this.win.Event('input', { bubbles: true, composed: true }));
    select.dispatchEvent(new this.win.Event('change', { bubbles: true }));
    return null;
  }

  /**
   * @param {HTMLElement} el
   * @param {boolean} checked
   * @returns {RefusalReasonValue | null}
   */
  #check(el, checked) {
    if (el.localName !== 'input') return RefusalReason.UNSUPPORTED;
    const input = /** @type {HTMLInputElement} */ (el);
    if (input.type !== 'checkbox' && input.type !== 'radio') return RefusalReason.UNSUPPORTED;
    if (input.checked === checked) return null;
    if (input.type === 'checkbox' || checked) {
      input.click(); // toggles and fires click, input and change as a user's click would
    } else {
      input.checked = false;
      input.dispatchEvent(new this.win.Event('input', { bubbles: true, composed: true }));
      input.dispatchEvent(new this.win.Event('change', { bubbles: true }));
    }
    return null;
  }

  /**
   * @param {HTMLElement} el
   * @param {string} key
   * @returns {RefusalReasonValue | null}
   */
  #key(el, key) {
    if (!EDITING_KEYS.has(key)) return RefusalReason.UNSUPPORTED;
    const isTextField = (el.localName === 'input' && !NON_TEXT_INPUTS.has(/** @type {HTMLInputElement} */ (el).type)) || el.localName === 'textarea';
    if (key === 'Enter' && el.localName !== 'textarea' && el.localName !== 'a' && (el.closest('form') || /** @type {HTMLInputElement} */ (el).form)) {
      return RefusalReason.IMPLICIT_SUBMIT;
    }
    const win = this.win;
    const init = { key, bubbles: true, cancelable: true, composed: true };
    const proceed = el.dispatchEvent(new win.KeyboardEvent('keydown', init));
    if (proceed) {
      if (isTextField) this.#editField(/** @type {HTMLInputElement} */ (el), key);
      else if (key === 'Tab') this.#moveFocus(el);
      else if (key === 'Enter' && el.localName === 'a') el.click();
    }
    el.dispatchEvent(new win.KeyboardEvent('keyup', init));
    return null;
  }

  /**
   * The default action of an editing key in a text field.
   * @param {HTMLInputElement} field
   * @param {string} key
   */
  #editField(field, key) {
    const value = field.value;
    let start = field.selectionStart ?? value.length;
    let end = field.selectionEnd ?? value.length;
    /** @type {string | null} */
    let next = null;
    let inputType = '';
    switch (key) {
      case 'Backspace':
        if (start === end && start > 0) start--;
        next = value.slice(0, start) + value.slice(end);
        end = start;
        inputType = 'deleteContentBackward';
        break;
      case 'Delete':
        if (start === end && end < value.length) end++;
        next = value.slice(0, start) + value.slice(end);
        end = start;
        inputType = 'deleteContentForward';
        break;
      case 'Enter':
        next = `${value.slice(0, start)}\n${value.slice(end)}`;
        start = end = start + 1;
        inputType = 'insertLineBreak';
        break;
      case 'ArrowLeft':
        start = end = Math.max(0, start === end ? start - 1 : start);
        break;
      case 'ArrowRight':
        start = end = Math.min(value.length, start === end ? end + 1 : end);
        break;
      case 'Home':
      case 'ArrowUp':
        start = end = 0;
        break;
      case 'End':
      case 'ArrowDown':
        start = end = value.length;
        break;
      case 'Tab':
        this.#moveFocus(field);
        return;
      default:
        return;
    }
    if (next !== null) {
      const proto = field.localName === 'textarea' ? this.win.HTMLTextAreaElement.prototype : this.win.HTMLInputElement.prototype;
      setNativeValue(proto, field, next);
    }
    try {
      field.setSelectionRange(start, end);
    } catch {
      // types without a selection
    }
    if (next !== null) {
      const InputEventCtor = this.win.InputEvent ?? this.win.Event;
      field.dispatchEvent(new InputEventCtor('input', { bubbles: true, composed: true, inputType }));
    }
  }

  /** @param {Element} from */
  #moveFocus(from) {
    const all = Array.from(this.win.document.querySelectorAll(FOCUSABLE));
    const index = all.indexOf(from);
    const next = /** @type {HTMLElement | undefined} */ (all[index + 1]);
    next?.focus();
  }
}

/**
 * Sets `.value` through the prototype's setter, bypassing any setter a framework put on the
 * instance (React tracks values that way and would otherwise ignore the change).
 * @param {object} proto
 * @param {HTMLElement} el
 * @param {string} value
 */
function setNativeValue(proto, el, value) {
  const setter = Object.getOwnPropertyDescriptor(proto, 'value')?.set;
  if (setter) setter.call(el, value);
  else /** @type {HTMLInputElement} */ (el).value = value;
}
