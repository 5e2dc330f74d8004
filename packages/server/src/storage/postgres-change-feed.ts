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
   * the lease for two heartbeats from when its heartbeat was sent; a connection that leaves
   * one unanswered for five is lost. Every node of a deployment should use the same value.
   */
  readonly heartbeatMs?: number;
  /**
   * How long `settle` waits for the other nodes' answers; default three heartbeats, longer
   * than a silently cut connection takes to end its node's epoch. A node that leaves a settle
   * unanswered becomes a suspect (later settles do not wait for it) only if the wait lasted
   * at least two and a half heartbeats after the request's own answer (storage/NOTES.md).
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

/**
 * How much longer than a lease a settle must have waited after its request was answered for
 * the nodes that did not answer to become suspects, in heartbeats: room for the nodes' clocks.
 */
const SUSPECT_MARGIN_HEARTBEATS = 0.5;

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
 * connection answers: each heartbeat answer renews a lease of two heartbeats counted from when
 * that heartbeat was sent (the answer proves every notification committed before then was
 * delivered), once the answers to the settle requests heard before it have completed. A node
 * whose lease ran out serves nothing from its caches until a heartbeat sent later is answered.
 * A failed connection ends the epoch (caches dropped) until a new one listens.
 *
 * `settle` makes a change visible cluster-wide before a write returns: when other nodes listen
 * (their connections found in `pg_stat_activity` by application name), it notifies a request
 * that each answers after applying everything notified before it, and waits for the answers or
 * for the settle timeout (three heartbeats: longer than the lease of a node that cannot answer).
 * The nodes that let a settle time out become suspects: later settles do not wait for them
 * until any notification from them is heard or they leave `pg_stat_activity`.
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
  const suspectAfterMs = leaseMs + SUSPECT_MARGIN_HEARTBEATS * heartbeatMs;
  const firstRetryMs = options.reconnectMs ?? 50;
  const listeners = createListenerSet();
  let client: pg.Client | undefined;
  /** LISTEN in effect and the other nodes told: caches may be used while the lease holds. */
  let listening = false;
  /**
   * The lease's start (monotonic ms): when the newest answered heartbeat (or the join's settle
   * request) was sent. Caches are served while it is at most two heartbeats old.
   */
  let leaseFrom = Number.NEGATIVE_INFINITY;
  /**
   * The last answer queued to another node's settle request and not yet completed: a lease is
   * renewed only once the answers queued before its heartbeat's answer arrived have completed.
   */
  let answering: Promise<void> | undefined;
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
  /**
   * Peers that left a settle of this node unanswered: later settles do not wait for them until
   * any notification from them is heard, they leave `pg_stat_activity`, or this feed's
   * connection is lost (a notification may have been missed meanwhile). storage/NOTES.md says
   * why a suspect cannot serve a change it was not told of.
   */
  const suspects = new Set<number>();
  /** Replaces the peers by those `listed` by a query asked for at sequence `asked`. */
  const listedPeers = (listed: Set<number>, asked: number) => {
    for (const pid of listed) if (!peers.has(pid)) learnt(pid);
    for (const [pid, at] of peers) if (!listed.has(pid) && at <= asked) peers.delete(pid);
    for (const pid of suspects) if (!listed.has(pid)) suspects.delete(pid);
  };
  const wakeListeners = new Set<() => void>();
  /** The connection a wake-up is queued on and not yet sent: a new one adds nothing. */
  let wakeQueuedOn: pg.Client | undefined;
  /** Settles in progress: who answered so far, and the check that ends one. */
  const settling = new Map<string, { answered: Set<number>; check: () => void }>();
  const live = () => listening && performance.now() - leaseFrom <= leaseMs;

  /** One query at a time on the feed's connection (the driver no longer queues them). */
  const queues = new WeakMap<pg.Client, Promise<unknown>>();
  /** Runs `send` once the connection's earlier queries are done. */
  const enqueue = <T>(connection: pg.Client, send: () => Promise<T>): Promise<T> => {
    const previous = queues.get(connection) ?? Promise.resolve();
    const next = previous.then(send);
    queues.set(
      connection,
      next.catch(() => {}),
    );
    return next;
  };
  /**
   * Queues a query; `sent` is told when it is handed to the driver (monotonic ms): PostgreSQL
   * runs it later, so its answer comes after every notification committed before that time.
   */
  const query = <R extends pg.QueryResultRow>(
    connection: pg.Client,
    text: string,
    values: unknown[] = [],
    sent?: (at: number) => void,
  ): Promise<pg.QueryResult<R>> =>
    enqueue(connection, () => {
      sent?.(performance.now());
      return connection.query<R>(text, values);
    });

  /**
   * Renews the lease from `sentAt`, the send time of a query `connection` answered, once the
   * answers to settle requests queued so far have completed: until this node's answer to a
   * request is committed, the requester may stop waiting for it (a suspect) while knowing
   * nothing of the lease an answer received meanwhile would grant.
   */
  const renew = (connection: pg.Client, sentAt: number) => {
    const apply = () => {
      if (client === connection && listening) leaseFrom = Math.max(leaseFrom, sentAt);
    };
    if (answering === undefined) apply();
    else answering.then(apply);
  };

  const lost = (connection: pg.Client, reason: string) => {
    if (client !== connection) return;
    client = undefined;
    const wasListening = listening;
    listening = false;
    leaseFrom = Number.NEGATIVE_INFINITY;
    answering = undefined;
    suspects.clear();
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
    // Heard from: whatever it sent, later settles wait for it again.
    suspects.delete(message.processId);
    if (payload.startsWith(CHANGED)) {
      listeners.changed(payload.slice(CHANGED.length));
    } else if (payload.startsWith(SETTLE)) {
      // Everything notified before this request has been applied above: answer it. Its sender
      // is a node this one's own writes must settle with from now on.
      if (message.processId !== ownPid) learnt(message.processId);
      const id = payload.slice(SETTLE.length);
      const sent = query(connection, 'select pg_notify($1, $2)', [channel, SETTLED + id]);
      sent.catch((err: Error) => lost(connection, err.message));
      const done: Promise<void> = sent.then(
        () => {
          if (answering === done) answering = undefined;
        },
        () => {},
      );
      answering = done;
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
   * waits for the answers of those not suspected (or the settle timeout, or the loss of this
   * connection). Resolves to when the request was sent (monotonic ms; -Infinity if never).
   */
  const settleOn = async (connection: pg.Client): Promise<number> => {
    const id = randomUUID();
    const answered = new Set<number>();
    let expected: Set<number> | undefined;
    let sentAt = Number.NEGATIVE_INFINITY;
    /** When the request's own answer (the listing of the nodes) arrived. */
    let listedAt = Number.POSITIVE_INFINITY;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(timedOut, settleTimeoutMs);
      function finish() {
        clearTimeout(timer);
        settling.delete(id);
        resolve();
      }
      /**
       * The nodes that did not answer become suspects if their leases have surely run out by
       * now: a node that did not hear this request renews its lease only from heartbeats sent
       * before it was committed, so before its answer here (storage/NOTES.md).
       */
      function timedOut() {
        const waited = performance.now() - listedAt;
        if (client === connection && expected !== undefined && waited >= suspectAfterMs)
          for (const pid of expected) if (!answered.has(pid)) suspects.add(pid);
        finish();
      }
      const check = () => {
        if (client !== connection) return finish();
        if (expected !== undefined && [...expected].every((pid) => answered.has(pid))) finish();
      };
      settling.set(id, { answered, check });
      const asked = peerSequence;
      query<{ peers: number[] }>(
        connection,
        `select ${PEERS}, pg_notify($2, $3)`,
        [applicationName, channel, SETTLE + id],
        (at) => {
          sentAt = at;
        },
      ).then(
        ({ rows }) => {
          listedAt = performance.now();
          const listed = new Set((rows[0]?.peers ?? []).map(Number));
          listedPeers(listed, asked);
          // Every notification committed before the request was delivered before this answer:
          // a suspect heard since is waited for again.
          expected = new Set([...listed].filter((pid) => !suspects.has(pid)));
          check();
        },
        (err: Error) => {
          lost(connection, err.message);
          finish();
        },
      );
    });
    return sentAt;
  };

  const beat = (connection: pg.Client) => {
    // The lease already stops the caches after two heartbeats without an answer; the
    // connection itself is given up later, so a busy database does not cost every cache.
    const timeout = setTimeout(() => lost(connection, 'heartbeat not answered'), 5 * heartbeatMs);
    const asked = peerSequence;
    let sentAt = Number.NEGATIVE_INFINITY;
    query<{ peers: number[] }>(connection, `select ${PEERS}`, [applicationName], (at) => {
      sentAt = at;
    }).then(
      ({ rows }) => {
        clearTimeout(timeout);
        if (client !== connection) return;
        // From when it was sent, not when its answer was read: an answer read late (a paused
        // process, a partition) proves nothing about what was committed since it was sent.
        renew(connection, sentAt);
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
    let joinedFrom = Number.NEGATIVE_INFINITY;
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
      joinedFrom = await settleOn(connection);
    } catch (err) {
      lost(connection, (err as Error).message);
      return;
    }
    if (client !== connection) return;
    // From here every commit is notified to this connection; what was cached before is not
    // known to be current, so the epoch starts empty.
    listeners.reset();
    listening = true;
    // The join's request answered proves what a heartbeat sent then would.
    renew(connection, joinedFrom);
    retryMs = firstRetryMs;
    options.onState?.(true);
    heartbeat = setInterval(() => beat(connection), heartbeatMs);
    heartbeat.unref();
    // A join that waited a lease long (a node that did not answer) starts with the lease run
    // out: ask at once rather than a heartbeat later.
    if (!live()) beat(connection);
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
        const sent = enqueue(connection, () => {
          if (wakeQueuedOn === connection) wakeQueuedOn = undefined;
          return connection.query('select pg_notify($1, $2)', [channel, RELAY_WAKE]);
        });
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
