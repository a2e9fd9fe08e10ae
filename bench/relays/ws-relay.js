// The bare relay a team might write on the `ws` package: sockets join a room named in the URL
// (`/?room=R`), and every message is forwarded as it is to the room's other sockets. No
// sessions, no sign-in, no mirror, no sequencing, no backpressure: the comparison's floor.
// Started by the capacity benchmark (bench/capacity.sh) pinned to the server core; prints
// "relay listening on http://127.0.0.1:PORT".
import { createServer } from 'node:http';

/** @type {{ WebSocketServer: any, WebSocket: { OPEN: number } }} */
const { WebSocketServer, WebSocket } = await import(/** @type {string} */ ('ws'));

/** @type {Map<string, Set<any>>} */
const rooms = new Map();
const server = createServer((_, response) => response.writeHead(404).end());
const sockets = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 << 20 });

sockets.on('connection', (/** @type {any} */ socket, /** @type {import('node:http').IncomingMessage} */ request) => {
  const room = new URL(request.url ?? '/', 'http://relay').searchParams.get('room') ?? '';
  let members = rooms.get(room);
  if (!members) {
    members = new Set();
    rooms.set(room, members);
  }
  const peers = members;
  peers.add(socket);
  socket.on('message', (/** @type {Buffer} */ data, /** @type {boolean} */ isBinary) => {
    for (const peer of peers) {
      if (peer !== socket && peer.readyState === WebSocket.OPEN) peer.send(data, { binary: isBinary });
    }
  });
  socket.on('close', () => {
    peers.delete(socket);
    if (peers.size === 0) rooms.delete(room);
  });
  socket.on('error', () => {});
});

server.listen(0, '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`relay listening on http://127.0.0.1:${address.port}`);
});
