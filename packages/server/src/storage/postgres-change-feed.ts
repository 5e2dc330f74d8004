import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { type ChangeFeed, createListenerSet } from './change-feed.js';

/** What a notification carries: a changed path, or the settle protocol's request and answer. */
const CHANGED = 'c:';
const SETTLE = 'settle:';
const SETTLED = 'settled:';
/** Sent instead of a path too long for a notification: every cache is dropped. */
export const ALL_CHANGED = '*';
/** The longest path (in bytes) a notification carries; PostgreSQL's payload limit is 8000. */
export const MAX_NOTIFIED_PATH_BYTES = 7900;

/** Options of {@link createPostgresChangeFeed}. */
export interface PostgresChangeFeedOptions {
  /** A new, unconnected client for the feed's own connection. */
  readonly connect: (applicationName: string) => pg.Client;
  /** The schema of the storage tables (the channel is per schema), or undefined. */
  readonly schema: string | undefined;
  /** How often the feed's connection is asked to answer; default 1 000 ms. */
  readonly heartbeatMs?: number;
  /** How long `settle` waits for the other nodes; default 2 000 ms. */
  readonly settleTimeoutMs?: number;
  /** Told when the feed is lost or re-established (for the log). */
  readonly onState?: (live: boolean, reason?: string) => void;
}

/** The channel and connection name of the storage in `schema`: one per deployment. */
export function feedNamesOf(schema: string | undefined) {
  const tag = createHash('sha256')
    .update(schema ?? '')
    .digest('hex')
    .slice(0, 24);
  return { channel: `custos_changes_${tag}`, applicationName: `custos-feed ${tag}` };
}

/**
 * The change feed of PostgreSQL storage shared by several nodes: a dedicated connection
 * LISTENs on the deployment's channel, where every writing statement of the entry store
 * notifies its path (delivered only if the transaction commits). The feed is live from the
 * moment LISTEN took effect (all caches dropped then) until the connection fails or stops
 * answering its heartbeat (caches dropped again, bypassed until a new connection listens).
 *
 * `settle` makes a change visible cluster-wide before a call returns: it notifies a request
 * that every listening connection of the deployment (found in `pg_stat_activity` by its
 * application name) answers after applying everything notified before it — PostgreSQL
 * delivers each listener its notifications in commit order.
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
  const settleTimeoutMs = options.settleTimeoutMs ?? 2_000;
  const listeners = createListenerSet();
  let client: pg.Client | undefined;
  let live = false;
  let closed = false;
  let retryMs = 50;
  let reconnect: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let firstAttempt: Promise<void> | undefined;
  /** Settles in progress: the pids still to answer, and who answered so far. */
  const settling = new Map<string, { answered: Set<number>; check: () => void }>();

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
    const wasLive = live;
    live = false;
    clearInterval(heartbeat);
    // Whatever was cached may have missed a change from now on: dropped, and bypassed.
    listeners.reset();
    for (const waiter of settling.values()) waiter.check();
    connection.removeAllListeners('notification');
    connection.end().catch(() => {});
    if (wasLive) options.onState?.(false, reason);
    if (!closed) {
      reconnect = setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, 2_000);
    }
  };

  const onNotification = (connection: pg.Client, message: pg.Notification) => {
    if (message.channel !== channel || client !== connection) return;
    const payload = message.payload ?? '';
    if (payload.startsWith(CHANGED)) {
      const path = payload.slice(CHANGED.length);
      if (path === ALL_CHANGED) listeners.reset();
      else listeners.changed(path);
    } else if (payload.startsWith(SETTLE)) {
      // Everything notified before this request has been applied above: answer it.
      const id = payload.slice(SETTLE.length);
      query(connection, 'select pg_notify($1, $2)', [channel, SETTLED + id]).catch((err: Error) =>
        lost(connection, err.message),
      );
    } else if (payload.startsWith(SETTLED)) {
      const waiter = settling.get(payload.slice(SETTLED.length));
      if (waiter !== undefined) {
        waiter.answered.add(message.processId);
        waiter.check();
      }
    }
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
    } catch (err) {
      lost(connection, (err as Error).message);
      return;
    }
    if (client !== connection) return;
    // From here every commit is notified to this connection; what was cached before is not
    // known to be current, so the epoch starts empty.
    listeners.reset();
    live = true;
    retryMs = 50;
    options.onState?.(true);
    heartbeat = setInterval(() => {
      const timeout = setTimeout(
        () => lost(connection, 'heartbeat not answered'),
        Math.max(heartbeatMs, 500),
      );
      query(connection, 'select 1')
        .then(
          () => clearTimeout(timeout),
          (err: Error) => {
            clearTimeout(timeout);
            lost(connection, err.message);
          },
        )
        .catch(() => {});
    }, heartbeatMs);
    heartbeat.unref();
  };

  const settle = async (): Promise<void> => {
    const connection = client;
    // Not listening: this node cannot hear the answers (the others apply the change when
    // their own notification arrives; see NOTES.md for the bound).
    if (!live || connection === undefined) return;
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
      query<{ pids: number[] }>(
        connection,
        `select array(select pid from pg_stat_activity where application_name = $1 and datname = current_database()) as pids, pg_notify($2, $3)`,
        [applicationName, channel, SETTLE + id],
      ).then(
        ({ rows }) => {
          expected = new Set((rows[0]?.pids ?? []).map(Number));
          check();
        },
        (err: Error) => {
          lost(connection, err.message);
          finish();
        },
      );
    });
  };

  return {
    get live() {
      return live;
    },
    channel,
    listen: listeners.add,
    committed(paths) {
      for (const path of paths) listeners.changed(path);
    },
    settle,
    ready() {
      firstAttempt ??= open();
      return firstAttempt;
    },
    async close() {
      closed = true;
      live = false;
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
