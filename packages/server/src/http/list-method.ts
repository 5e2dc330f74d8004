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
  const {
    code,
    rawPacket: raw,
    bytesParsed,
  } = error as {
    code?: string;
    rawPacket?: Buffer;
    bytesParsed?: number;
  };
  if (code !== 'HPE_INVALID_METHOD' || raw === undefined || !atStartOfRead(bytesParsed))
    return false;
  // An answer the connection still owes would go out after this request's (HTTP/1.1 answers in
  // order): such a LIST, pipelined, is refused as any unknown method is.
  if ((socket as { _httpMessage?: unknown })._httpMessage) return false;
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

/**
 * Whether the method the parser failed on is the first thing of the bytes it was given
 * (`rawPacket`). The packet is the whole read, not the failing request: when it begins with the
 * end of an earlier request (its body, which may be any bytes, `LIST …` included), rewriting
 * and re-feeding the packet would run that body as requests of its own (request smuggling,
 * found by an outside probe). Only a read that starts with the LIST request is adopted; the
 * parser stops within the method name (`LI` of `LIST` fits `LINK`), so `bytesParsed` is small.
 */
function atStartOfRead(bytesParsed: number | undefined): boolean {
  return bytesParsed !== undefined && bytesParsed <= 'LIST'.length;
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
