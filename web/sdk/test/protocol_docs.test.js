// Keeps the browser's protocol module true to the Rust crate. The Rust test
// `crates/protocol/tests/documented_examples.rs` proves every example in docs/protocol.md is what
// the Rust encoder writes and that every code is documented; this test proves the same examples
// and codes are what the JavaScript side knows. Together the two cannot drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeFrame, FRAME_TAGS, ErrorCode, EndReason, NoticeCode, RefusalReason } from '../protocol.js';
import { decodeChatFrame, splitChatFrame } from '../chat/chat_protocol.js';
import { decodeDeskFrame } from '../../agent/desk_protocol.js';

const doc = readFileSync(fileURLToPath(new URL('../../../docs/protocol.md', import.meta.url)), 'utf8');

/** Every line inside a ```json block that is a frame example. */
function exampleFrames() {
  const lines = [];
  let inside = false;
  for (const line of doc.split('\n')) {
    if (line.trim().startsWith('```')) {
      inside = line.trim() === '```json';
      continue;
    }
    if (inside && line.trim().startsWith('["')) lines.push(line.trim());
  }
  return lines;
}

const OP_TAGS = new Set(['add', 'rm', 'attr', 'text', 'css', 'cssins', 'cssdel', 'adopt', 'mark', 'shadow', 'frame']);
const CHAT_TAGS = new Set(['chat_hello', 'desk_hello', 'chat_state', 'say', 'msg', 'presence', 'queue', 'accept', 'end_chat', 'desk', 'call', 'cobrowse']);

test('every documented co-browse frame decodes in the browser, and every tag is known', () => {
  const seen = new Set();
  for (const line of exampleFrames()) {
    const tag = JSON.parse(line)[0];
    if (OP_TAGS.has(tag) || CHAT_TAGS.has(tag)) continue;
    const frame = decodeFrame(line);
    assert.equal(frame.tag, tag, line);
    seen.add(tag);
  }
  assert.deepEqual([...seen].sort(), [...FRAME_TAGS].sort(), 'FRAME_TAGS and the documented tags agree');
});

test('every documented chat-channel frame splits, and the ones each side reads decode', () => {
  const customerReads = new Set(['chat_state', 'msg']);
  const deskReads = new Set(['desk', 'queue', 'chat_state', 'msg', 'call', 'cobrowse']);
  let count = 0;
  for (const line of exampleFrames()) {
    const tag = JSON.parse(line)[0];
    if (!CHAT_TAGS.has(tag)) continue;
    count++;
    assert.equal(splitChatFrame(line)?.tag, tag, line);
    if (customerReads.has(tag)) assert.equal(decodeChatFrame(line)?.tag, tag, `the widget reads ${line}`);
    if (deskReads.has(tag)) assert.equal(decodeDeskFrame(line)?.tag, tag, `the desk reads ${line}`);
  }
  assert.ok(count >= CHAT_TAGS.size, 'every chat tag has an example');
});

test('the browser knows exactly the codes the document lists', () => {
  const codes = doc.slice(doc.indexOf('## 8. Codes'), doc.indexOf('## 9.'));
  /** Codes in the table under a bold caption such as `**Error codes**`. @param {string} caption */
  const table = (caption) => {
    const start = codes.indexOf(`**${caption}**`);
    assert.ok(start >= 0, caption);
    const next = codes.indexOf('\n**', start + caption.length + 4);
    const section = codes.slice(start, next < 0 ? undefined : next);
    return [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]).sort();
  };
  assert.deepEqual(table('Error codes'), Object.values(ErrorCode).sort());
  assert.deepEqual(table('End reasons'), Object.values(EndReason).sort());
  assert.deepEqual(table('Notice codes'), Object.values(NoticeCode).sort());
  assert.deepEqual(table('Refusal reasons'), Object.values(RefusalReason).sort());
});
