/**
 * The PostgreSQL change feed's rules for nodes that go silent (storage/NOTES.md), made
 * deterministic: the feed runs on a scripted connection whose queries are answered when the test
 * says, under fake timers.
 *
 * - The lease counts from when a heartbeat was sent, not from when its answer was read.
 * - A lease is renewed only once the answers to the settle requests heard before have completed.
 * - A node that lets a settle time out is a suspect: later settles do not wait for it, until it
 *   is heard from again, leaves `pg_stat_activity`, or this feed's connection is lost.
 */
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPostgresChangeFeed, feedNamesOf } from './postgres-change-feed.js';

const HEARTBEAT_MS = 100;
const SCHEMA = 'silent-peers';
const { channel } = feedNamesOf(SCHEMA);

type Kind = 'heartbeat' | 'settle' | 'answer';

/** A query the feed sent and the test answers. */
interface SentQuery {
  readonly kind: Kind;
  readonly values: unknown[];
  answer(rows?: object[]): void;
}

const kindOf = (text: string): Kind =>
  text.includes('pg_notify($2, $3)')
    ? 'settle'
    : text.startsWith('select pg_notify')
      ? 'answer'
      : 'heartbeat';

/** Lets the feed's promise chains run (no time passes). */
const flush = () => vi.advanceTimersByTimeAsync(0);

/**
 * The feed's connection, scripted: LISTEN and the pid are answered at once; heartbeats at once
 * with `listing` when it is set; everything else when the test answers it.
 */
function scriptedConnection(ownPid: number) {
  const events = new EventEmitter();
  const sent: SentQuery[] = [];
  const state = { listing: undefined as number[] | undefined };
  const client = Object.assign(events, {
    connect: async () => {},
    end: async () => {},
    query: (text: string, values: unknown[] = []) =>
      new Promise((resolve) => {
        if (text.startsWith('listen')) return resolve({ rows: [] });
        if (text.includes('pg_backend_pid() as pid')) return resolve({ rows: [{ pid: ownPid }] });
        const kind = kindOf(text);
        if (kind === 'heartbeat' && state.listing !== undefined)
          return resolve({ rows: [{ peers: state.listing }] });
        sent.push({ kind, values, answer: (rows = []) => resolve({ rows }) });
      }),
  });
  return {
    client: client as unknown as pg.Client,
    state,
    /** The next query of `kind` the feed sent (failing if another kind comes first). */
    async next(kind: Kind): Promise<SentQuery> {
      for (let i = 0; i < 50 && sent.length === 0; i++) await flush();
      const query = sent.shift();
      if (query?.kind !== kind) throw new Error(`expected a ${kind} query, got ${query?.kind}`);
      return query;
    },
    /** A notification on the feed's channel from the backend `from`. */
    notify(from: number, payload: string) {
      events.emit('notification', { channel, processId: from, payload, length: 0, name: '' });
    },
  };
}

/** The id of a settle request the feed sent. */
const idOf = (query: SentQuery) => String(query.values[2]).slice('settle:'.length);

/** Whether `promise` has resolved once the feed's pending work ran. */
async function resolved(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => {
    done = true;
  });
  await flush();
  return done;
}

describe('the PostgreSQL change feed with nodes that go silent', () => {
  let connections: ReturnType<typeof scriptedConnection>[];
  let feed: ReturnType<typeof createPostgresChangeFeed>;
  /** The feed's first attempt: it ends once the first join is answered. */
  let ready: Promise<void>;
  const connection = (i: number) => connections[i] as ReturnType<typeof scriptedConnection>;

  /** Starts the feed (or waits for its reconnection): its join lists `peers`, who all answer. */
  async function join(i: number, peers: number[]) {
    const request = await connection(i).next('settle');
    request.answer([{ peers }]);
    for (const peer of peers) connection(i).notify(peer, `settled:${idOf(request)}`);
    await ready;
    await flush();
  }

  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'],
    });
    connections = [];
    feed = createPostgresChangeFeed({
      schema: SCHEMA,
      heartbeatMs: HEARTBEAT_MS,
      connect: () => {
        const next = scriptedConnection(1);
        connections.push(next);
        return next.client;
      },
    });
    ready = feed.ready();
  });
  afterEach(async () => {
    await feed.close();
    vi.useRealTimers();
  });

  describe('the lease', () => {
    it('counts from when the heartbeat was sent: an answer read late renews nothing', async () => {
      await join(0, []);
      expect(feed.live).toBe(true);
      await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
      const late = await connection(0).next('heartbeat'); // sent at 100 ms
      await vi.advanceTimersByTimeAsync(2.5 * HEARTBEAT_MS); // 350 ms: the join's lease is over
      expect(feed.live).toBe(false);
      late.answer([{ peers: [] }]);
      await flush();
      // Read at 350 ms, sent at 100 ms: it proves nothing about the last 250 ms.
      expect(feed.live).toBe(false);
      // The heartbeat queued behind it is sent now, and its answer renews the lease.
      (await connection(0).next('heartbeat')).answer([{ peers: [] }]);
      await flush();
      expect(feed.live).toBe(true);
    });

    it('is renewed only once the answers to the settle requests heard before have completed', async () => {
      await join(0, []);
      await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
      const heartbeat = await connection(0).next('heartbeat'); // sent at 100 ms
      await vi.advanceTimersByTimeAsync(HEARTBEAT_MS / 2);
      connection(0).notify(7, 'settle:from-another-node'); // its answer queued behind
      await vi.advanceTimersByTimeAsync(HEARTBEAT_MS); // 250 ms: the join's lease is over
      expect(feed.live).toBe(false);
      heartbeat.answer([{ peers: [7] }]);
      await flush();
      // Sent at 100 ms, so good until 300 ms, but the answer to node 7 is not committed yet.
      expect(feed.live).toBe(false);
      const answer = await connection(0).next('answer');
      expect(answer.values[1]).toBe('settled:from-another-node');
      answer.answer();
      await flush();
      expect(feed.live).toBe(true);
    });
  });

  describe('suspects', () => {
    /**
     * Joins with node 2, then lets one settle time out without node 2 answering: the next
     * settle no longer waits for it.
     */
    async function suspectNodeTwo() {
      await join(0, [2]);
      connection(0).state.listing = [2];
      const settle = feed.settle();
      const request = await connection(0).next('settle');
      request.answer([{ peers: [2] }]);
      await vi.advanceTimersByTimeAsync(3 * HEARTBEAT_MS - 1);
      expect(await resolved(settle)).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(await resolved(settle)).toBe(true);
      expect((await settleEndsAtOnce([2])).endedAtOnce).toBe(true);
      return request;
    }
    /** Starts a settle whose request lists `peers`; whether it ended at once. */
    async function settleEndsAtOnce(peers: number[]) {
      const settle = feed.settle();
      const request = await connection(connections.length - 1).next('settle');
      request.answer([{ peers }]);
      return { endedAtOnce: await resolved(settle), request, settle };
    }

    it('are not waited for by later settles, until heard from again', async () => {
      const first = await suspectNodeTwo();
      expect((await settleEndsAtOnce([2])).endedAtOnce).toBe(true);
      // Its answer to the first request arrives: waited for again.
      connection(0).notify(2, `settled:${idOf(first)}`);
      const waiting = await settleEndsAtOnce([2]);
      expect(waiting.endedAtOnce).toBe(false);
      connection(0).notify(2, `settled:${idOf(waiting.request)}`);
      expect(await resolved(waiting.settle)).toBe(true);
    });

    it('are waited for again when a request of theirs is heard (a node joining with that pid)', async () => {
      await suspectNodeTwo();
      connection(0).notify(2, 'settle:joining');
      const answer = await connection(0).next('answer');
      expect(answer.values[1]).toBe('settled:joining');
      answer.answer();
      const waiting = await settleEndsAtOnce([2]);
      expect(waiting.endedAtOnce).toBe(false);
    });

    it('are forgotten once PostgreSQL stops listing them', async () => {
      await suspectNodeTwo();
      connection(0).state.listing = [];
      await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
      // Listed again (the same pid, another connection): waited for.
      connection(0).state.listing = [2];
      await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
      expect((await settleEndsAtOnce([2])).endedAtOnce).toBe(false);
    });

    it('are forgotten when this feed loses its connection (their answers may have been missed)', async () => {
      await suspectNodeTwo();
      connection(0).client.emit('error', new Error('connection reset'));
      await vi.advanceTimersByTimeAsync(50); // the first reconnection
      await join(1, [2]);
      expect(feed.live).toBe(true);
      connection(1).state.listing = [2];
      expect((await settleEndsAtOnce([2])).endedAtOnce).toBe(false);
    });

    it('are made only if the wait outlasted a lease after the request was answered', async () => {
      await join(0, [2]);
      connection(0).state.listing = [2];
      // The request's own answer comes late: at the timeout, node 2 may still hold a lease.
      const settle = feed.settle();
      const request = await connection(0).next('settle');
      await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
      request.answer([{ peers: [2] }]);
      await vi.advanceTimersByTimeAsync(2 * HEARTBEAT_MS);
      expect(await resolved(settle)).toBe(true);
      const next = await settleEndsAtOnce([2]);
      expect(next.endedAtOnce).toBe(false);
      // This one waited its whole timeout after its answer: node 2 is a suspect now.
      await vi.advanceTimersByTimeAsync(3 * HEARTBEAT_MS);
      expect(await resolved(next.settle)).toBe(true);
      expect((await settleEndsAtOnce([2])).endedAtOnce).toBe(true);
    });
  });
});
