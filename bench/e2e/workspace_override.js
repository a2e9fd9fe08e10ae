// Comparing two versions of the agent workspace in the same conditions. Release binaries carry
// web/ inside them, so measuring another version of web/agent/ would otherwise take a rebuild
// per version. With BENCH_AGENT_DIR=/path/to/a/web/agent, latency.js puts this front server
// before the Cobrowse server: /agent/ files come from that directory, with the server's own
// headers (its CSP); everything else — API, WebSocket, SDK, resource proxy — passes through
// unchanged. Both versions compared must be run through it, since it adds a hop of its own.
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';

/**
 * Starts the front server on 127.0.0.1:0.
 * @param {string} agentDir a copy of web/agent/
 * @param {string} upstream the Cobrowse server's base, e.g. http://127.0.0.1:PORT
 * @returns {Promise<{ base: string, close: () => Promise<void> }>}
 */
export async function startWorkspaceOverride(agentDir, upstream) {
  const target = new URL(upstream);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://front').pathname;
    const local = localFile(agentDir, path);
    const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const headers = { ...answer.headers };
      if (local && answer.statusCode === 200) {
        const body = readFileSync(local);
        delete headers.etag;
        delete headers['last-modified'];
        headers['content-length'] = String(body.length);
        res.writeHead(200, headers);
        res.end(body);
        answer.resume();
        return;
      }
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
    });
    forward.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  server.on('upgrade', (req, socket, head) => {
    const back = connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      back.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) back.write(head);
      back.setNoDelay(true);
      /** @type {import('node:net').Socket} */ (socket).setNoDelay(true);
      back.pipe(socket);
      socket.pipe(back);
    });
    back.on('error', () => socket.destroy());
    socket.on('error', () => back.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    base: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve(undefined));
    }),
  };
}

/**
 * The file of `agentDir` an /agent/ path names, if there is one.
 * @param {string} agentDir
 * @param {string} path
 * @returns {string | null}
 */
function localFile(agentDir, path) {
  if (!path.startsWith('/agent/')) return null;
  const rest = normalize(decodeURIComponent(path.slice('/agent/'.length)) || 'index.html');
  if (rest.startsWith('..')) return null;
  const file = join(agentDir, rest.endsWith('/') ? `${rest}index.html` : rest);
  return existsSync(file) && statSync(file).isFile() ? file : null;
}
