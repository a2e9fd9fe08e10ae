// The real binary: it starts, serves its apps, and stops gracefully on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './harness.js';

test('the demo server serves the SDK, the workspace and the demo site, and stops cleanly', async () => {
  const server = await startServer();
  try {
    for (const path of ['/sdk/cobrowse.js', '/agent/', '/demo/', '/healthz', '/api/openapi.json']) {
      const response = await fetch(server.base + path);
      assert.equal(response.status, 200, path);
    }
    const created = await fetch(server.base + '/api/v1/sessions', { method: 'POST' });
    assert.equal(created.status, 201);
    const body = await created.json();
    assert.match(body.id, /^[1-9]\d{8}$/);
  } finally {
    assert.equal(await server.stop(), 0, 'SIGTERM ends the process with status 0');
  }
});
