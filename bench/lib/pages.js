// Customer pages the browser benchmarks load, generated so every run sees the same DOM.

/**
 * The SDK's tag, loaded from the Cobrowse server by a page on another origin.
 * @param {string} cobrowseBase e.g. http://127.0.0.1:PORT
 */
export function sdkTag(cobrowseBase) {
  return `<script type="module" src="${cobrowseBase}/sdk/cobrowse.js" data-server="${cobrowseBase}" data-auto-ui="false"></script>`;
}

const WORDS = 'account balance transfer statement payment savings interest card limit branch online secure review confirm details history'.split(' ');

/**
 * Deterministic filler text.
 * @param {number} seed
 * @param {number} words
 */
export function filler(seed, words) {
  const out = [];
  let i = seed;
  for (let w = 0; w < words; w++) {
    out.push(WORDS[i % WORDS.length]);
    i = (i * 31 + 7) % 1_000_003;
  }
  return out.join(' ');
}

/**
 * A page of about `elements` elements: cards with headings, paragraphs, links, lists, a table.
 * The last element has id "last".
 * @param {number} elements
 */
export function bigBody(elements) {
  const parts = [];
  let count = 0;
  let s = 0;
  while (count < elements - 40) {
    parts.push(`<section class="card c${s % 12}" data-index="${s}"><h2 class="title">${filler(s, 4)}</h2>`);
    parts.push(`<p class="lead">${filler(s * 3, 24)} <a href="/item/${s}">${filler(s + 1, 2)}</a> <span class="tag">${filler(s + 2, 1)}</span></p>`);
    parts.push(`<ul class="items">`);
    for (let i = 0; i < 6; i++) parts.push(`<li class="item item-${i}"><a href="/item/${s}/${i}">${filler(s * 7 + i, 3)}</a> <em>${i}</em></li>`);
    parts.push(`</ul><table class="facts"><tbody>`);
    for (let r = 0; r < 2; r++) parts.push(`<tr><td>${filler(s + r, 1)}</td><td>${(s * 13 + r) % 997}</td></tr>`);
    parts.push(`</tbody></table></section>`);
    count += 1 + 1 + 3 + 1 + 6 * 3 + 2 + 2 * 3;
    s++;
  }
  parts.push('<footer>');
  while (count < elements - 1) {
    parts.push(`<span class="f">${count}</span>`);
    count++;
  }
  parts.push('<p id="last">end of page</p></footer>');
  return parts.join('\n');
}

const STYLE = `body{font:14px/1.4 sans-serif;margin:0;padding:16px;color:#222}
.card{border:1px solid #ddd;border-radius:6px;margin:8px 0;padding:8px}
.title{font-size:16px;margin:0 0 4px}.items{margin:4px 0;padding-left:18px}
.item{color:#345}.facts td{padding:2px 6px;border-bottom:1px solid #eee}
#probe{font-weight:bold}.flag{outline:1px solid red}`;

/**
 * A full HTML page with the given head additions and body.
 * @param {string} title
 * @param {string} head
 * @param {string} body
 */
export function page(title, head, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>${STYLE}</style>
${head}
</head><body>
${body}
</body></html>`;
}

/**
 * The latency page: an ordinary page of about 300 elements with a probe the benchmark changes.
 * @param {string} cobrowseBase
 */
export function latencyPage(cobrowseBase) {
  return page(
    'Latency probe',
    sdkTag(cobrowseBase),
    `<h1>Account overview</h1><p id="probe" data-stamp="none">waiting</p><ul id="feed"></ul>\n${bigBody(300)}`,
  );
}

/**
 * The join-time page: 6,000 elements.
 * @param {string} cobrowseBase
 */
export function joinPage(cobrowseBase) {
  return page('6,000 elements', sdkTag(cobrowseBase), bigBody(6000));
}
