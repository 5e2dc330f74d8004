import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { type ChangeFeed, createListenerSet, pathDigest } from './change-feed.js';

/**
 * What a notification carries: the digest of a changed path (`pathDigest`), or the settle
 * protocol's request and answer.
 */
const CHANGED = 'c:';
const SETTLE = 'settle:';
const SETTLED = 'settled:';
/**
 * A relay entry of change events was written (events/event-relay.ts): the other nodes read the
 * relay now. A fixed marker: it names no path and no secret.
 */
export const RELAY_WAKE = 'relay';
/** The SQL of `pathDigest` over the column `path` (PostgreSQL 11 and later). */
export const PATH_DIGEST_SQL = `left(encode(sha256(convert_to("path", 'UTF8')), 'hex'), 32)`;

/** Options of {@link createPostgresChangeFeed}. */
export interface PostgresChangeFeedOptions {
  /** A new, unconnected client for the feed's own connection. */
  readonly connect: (applicationName: string) => pg.Client;
  /** The schema of the storage tables (the channel is per schema), or undefined. */
  readonly schema: string | undefined;
  /**
   * How often the feed's connection is asked to answer (default 1 000 ms). Each answer renews
   * the lease for two heartbeats; a connection that leaves one unanswered for five is lost.
   */
  readonly heartbeatMs?: number;
  /**
   * How long `settle` waits for the other nodes' answers; default three heartbeats, longer
   * than a silently cut connection takes to end its node's epoch.
   */
  readonly settleTimeoutMs?: number;
  /** The wait before the first reconnection after a loss (default 50 ms), doubled up to 2 s. */
  readonly reconnectMs?: number;
  /** Told when the feed is lost or re-established (for the log). */
  readonly onState?: (live: boolean, reason?: string) => void;
}

/**
 * The channel and connection name of the storage in `schema`: one per deployment.
 *
 * @example
 * ```ts
 * const { channel, applicationName } = feedNamesOf('custos'); // custos_changes_…, custos-feed …
 * ```
 */
export function feedNamesOf(schema: string | undefined) {
  const tag = createHash('sha256')
    .update(schema ?? '')
    .digest('hex')
    .slice(0, 24);
  return { channel: `custos_changes_${tag}`, applicationName: `custos-feed ${tag}` };
}

/** The other feed connections of the deployment, as PostgreSQL lists them. */
const PEERS =
  'array(select pid from pg_stat_activity where application_name = $1 and datname = current_database() and pid <> pg_backend_pid()) as peers';

/**
 * The change feed of PostgreSQL storage shared by several nodes: a dedicated connection
 * LISTENs on the deployment's channel, where every writing statement of the entry store
 * notifies its path (delivered only if the transaction commits).
 *
 * The cache epoch (storage/NOTES.md): the feed is live from the moment LISTEN took effect and
 * every other node acknowledged this one (all caches dropped then), for as long as its
 * connection answers: each heartbeat answer renews a lease of two heartbeats, and a node whose
 * lease ran out serves nothing from its caches until the next answer, which PostgreSQL sends
 * after every notification queued before it. A failed connection ends the epoch (caches dropped)
 * until a new one listens.
 *
 * `settle` makes a change visible cluster-wide before a write returns: when other nodes listen
 * (their connections found in `pg_stat_activity` by application name), it notifies a request
 * that each answers after applying everything notified before it, and waits for the answers or
 * for the settle timeout (three heartbeats: longer than the lease of a node that cannot answer).
 *
 * @example
 * ```ts
 * const feed = createPostgresChangeFeed({ connect: (name) => new pg.Client({ application_name: name }), schema: 'custos' });
 * await feed.ready();
 * ```
 */
export function createPostgresChangeFeed(
  options: PostgresChangeFeedOptions,
): ChangeFeed & { ready(): Promise<void> } {
  const { channel, applicationName } = feedNamesOf(options.schema);
  const heartbeatMs = options.heartbeatMs ?? 1_000;
  const leaseMs = 2 * heartbeatMs;
  const settleTimeoutMs = options.settleTimeoutMs ?? 3 * heartbeatMs;
  const firstRetryMs = options.reconnectMs ?? 50;
  const listeners = createListenerSet();
  let client: pg.Client | undefined;
  /** LISTEN in effect and the other nodes told: caches may be used while the lease holds. */
  let listening = false;
  /** When the connection last answered (monotonic ms). */
  let answeredAt = 0;
  let closed = false;
  let retryMs = firstRetryMs;
  let reconnect: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let firstAttempt: Promise<void> | undefined;
  /** The backend pid of this feed's connection. */
  let ownPid = -1;
  /**
   * The backend pids of the other nodes' feed connections, as last seen, each with the
   * sequence number of when it was (last) learnt: a listing of `pg_stat_activity` removes only
   * the pids learnt before it was asked for (a node's settle request can be delivered before
   * the answer of a listing made before that node connected).
   */
  const peers = new Map<number, number>();
  let peerSequence = 0;
  const learnt = (pid: number) => peers.set(pid, ++peerSequence);
  /** Replaces the peers by those `listed` by a query asked for at sequence `asked`. */
  const listedPeers = (listed: Set<number>, asked: number) => {
    for (const pid of listed) if (!peers.has(pid)) learnt(pid);
    for (const [pid, at] of peers) if (!listed.has(pid) && at <= asked) peers.delete(pid);
  };
  const wakeListeners = new Set<() => void>();
  /** The connection a wake-up is queued on and not yet sent: a new one adds nothing. */
  let wakeQueuedOn: pg.Client | undefined;
  /** Settles in progress: who answered so far, and the check that ends one. */
  const settling = new Map<string, { answered: Set<number>; check: () => void }>();
  const live = () => listening && performance.now() - answeredAt <= leaseMs;

  /** One query at a time on the feed's connection (the driver no longer queues them). */
  const queues = new WeakMap<pg.Client, Promise<unknown>>();
  const query = <R extends pg.QueryResultRow>(
    connection: pg.Client,
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> => {
    const previous = queues.get(connection) ?? Promise.resolve();
    const next = previous.then(() => connection.query<R>(text, values));
    queues.set(
      connection,
      next.catch(() => {}),
    );
    return next;
  };

  const lost = (connection: pg.Client, reason: string) => {
    if (client !== connection) return;
    client = undefined;
    const wasListening = listening;
    listening = false;
    clearInterval(heartbeat);
    // Whatever was cached may have missed a change from now on: dropped, and bypassed.
    listeners.reset();
    for (const waiter of settling.values()) waiter.check();
    connection.removeAllListeners('notification');
    connection.end().catch(() => {});
    if (wasListening) options.onState?.(false, reason);
    if (!closed) {
      reconnect = setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, Math.max(2_000, firstRetryMs));
    }
  };

  const onNotification = (connection: pg.Client, message: pg.Notification) => {
    if (message.channel !== channel || client !== connection) return;
    const payload = message.payload ?? '';
    if (payload.startsWith(CHANGED)) {
      listeners.changed(payload.slice(CHANGED.length));
    } else if (payload.startsWith(SETTLE)) {
      // Everything notified before this request has been applied above: answer it. Its sender
      // is a node this one's own writes must settle with from now on.
      if (message.processId !== ownPid) learnt(message.processId);
      const id = payload.slice(SETTLE.length);
      query(connection, 'select pg_notify($1, $2)', [channel, SETTLED + id]).catch((err: Error) =>
        lost(connection, err.message),
      );
    } else if (payload === RELAY_WAKE) {
      if (message.processId === ownPid) return;
      for (const listener of [...wakeListeners]) {
        try {
          listener();
        } catch {
          // One relay failing must not keep the others from reading.
        }
      }
    } else if (payload.startsWith(SETTLED)) {
      const waiter = settling.get(payload.slice(SETTLED.length));
      if (waiter !== undefined) {
        waiter.answered.add(message.processId);
        waiter.check();
      }
    }
  };

  /**
   * Asks every other listening node to answer once it applied what was notified so far, and
   * waits for the answers (or the settle timeout, or the loss of this connection).
   */
  const settleOn = async (connection: pg.Client): Promise<void> => {
    const id = randomUUID();
    const answered = new Set<number>();
    let expected: Set<number> | undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, settleTimeoutMs);
      function finish() {
        clearTimeout(timer);
        settling.delete(id);
        resolve();
      }
      const check = () => {
        if (client !== connection) return finish();
        if (expected !== undefined && [...expected].every((pid) => answered.has(pid))) finish();
      };
      settling.set(id, { answered, check });
      const asked = peerSequence;
      query<{ peers: number[] }>(connection, `select ${PEERS}, pg_notify($2, $3)`, [
        applicationName,
        channel,
        SETTLE + id,
      ]).then(
        ({ rows }) => {
          expected = new Set((rows[0]?.peers ?? []).map(Number));
          listedPeers(expected, asked);
          check();
        },
        (err: Error) => {
          lost(connection, err.message);
          finish();
        },
      );
    });
  };

  const beat = (connection: pg.Client) => {
    // The lease already stops the caches after two heartbeats without an answer; the
    // connection itself is given up later, so a busy database does not cost every cache.
    const timeout = setTimeout(() => lost(connection, 'heartbeat not answered'), 5 * heartbeatMs);
    const asked = peerSequence;
    query<{ peers: number[] }>(connection, `select ${PEERS}`, [applicationName]).then(
      ({ rows }) => {
        clearTimeout(timeout);
        if (client !== connection) return;
        answeredAt = performance.now();
        // Nodes that stopped listening leave; new ones are added when they announce themselves.
        listedPeers(new Set((rows[0]?.peers ?? []).map(Number)), asked);
      },
      (err: Error) => {
        clearTimeout(timeout);
        lost(connection, err.message);
      },
    );
  };

  const open = async (): Promise<void> => {
    reconnect = undefined;
    if (closed) return;
    const connection = options.connect(applicationName);
    client = connection;
    connection.on('error', (err) => lost(connection, err.message));
    connection.on('end', () => lost(connection, 'connection ended'));
    connection.on('notification', (message) => onNotification(connection, message));
    try {
      await connection.connect();
      await query(connection, `listen "${channel}"`);
      ownPid = (await query<{ pid: number }>(connection, 'select pg_backend_pid() as pid')).rows[0]
        ?.pid as number;
      // The other nodes learn of this one (and settle their writes with it from then on)
      // before it caches anything.
      await settleOn(connection);
    } catch (err) {
      lost(connection, (err as Error).message);
      return;
    }
    if (client !== connection) return;
    // From here every commit is notified to this connection; what was cached before is not
    // known to be current, so the epoch starts empty.
    listeners.reset();
    answeredAt = performance.now();
    listening = true;
    retryMs = firstRetryMs;
    options.onState?.(true);
    heartbeat = setInterval(() => beat(connection), heartbeatMs);
    heartbeat.unref();
  };

  return {
    get live() {
      return live();
    },
    channel,
    area: '',
    position: listeners.position,
    changedSince: listeners.changedSince,
    listen: listeners.add,
    committed(paths) {
      for (const path of paths) listeners.changed(pathDigest(path));
    },
    async settle() {
      const connection = client;
      // Alone, nothing to wait for. Not listening: this node cannot hear the answers; the
      // others apply the change when its notification reaches them (storage/NOTES.md).
      if (!listening || connection === undefined || peers.size === 0) return;
      await settleOn(connection);
    },
    peers: {
      reach: 'storage',
      // Not listening: a node that joined meanwhile announced itself unheard; assume one did.
      present: () => !listening || peers.size > 0,
      wake() {
        const connection = client;
        if (!listening || connection === undefined || peers.size === 0) return;
        if (wakeQueuedOn === connection) return;
        wakeQueuedOn = connection;
        // Queued behind this connection's earlier queries, sent after the caller's commit.
        const previous = queues.get(connection) ?? Promise.resolve();
        const sent = previous.then(() => {
          if (wakeQueuedOn === connection) wakeQueuedOn = undefined;
          return connection.query('select pg_notify($1, $2)', [channel, RELAY_WAKE]);
        });
        queues.set(
          connection,
          sent.catch(() => {}),
        );
        sent.catch((err: Error) => lost(connection, err.message));
      },
      onWake(listener) {
        const entry = () => listener();
        wakeListeners.add(entry);
        return () => {
          wakeListeners.delete(entry);
        };
      },
    },
    ready() {
      firstAttempt ??= open();
      return firstAttempt;
    },
    async close() {
      closed = true;
      listening = false;
      clearTimeout(reconnect);
      clearInterval(heartbeat);
      const connection = client;
      client = undefined;
      listeners.reset();
      for (const waiter of settling.values()) waiter.check();
      if (connection !== undefined) {
        connection.removeAllListeners('notification');
        await connection.end().catch(() => {});
      }
    },
  };
}
