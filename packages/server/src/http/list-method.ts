import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';

/** What feeds a proxy from its connection, so a later LIST can take the connection back. */
interface Feed {
  readonly connection: Duplex;
  /** Stops the connection's events reaching the proxy (the connection stays open). */
  readonly detach: () => void;
}

/** Each proxy this adapter made, with the connection it reads. */
const feeds = new WeakMap<Duplex, Feed>();

/**
 * Vault clients send the non-standard `LIST` method (node-vault does; Vault's Go client sends
 * `GET ?list=true` instead, which the API treats the same). Node's HTTP parser rejects unknown
 * methods before any handler runs, handing the raw bytes to `clientError`. This adapter turns
 * such a request line into `GET <path>?list=true` and feeds the connection, from that request
 * on, through a pass-through stream to a fresh parser. A later LIST on the same connection
 * replaces that stream with a new one over the connection itself: streams never wrap streams
 * (found by an outside probe: some 2,500 LISTs on one connection nested as deep and overflowed
 * the stack, ending the process). The parser that failed is taken out of the server's timeout
 * checks, which would otherwise end the healthy connection with a 400 when its headers timeout
 * passed.
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
  if (answerOwed(socket)) return false;
  const rewritten = rewriteRequestLine(raw);
  if (rewritten === undefined) return false;
  (socket as { parser?: { remove?: () => void } }).parser?.remove?.();
  const earlier = feeds.get(socket);
  earlier?.detach();
  const connection = earlier?.connection ?? socket;
  // A LIST after the first arrives on the proxy made for it: the connection is TLS when the
  // first one's was, though no TLSSocket (else it would be handed to the TLS server's
  // 'connection' handler as raw TCP and hang).
  const tls =
    connection instanceof TLSSocket || (connection as { encrypted?: boolean }).encrypted === true;
  connection.removeAllListeners('data');
  const proxy = new Duplex({
    read() {
      connection.resume();
    },
    write(chunk, encoding, callback) {
      connection.write(chunk, encoding, callback);
    },
    final(callback) {
      connection.end();
      callback();
    },
    destroy(err, callback) {
      connection.destroy(err ?? undefined);
      callback(err);
    },
  });
  // What Node's HTTP server, Fastify and the server's own guards read from a connection (the
  // cross-site guard judges a browser's Host by the local address: a proxy without it once let
  // a rebinding page past the guard for the rest of the connection).
  Object.assign(proxy, {
    remoteAddress: (connection as Socket).remoteAddress,
    remotePort: (connection as Socket).remotePort,
    remoteFamily: (connection as Socket).remoteFamily,
    localAddress: (connection as Socket).localAddress,
    localPort: (connection as Socket).localPort,
    encrypted: tls,
    setTimeout: (ms: number, cb?: () => void) => {
      (connection as Socket).setTimeout(ms, cb);
      return proxy;
    },
    setNoDelay: () => proxy,
    setKeepAlive: () => proxy,
  });
  const onData = (chunk: Buffer) => {
    if (!proxy.push(chunk)) connection.pause();
  };
  const onEnd = () => proxy.push(null);
  const onClose = () => proxy.destroy();
  const onError = (err: Error) => proxy.destroy(err);
  connection.on('data', onData);
  connection.on('end', onEnd);
  connection.on('close', onClose);
  connection.on('error', onError);
  feeds.set(proxy, {
    connection,
    detach: () => {
      connection.off('data', onData);
      connection.off('end', onEnd);
      connection.off('close', onClose);
      connection.off('error', onError);
    },
  });
  proxy.push(rewritten);
  // https servers attach the HTTP parser on 'secureConnection', http servers on 'connection'.
  server.emit(tls ? 'secureConnection' : 'connection', proxy);
  return true;
}

/**
 * Whether `socket` (a connection, or a proxy this adapter made) still owes an answer to an
 * earlier request: Node's response in progress on it.
 */
export function answerOwed(socket: Duplex): ServerResponse | undefined {
  const owed = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  return owed === null || owed === undefined || owed.writableFinished ? undefined : owed;
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
