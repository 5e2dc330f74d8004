import { METHODS, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** What feeds a proxy from its connection, so a later LIST can take the connection back. */
interface Feed {
  readonly connection: Duplex;
  /** Stops the connection's events reaching the proxy (the connection stays open). */
  readonly detach: () => void;
  /**
   * Ends the proxy without touching the connection, once a later LIST took the connection:
   * Node's HTTP server then frees the proxy's parser (each kept parser and proxy held some
   * 6 KB: an outside probe grew a server by 1 GB with 160,000 LISTs on one connection).
   */
  readonly retire: () => void;
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
  if (earlier !== undefined) {
    earlier.detach();
    // Its last answer may still be on its way out (over TLS, the write's callback comes later):
    // the proxy ends once that answer has.
    const last = responseOn(socket);
    if (last === undefined || last.writableFinished) earlier.retire();
    else last.once('close', earlier.retire);
  }
  const connection = earlier?.connection ?? socket;
  // A TLSSocket's `encrypted` is true. A LIST after the first arrives on the proxy made for it:
  // the connection is TLS when the first one's was, though no TLSSocket, so the proxy is marked
  // the same way (else it would be handed to the TLS server's 'connection' handler as raw TCP
  // and hang). (No `instanceof TLSSocket`: an ES import of node:tls costs ~290 KB of heap,
  // @custos/core's tls/node-tls.ts.)
  const tls = (connection as { encrypted?: boolean }).encrypted === true;
  connection.removeAllListeners('data');
  stopServerEndHandling(connection);
  /** Set once a later LIST took the connection: the proxy's end is no longer the connection's. */
  let retired = false;
  const proxy = new Duplex({
    read() {
      if (!retired) connection.resume();
    },
    write(chunk, encoding, callback) {
      connection.write(chunk, encoding, callback);
    },
    final(callback) {
      if (!retired) connection.end();
      callback();
    },
    destroy(err, callback) {
      if (!retired) connection.destroy(err ?? undefined);
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
    retire: () => {
      retired = true;
      proxy.destroy();
    },
  });
  proxy.push(rewritten);
  // https servers attach the HTTP parser on 'secureConnection', http servers on 'connection'.
  server.emit(tls ? 'secureConnection' : 'connection', proxy);
  return true;
}

/**
 * Takes Node's HTTP server's handling of the client's FIN off a connection the adapter took
 * over: its parser no longer reads the connection, so it owes no answer on it, and ended the
 * connection at once, before the proxy's answer went out (a client that half-closed after a
 * LIST got nothing: half-close.test.ts). The proxy handles the FIN instead: its own parser
 * answers what it read, then ends the connection. Node names the listener after its function
 * (`socketOnEnd`, bound to the connection's state); the test fails if that stops matching.
 */
function stopServerEndHandling(connection: Duplex): void {
  for (const listener of connection.listeners('end'))
    if (listener.name === 'bound socketOnEnd') connection.off('end', listener as () => void);
}

/** The response Node is writing on `socket` now, if any (it queues later ones behind it). */
function responseOn(socket: Duplex): ServerResponse | undefined {
  return (socket as { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
}

/**
 * Whether `socket` (a connection, or a proxy this adapter made) still owes an answer to an
 * earlier request, and which: Node's response on it while not ended, or an ended one with a
 * later request already read behind it (pipelined: its answer waits in Node's queue until the
 * ended one is flushed). An ended answer alone is owed nothing more: all its bytes are in the
 * connection, so whatever is written next goes out after them. (Judging by `writableFinished`
 * instead, which over TLS comes with the write's callback, an outside probe saw a client's
 * next LIST refused with a 400 a few times in twenty; judging by `writableEnded` alone, a
 * LIST's answer went out before a pipelined request's, found by the next probe.)
 */
export function answerOwed(socket: Duplex): ServerResponse | undefined {
  const owed = responseOn(socket);
  if (owed === undefined) return undefined;
  if (!owed.writableEnded) return owed;
  const latest = (socket as { parser?: { incoming?: unknown } | null }).parser?.incoming;
  return latest !== undefined && latest !== null && latest !== owed.req ? owed : undefined;
}

/**
 * Runs `then` once `socket` owes no answer ({@link answerOwed}), however many are queued: each
 * owed one is waited for in turn (a response emits 'close' once, after it finished or when
 * its connection went).
 *
 * @example
 * ```ts
 * afterAnswersOwed(socket, () => socket.end(BAD_REQUEST));
 * ```
 */
export function afterAnswersOwed(socket: Duplex, then: () => void): void {
  const owed = answerOwed(socket);
  if (owed === undefined) then();
  else owed.once('close', () => afterAnswersOwed(socket, then));
}

/**
 * How far Node's parser reads into `text` before it fails on an unknown method: the longest
 * start of `text` that also starts a method the parser knows (`http.METHODS`; it matches
 * methods letter by letter and fails at the first letter no method has there).
 */
function methodPrefixLength(text: string): number {
  let longest = 0;
  for (const method of METHODS) {
    let i = 0;
    while (i < method.length && i < text.length && method[i] === text[i]) i++;
    longest = Math.max(longest, i);
  }
  return longest;
}

const LIST_START = 'LIST ';

/** Where the parser fails on a request that starts the read with `LIST ` (2 here: `LI` of `LINK`). */
const LIST_FAILS_AT = methodPrefixLength(LIST_START);

/**
 * True when a request that starts `k` bytes into a read beginning `LIST ` (an earlier
 * request's body took the first `k`) would fail where a LIST starting the read does: the
 * offset could not tell them apart, so no LIST is adopted (fail closed; not so with the
 * parser's methods today). Past `LIST ` such a request fails beyond {@link LIST_FAILS_AT}.
 */
const OFFSET_AMBIGUOUS = [1, 2, 3, 4, 5].some(
  (k) => k + methodPrefixLength(LIST_START.slice(k)) === LIST_FAILS_AT,
);

/**
 * Whether the method the parser failed on is the first thing of the bytes it was given
 * (`rawPacket`). The packet is the whole read, not the failing request: when it begins with the
 * end of an earlier request (its body, which may be any bytes, `LIST …` included), rewriting
 * and re-feeding the packet would run that body as requests of its own (request smuggling,
 * found by an outside probe). Only a read that starts with the LIST request is adopted: the
 * parser failed exactly where it fails on `LIST` at the read's start. (A bound instead of the
 * exact offset let a body of 1 to 4 bytes, `L` to `LIST`, lend its bytes to a LIST the parser
 * had refused: found by a later probe.)
 */
function atStartOfRead(bytesParsed: number | undefined): boolean {
  return !OFFSET_AMBIGUOUS && bytesParsed === LIST_FAILS_AT;
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
