import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';

/**
 * Vault clients send the non-standard `LIST` method (node-vault does; Vault's Go client sends
 * `GET ?list=true` instead, which the API treats the same). Node's HTTP parser rejects unknown
 * methods before any handler runs, handing the raw bytes to `clientError`. This adapter turns
 * such a request line into `GET <path>?list=true` and feeds the connection, from that request
 * on, through a pass-through stream to a fresh parser.
 *
 * Returns false when the error is not an unknown `LIST` request (the caller answers 400).
 */
export function adoptListRequest(server: Server, error: Error, socket: Duplex): boolean {
  const raw = (error as { rawPacket?: Buffer }).rawPacket;
  if ((error as { code?: string }).code !== 'HPE_INVALID_METHOD' || raw === undefined) return false;
  const rewritten = rewriteRequestLine(raw);
  if (rewritten === undefined) return false;
  // A second LIST on a kept-alive connection arrives on the proxy made for the first: it is
  // TLS when the connection is, though no TLSSocket (else it would be handed to the TLS
  // server's 'connection' handler as raw TCP and hang).
  const tls = socket instanceof TLSSocket || (socket as { encrypted?: boolean }).encrypted === true;
  socket.removeAllListeners('data');
  const proxy = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, encoding, callback) {
      socket.write(chunk, encoding, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  // What Node's HTTP server, Fastify and the server's own guards read from a connection (the
  // cross-site guard judges a browser's Host by the local address: a proxy without it once let
  // a rebinding page past the guard for the rest of the connection).
  Object.assign(proxy, {
    remoteAddress: (socket as Socket).remoteAddress,
    remotePort: (socket as Socket).remotePort,
    remoteFamily: (socket as Socket).remoteFamily,
    localAddress: (socket as Socket).localAddress,
    localPort: (socket as Socket).localPort,
    encrypted: tls,
    setTimeout: (ms: number, cb?: () => void) => {
      (socket as Socket).setTimeout(ms, cb);
      return proxy;
    },
    setNoDelay: () => proxy,
    setKeepAlive: () => proxy,
  });
  socket.on('data', (chunk: Buffer) => {
    if (!proxy.push(chunk)) socket.pause();
  });
  socket.on('end', () => proxy.push(null));
  socket.on('close', () => proxy.destroy());
  socket.on('error', (err) => proxy.destroy(err));
  proxy.push(rewritten);
  // https servers attach the HTTP parser on 'secureConnection', http servers on 'connection'.
  server.emit(tls ? 'secureConnection' : 'connection', proxy);
  return true;
}

const LIST_LINE = /^LIST ([^ \r\n]+) /;

function rewriteRequestLine(raw: Buffer): Buffer | undefined {
  const text = raw.toString('latin1');
  const match = LIST_LINE.exec(text);
  if (match === null) return undefined;
  const target = match[1] as string;
  const listed = `${target}${target.includes('?') ? '&' : '?'}list=true`;
  return Buffer.from(`GET ${listed} ${text.slice(match[0].length)}`, 'latin1');
}
