// Scripted workloads of the capture benchmark, served to every page as a classic script so the
// Cobrowse SDK, rrweb and the no-recorder baseline run exactly the same code. Each phase spreads
// its work over animation frames (one round per frame), as a real page's updates arrive.
(() => {
  const raf = () => new Promise((resolve) => requestAnimationFrame(() => resolve(undefined)));

  /** @param {number} rounds @param {(round: number) => void} body */
  async function rounds(rounds, body) {
    for (let r = 0; r < rounds; r++) {
      await raf();
      body(r);
    }
    await raf();
  }

  /** @param {string} id */
  const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

  /** @type {Record<string, () => void>} */
  const setups = {
    cssom() {
      // Script-modified rules: the effective stylesheet differs from its text, so a snapshot
      // must serialize the rules themselves.
      const sheet = /** @type {CSSStyleSheet} */ (/** @type {HTMLStyleElement} */ (byId('sheet')).sheet);
      for (let i = 0; i < 500; i++) sheet.insertRule(`.js-${i} .inner-${i % 7}{margin:${i % 13}px;color:rgb(${i % 255},40,90)}`, sheet.cssRules.length);
      const constructed = new CSSStyleSheet();
      constructed.replaceSync(Array.from({ length: 200 }, (_, i) => `.adopted-${i}{padding:${i % 9}px}`).join('\n'));
      document.adoptedStyleSheets = [constructed];
      /** @type {any} */ (window).__constructed = constructed;
    },
  };

  /** @type {Record<string, () => Promise<void>>} */
  const phases = {
    async 'demo-input'() {
      const name = /** @type {HTMLInputElement} */ (byId('name'));
      const text = 'Jane Q. Customer, 42 Example Street';
      await rounds(text.length, (r) => {
        name.value = text.slice(0, r + 1);
        name.dispatchEvent(new Event('input', { bubbles: true }));
      });
      const plan = /** @type {HTMLSelectElement} */ (byId('plan'));
      const terms = /** @type {HTMLInputElement} */ (byId('terms'));
      await rounds(10, (r) => {
        plan.selectedIndex = r % 3;
        plan.dispatchEvent(new Event('change', { bubbles: true }));
        terms.checked = r % 2 === 0;
        terms.dispatchEvent(new Event('change', { bubbles: true }));
      });
    },
    async 'list-append'() {
      const list = byId('list');
      await rounds(10, (r) => {
        const fragment = document.createDocumentFragment();
        for (let i = 0; i < 100; i++) {
          const li = document.createElement('li');
          li.className = 'row';
          li.dataset.n = String(r * 100 + i);
          const label = document.createElement('span');
          label.textContent = `Item ${r * 100 + i}: payment reference ${(r * 100 + i) * 7919}`;
          li.append(label, ' ', Object.assign(document.createElement('button'), { textContent: 'Details' }));
          fragment.append(li);
        }
        list.append(fragment);
      });
    },
    async 'list-toggle'() {
      const items = Array.from(byId('list').children);
      await rounds(10, (r) => {
        for (let i = r * 100; i < r * 100 + 100 && i < items.length; i++) items[i].classList.toggle('done');
      });
    },
    async 'list-reorder'() {
      const list = byId('list');
      await rounds(10, () => {
        // Move the last 100 items to the front, in reverse: after 10 rounds the list is reversed.
        for (let i = 0; i < 100; i++) {
          const last = list.lastElementChild;
          if (last) list.insertBefore(last, list.children[i] ?? null);
        }
      });
    },
    async 'list-remove'() {
      const list = byId('list');
      await rounds(10, () => {
        for (let i = 0; i < 100 && list.firstElementChild; i++) list.firstElementChild.remove();
      });
    },
    async 'attribute-storm'() {
      const boxes = Array.from(document.querySelectorAll('.box'));
      await rounds(20, (r) => {
        for (const [i, box] of boxes.entries()) {
          box.setAttribute('class', `box state-${(r + i) % 5}`);
          box.setAttribute('style', `width:${100 + ((r * 7 + i) % 50)}px`);
          box.setAttribute('data-value', String(r * 1000 + i));
          box.setAttribute('aria-label', `box ${i} round ${r}`);
          box.setAttribute('title', `updated ${r}`);
        }
      });
    },
    async 'text-storm'() {
      const texts = Array.from(document.querySelectorAll('.t')).map((el) => /** @type {Text} */ (el.firstChild));
      await rounds(20, (r) => {
        for (const [i, text] of texts.entries()) text.data = `value ${r * 1000 + i} updated`;
      });
    },
    async 'cssom-rules'() {
      const sheet = /** @type {CSSStyleSheet} */ (/** @type {HTMLStyleElement} */ (byId('sheet')).sheet);
      const constructed = /** @type {any} */ (window).__constructed;
      await rounds(20, (r) => {
        for (let i = 0; i < 10; i++) sheet.insertRule(`.dyn-${r}-${i}{margin:${i}px}`, sheet.cssRules.length);
        for (let i = 0; i < 10; i++) sheet.deleteRule(0);
        constructed.replaceSync(`.adopted-round{padding:${r}px}\n.adopted-x{margin:${r % 4}px}`);
      });
    },
  };

  /** @type {any} */ (window).__workloads = {
    /** @param {string} page */
    setup(page) {
      setups[page]?.();
    },
    /** @param {string} phase */
    run(phase) {
      return phases[phase]();
    },
  };
})();
