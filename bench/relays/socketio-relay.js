// The usual do-it-yourself co-browsing relay on socket.io: each socket joins the room named in
// its handshake query, and every "f" event is emitted to the rest of the room. No sessions, no
// sign-in, no mirror, no sequencing. WebSocket transport only (the load generator speaks
// Engine.IO 4 over WebSocket), no compression, defaults otherwise.
// Started by the capacity benchmark (bench/capacity.sh) pinned to the server core; prints
// "relay listening on http://127.0.0.1:PORT".
import { createServer } from 'node:http';

/** @type {{ Server: any }} */
const { Server } = await import(/** @type {string} */ ('socket.io'));

const server = createServer();
const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  serveClient: false,
  maxHttpBufferSize: 64 << 20,
});

io.on('connection', (/** @type {any} */ socket) => {
  const room = String(socket.handshake.query.room ?? '');
  socket.join(room);
  socket.on('f', (/** @type {unknown} */ frame) => {
    socket.to(room).emit('f', frame);
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`relay listening on http://127.0.0.1:${address.port}`);
});
