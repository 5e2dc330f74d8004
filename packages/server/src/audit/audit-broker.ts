import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import type { TokenEntry } from '../auth/token-store.js';
import type { Barrier } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { ServerError } from '../errors.js';
import { AUDIT } from '../storage/layout.js';
import {
  ChainedSink,
  type CheckpointRecord,
  type CheckpointSigner,
  SerializedEntry,
} from './audit-chain.js';
import type { ChainState, FileStart } from './audit-continuity.js';
import { SinkNameClash, SinkOwnership } from './audit-sink-owner.js';
import {
  type AuditKey,
  type AuditScalar,
  type HmacMemo,
  hmacScalars,
  hmacValue,
} from './hmac-values.js';
import { SharedHmacs } from './shared-hmacs.js';
import type { AuditSink } from './sinks.js';

/** Who made a request, as the audit log records it: a token's entry, or an access key's. */
export type AuditIdentity = Pick<TokenEntry, 'accessor' | 'displayName' | 'policies' | 'meta'>;

/** One request as the audit log sees it. */
export interface AuditRequest {
  readonly id: string;
  readonly operation: string;
  readonly path: string;
  readonly remoteAddress: string;
  readonly token: string | undefined;
  readonly entry: AuditIdentity | undefined;
  readonly data: unknown;
}

interface RequestBlocks {
  readonly auth: Record<string, unknown> | null;
  readonly request: Record<string, unknown>;
}

/** What one sink keeps of a request between its two entries. */
interface SinkRecord {
  readonly blocks: RequestBlocks;
  /** The blocks as JSON (`"auth":…,"request":…`): serialised once for both entries. */
  readonly json: string;
  /** HMACs of this request's values under the sink's key (emptied once the response is logged). */
  readonly memo: HmacMemo;
}

/** What logging a request leaves for logging its response. */
export interface AuditRecord {
  readonly sinks: ReadonlyMap<string, SinkRecord>;
  /** True when at least one sink wrote the request entry. */
  readonly logged: boolean;
  /**
   * A request to start a new file for a refused sink: its entry, written first thing into the
   * new file (when every sink is refused, nothing else can record it).
   */
  readonly held?: { readonly sink: string; readonly entry: Record<string, unknown> };
}

/** Options for {@link AuditBroker}. */
export interface AuditBrokerOptions {
  /** How long a request waits for at least one sink before failing (default 2000 ms). */
  readonly timeoutMs?: number;
  readonly checkpointEvery?: number;
  readonly checkpointIntervalMs?: number;
  /**
   * How long a sink's owner record holds without renewal (default 30 s): another node may
   * claim a sink of the same name only once it ran out. Renewed every third of it.
   */
  readonly ownerLeaseMs?: number;
  /** Reports sink failures and refusals (never with entry contents). */
  readonly onSinkError?: (sink: string, error: Error) => void;
}

/** The API path that starts a new file for a refused sink (`sys/audit/new-file/<sink>`). */
export const NEW_FILE_PATH = 'sys/audit/new-file/';

/** Starts of files kept per sink (the oldest are dropped): years of daily rotation. */
export const MAX_FILE_RECORDS = 1000;

// Relative to the broker's storage view (AUDIT.prefix).
const SIGNING_KEY_PATH = AUDIT.signingKey;
const HMAC_KEY_PREFIX = AUDIT.hmacKey;
const CHECKPOINT_PREFIX = AUDIT.checkpoint;
const FILES_PREFIX = AUDIT.files;

/**
 * Fans each audit entry out to every sink, each with its own HMAC key and hash chain. A request
 * proceeds when at least one sink has written its entry; when none has within `timeoutMs`, it
 * fails with `ERR_AUDIT_UNAVAILABLE` (HTTP 500) instead of hanging. A sink whose file does not
 * hold the chain the server recorded is refused on activation; when every sink is refused,
 * requests fail with `ERR_AUDIT_CHAIN_BROKEN` (and the reasons) until an operator starts a new
 * file ({@link AuditBroker.startNewFile}). Active only while unsealed: the keys live behind
 * the barrier.
 *
 * @example
 * ```ts
 * const audit = new AuditBroker([createFileSink('file', 'audit.log')]);
 * await audit.activate(barrier);
 * await audit.logRequest(request);
 * ```
 */
export class AuditBroker {
  readonly #sinks: readonly AuditSink[];
  readonly #options: AuditBrokerOptions;
  #chains: ChainedSink[] = [];
  #hmacKeys = new Map<string, AuditKey>();
  /** HMACs of each caller's own values, kept across its requests (shared-hmacs.ts). */
  readonly #sharedHmacs = new SharedHmacs();
  #signer: CheckpointSigner | undefined;
  #barrier: Barrier | undefined;
  readonly #latest = new Map<string, CheckpointRecord>();
  readonly #files = new Map<string, FileStart[]>();
  /** Writes of chain state to storage not finished yet (deactivation waits for them). */
  readonly #stateWrites = new Set<Promise<void>>();
  /** The last write queued per storage path, which the next one waits for. */
  readonly #lastWrite = new Map<string, Promise<void>>();
  #owners: SinkOwnership | undefined;
  /** Sinks whose owner record this broker holds, and the lease renewal timer. */
  readonly #claimed = new Set<string>();
  #renewal: NodeJS.Timeout | undefined;

  constructor(sinks: readonly AuditSink[], options: AuditBrokerOptions = {}) {
    this.#sinks = sinks;
    this.#options = options;
  }

  /** True when sinks are configured (then every audited request must be recorded). */
  get enabled(): boolean {
    return this.#sinks.length > 0;
  }

  get active(): boolean {
    return this.#signer !== undefined;
  }

  /**
   * Loads (or creates) the keys behind the barrier and opens every sink's chain, checking that
   * each file still holds the chain recorded for it: a sink that does not is refused, and its
   * reason reported. Each sink is given `timeoutMs`.
   */
  async activate(root: Barrier): Promise<void> {
    if (!this.enabled || this.active) return;
    // The audit area of storage, and nothing else (keys are relative to it).
    const barrier = barrierView(root, AUDIT.prefix);
    // One chain, one writer: each sink's name is claimed first (ERR_AUDIT_SINK_NAME_CLASH).
    await this.#claimSinks(barrier);
    this.#barrier = barrier;
    this.#signer = await loadSigner(barrier);
    this.#latest.clear();
    this.#files.clear();
    for (const sink of this.#sinks) {
      this.#hmacKeys.set(sink.name, await loadHmacKey(barrier, sink.name));
      const stored = await barrier.read<CheckpointRecord>(CHECKPOINT_PREFIX + sink.name);
      if (stored !== undefined) this.#latest.set(sink.name, stored.data);
      const files = await barrier.read<{ files: FileStart[] }>(FILES_PREFIX + sink.name);
      this.#files.set(sink.name, files?.data.files ?? []);
    }
    this.#chains = this.#sinks.map(
      (sink) =>
        new ChainedSink(sink, {
          signer: this.#signer as CheckpointSigner,
          ...(this.#options.checkpointEvery === undefined
            ? {}
            : { checkpointEvery: this.#options.checkpointEvery }),
          ...(this.#options.checkpointIntervalMs === undefined
            ? {}
            : { checkpointIntervalMs: this.#options.checkpointIntervalMs }),
          onCheckpoint: (record) => this.#recordCheckpoint(record),
          onError: (error) => this.#options.onSinkError?.(sink.name, error),
          onFileStart: (start) => this.#recordFileStart(sink.name, start),
        }),
    );
    await Promise.all(
      this.#chains.map((chain) =>
        this.#bounded(chain.open(this.#stateOf(chain.sink.name))).catch((err) =>
          this.#report(chain, err),
        ),
      ),
    );
  }

  /** Writes final checkpoints, closes the sinks and forgets the keys (on seal or shutdown). */
  async deactivate(): Promise<void> {
    const chains = this.#chains;
    this.#chains = [];
    await Promise.all(chains.map((chain) => this.#bounded(chain.close()).catch(() => {})));
    // The last checkpoints reach storage before the keys go.
    await this.#settleStateWrites().catch(() => {});
    await this.#releaseSinks();
    this.#signer = undefined;
    this.#barrier = undefined;
    this.#hmacKeys.clear();
  }

  /**
   * Reopens file sinks (after log rotation). The chains continue across the new files. Each
   * sink is given `timeoutMs`: a sink that does not answer is reported, and SIGHUP goes on.
   */
  async reopen(): Promise<void> {
    await Promise.all(
      this.#chains.map((chain) =>
        this.#bounded(chain.reopen()).catch((err) => this.#report(chain, err)),
      ),
    );
  }

  /**
   * Logs a request before it is handled. Returns the HMAC'd request and auth blocks per sink, so
   * the response entry reuses them instead of computing every HMAC twice, and the HMACs of the
   * request's values (each distinct value is HMAC'd once per sink for both entries).
   */
  async logRequest(request: AuditRequest): Promise<AuditRecord> {
    const sinks = new Map<string, SinkRecord>();
    for (const [sink, key] of this.#hmacKeys) {
      const memo = this.#sharedHmacs.memoFor(key, request.entry);
      const blocks = {
        auth: authBlock(key, request, memo),
        request: requestBlock(key, request, memo),
      };
      const json = `"auth":${JSON.stringify(blocks.auth)},"request":${JSON.stringify(blocks.request)}`;
      sinks.set(sink, { blocks, json, memo });
    }
    const entry = (sink: string) => ({ type: 'request', ...sinks.get(sink)?.blocks });
    // The one request a refused sink takes: the one that starts its new file.
    const target = this.#chains.find(
      (c) => c.refusal !== undefined && request.path === NEW_FILE_PATH + c.sink.name,
    );
    const held =
      target === undefined ? undefined : { sink: target.sink.name, entry: entry(target.sink.name) };
    if (held !== undefined && this.#usable().length === 0) return { sinks, logged: false, held };
    await this.#broadcast((_key, sink) => {
      const kept = sinks.get(sink);
      return kept === undefined
        ? entry(sink)
        : new SerializedEntry('request', `{"type":"request",${kept.json}}`);
    });
    return { sinks, logged: true, ...(held === undefined ? {} : { held }) };
  }

  /**
   * Logs the response of a request logged by {@link AuditBroker.logRequest}. The request's HMACs
   * are dropped once the entries are built: nothing of the request outlives it here.
   */
  logResponse(record: AuditRecord, status: number, body: unknown): Promise<void> {
    try {
      return this.#broadcast((key, sink) => {
        const kept = record.sinks.get(sink);
        const response = JSON.stringify({ status, ...responseBlock(key, body, kept?.memo) });
        const blocks = kept === undefined ? '' : `${kept.json},`;
        return new SerializedEntry(
          'response',
          `{"type":"response",${blocks}"response":${response}}`,
        );
      });
    } finally {
      for (const kept of record.sinks.values()) kept.memo.clear();
    }
  }

  /**
   * Starts a new file for a sink refused on activation, once an operator moved its file aside
   * (or it is empty). The chain continues from the last checkpoint recorded for the sink (which
   * the old file should hold), the new file's `open` entry says so and why the sink was
   * refused, the operator's request entry (`record`) follows it, and the start is recorded in
   * storage. The sink takes entries again from there. Failures are reported to the server log
   * too: while every sink is refused, their response cannot be recorded, so the caller sees
   * only the refusal (and its advice).
   */
  async startNewFile(sink: string, record: AuditRecord | undefined): Promise<FileStart> {
    try {
      return await this.#startNewFile(sink, record);
    } catch (err) {
      this.#options.onSinkError?.(sink, err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }

  async #startNewFile(sink: string, record: AuditRecord | undefined): Promise<FileStart> {
    const chain = this.#chains.find((c) => c.sink.name === sink);
    if (chain === undefined) throw new CustosError('ERR_NOT_FOUND', `no audit sink named ${sink}`);
    const held = record?.held?.sink === sink ? record.held.entry : undefined;
    if (held === undefined && record?.logged !== true)
      throw new ServerError('ERR_AUDIT_CHAIN_BROKEN', 'the request was not recorded by any sink');
    if (chain.refusal !== undefined) {
      const history = await this.#bounded(chain.sink.history?.() ?? Promise.resolve(undefined));
      if (history?.kind === 'special')
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          `the file of audit sink ${sink} is not a regular file`,
        );
      if (history !== undefined && history.size > 0)
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          `the file of audit sink ${sink} still holds ${history.size} bytes: move it aside (keep it to verify), then start the new file`,
        );
    }
    const latest = this.#latest.get(sink);
    const previous = latest === undefined ? null : { seq: latest.seq, hash: latest.hash };
    try {
      await this.#bounded(chain.startNewFile(previous, held === undefined ? [] : [held]));
    } catch (err) {
      // Another operator started it first: this request is recorded all the same.
      if (held !== undefined && chain.refusal === undefined)
        await this.#bounded(chain.append(held)).catch(() => {});
      throw err;
    }
    await this.#settleStateWrites();
    const started = this.#files.get(sink)?.at(-1);
    if (started?.cause !== 'new-file' || started.seq !== (previous?.seq ?? 0) + 1)
      throw new ServerError(
        'ERR_AUDIT_UNAVAILABLE',
        `audit sink ${sink} did not start an empty file (something wrote to it meanwhile)`,
      );
    return started;
  }

  /**
   * HMAC of `input` under `sink`'s key, to find a known value in that sink's log (a number or
   * boolean is HMAC'd as its canonical string, as the log does).
   */
  hash(sink: string, input: AuditScalar): string {
    const key = this.#hmacKeys.get(sink);
    if (key === undefined) throw new CustosError('ERR_NOT_FOUND', `no audit sink named ${sink}`);
    return hmacValue(key, input);
  }

  /** The checkpoint public key (SPKI DER, base64) and its id. */
  publicKey(): { keyId: string; publicKey: string } | undefined {
    return this.#signer === undefined
      ? undefined
      : { keyId: this.#signer.keyId, publicKey: this.#signer.publicKey };
  }

  /** The latest checkpoint of every sink. */
  checkpoints(): CheckpointRecord[] {
    return [...this.#latest.values()];
  }

  /** Where each sink's files start, oldest first (the last is the current file). */
  fileStarts(): Record<string, readonly FileStart[]> {
    return Object.fromEntries(this.#files);
  }

  /** Sinks refused on activation, with the reason. */
  refusals(): { sink: string; reason: string }[] {
    return this.#chains.flatMap((c) =>
      c.refusal === undefined ? [] : [{ sink: c.sink.name, reason: c.refusal }],
    );
  }

  sinkNames(): string[] {
    return this.#sinks.map((s) => s.name);
  }

  /** Each sink's name and type (`file`, `stdout`, `http`, `syslog`), from where it writes. */
  sinkTypes(): { name: string; type: string }[] {
    return this.#sinks.map((s) => ({
      name: s.name,
      type: /^(file|http|syslog|stdout)\b/.exec(s.destination ?? '')?.[1] ?? 'file',
    }));
  }

  /**
   * Where a sink writes, looked up by its configured name (exact, case-sensitive): the absolute
   * path of a file sink, `readable: false` for one the server cannot read back (stdout, http,
   * syslog), undefined for no sink of that name. No caller-given path is ever used.
   */
  sinkFile(
    name: string,
  ): { readonly readable: true; readonly path: string } | { readonly readable: false } | undefined {
    const sink = this.#sinks.find((s) => s.name === name);
    if (sink === undefined) return undefined;
    const destination = sink.destination ?? '';
    return destination.startsWith('file:')
      ? { readable: true, path: destination.slice('file:'.length) }
      : { readable: false };
  }

  /**
   * Claims every sink's owner record, or releases what it claimed and throws
   * {@link SinkNameClash}; then renews the leases while active.
   */
  async #claimSinks(barrier: Barrier): Promise<void> {
    const owners = new SinkOwnership(barrier, AUDIT.owner, {
      id: randomUUID(),
      ...(this.#options.ownerLeaseMs === undefined ? {} : { leaseMs: this.#options.ownerLeaseMs }),
    });
    this.#owners = owners;
    try {
      for (const sink of this.#sinks) {
        await owners.claim(sink.name, destinationOf(sink));
        this.#claimed.add(sink.name);
      }
    } catch (err) {
      await this.#releaseSinks();
      throw err;
    }
    const renewEvery = Math.max(1, Math.floor(owners.leaseMs / 3));
    this.#renewal = setInterval(() => void this.#renewLeases(), renewEvery).unref();
  }

  /** Renews each lease; a sink another node took over is refused from here on. */
  async #renewLeases(): Promise<void> {
    const owners = this.#owners;
    if (owners === undefined) return;
    for (const chain of this.#chains) {
      const sink = chain.sink;
      if (!this.#claimed.has(sink.name)) continue;
      await owners.renew(sink.name, destinationOf(sink)).catch((err: unknown) => {
        if (err instanceof SinkNameClash) {
          this.#claimed.delete(sink.name);
          chain.refuse(err);
        }
        this.#report(chain, err);
      });
    }
  }

  async #releaseSinks(): Promise<void> {
    clearInterval(this.#renewal);
    this.#renewal = undefined;
    const owners = this.#owners;
    this.#owners = undefined;
    const claimed = [...this.#claimed];
    this.#claimed.clear();
    if (owners === undefined) return;
    await Promise.all(claimed.map((sink) => owners.release(sink).catch(() => {})));
  }

  #stateOf(sink: string): ChainState {
    return { checkpoint: this.#latest.get(sink), files: this.#files.get(sink) ?? [] };
  }

  /** Chains that take entries (not refused). */
  #usable(): ChainedSink[] {
    return this.#chains.filter((c) => c.refusal === undefined);
  }

  async #broadcast(
    build: (key: AuditKey, sink: string) => Record<string, unknown> | SerializedEntry,
  ): Promise<void> {
    if (!this.enabled) return;
    if (!this.active || this.#chains.length === 0) {
      throw new ServerError('ERR_AUDIT_UNAVAILABLE', 'audit log unavailable');
    }
    const usable = this.#usable();
    if (usable.length === 0) {
      const reasons = this.refusals().map((r) => `sink ${r.sink}: ${r.reason}`);
      if (this.#chains.every((c) => c.refusalCode === 'ERR_AUDIT_SINK_NAME_CLASH'))
        throw new ServerError(
          'ERR_AUDIT_SINK_NAME_CLASH',
          `audit log unavailable: another node took over every sink's name (${reasons.join('; ')})`,
        );
      throw new ServerError(
        'ERR_AUDIT_CHAIN_BROKEN',
        `audit log unavailable: every sink was refused (${reasons.join('; ')}). Move the file aside and start a new one: custos audit new-file <sink>`,
      );
    }
    const writes = usable.map((chain) =>
      chain
        .append(build(this.#hmacKeys.get(chain.sink.name) as AuditKey, chain.sink.name))
        .catch((err: Error) => {
          this.#report(chain, err);
          throw err;
        }),
    );
    try {
      // One sink (the usual case) needs no `Promise.any`: two promises less per entry.
      await this.#bounded(writes.length === 1 ? (writes[0] as Promise<void>) : Promise.any(writes));
    } catch {
      throw new ServerError('ERR_AUDIT_UNAVAILABLE', 'audit log unavailable');
    }
  }

  /**
   * `work`, failed when it has not settled within the audit bound. The bound judges the sinks,
   * not this process: when it runs out, the event loop gets one more turn before the failure,
   * so that a pause of the whole process (a starved machine, a long garbage collection) that
   * outlasted the bound does not fail an entry whose write was queued to run in that turn, or
   * whose sink's answer is already waiting in it.
   */
  #bounded<T>(work: Promise<T>): Promise<T> {
    const ms = this.#options.timeoutMs ?? 2000;
    // One promise settled by whichever comes first (two entries per request pass here: no
    // `Promise.race` of a timeout promise, nor a `finally`, each a promise more).
    return new Promise<T>((resolve, reject) => {
      let lastTurn: NodeJS.Immediate | undefined;
      const timer = setTimeout(() => {
        lastTurn = setImmediate(() =>
          reject(new Error(`audit sink did not answer within ${ms} ms`)),
        );
      }, ms);
      const settle = () => {
        clearTimeout(timer);
        clearImmediate(lastTurn);
      };
      work.then(
        (value) => {
          settle();
          resolve(value);
        },
        (err: unknown) => {
          settle();
          reject(err);
        },
      );
    });
  }

  #recordCheckpoint(record: CheckpointRecord): void {
    this.#latest.set(record.sink, record);
    this.#persist(CHECKPOINT_PREFIX + record.sink, record);
  }

  #recordFileStart(sink: string, start: FileStart): void {
    const files = this.#files.get(sink) ?? [];
    const last = files.at(-1);
    if (files.some((f) => f.seq === start.seq && f.hash === start.hash)) return;
    if (last !== undefined && start.seq <= last.seq) return; // an older file: nothing to add
    const kept = [...files, start].slice(-MAX_FILE_RECORDS);
    this.#files.set(sink, kept);
    this.#persist(FILES_PREFIX + sink, { files: kept });
  }

  /**
   * Writes chain state behind the barrier, in order per path (a later checkpoint never lands
   * before an earlier one); deactivation and new files wait for these writes.
   */
  #persist(path: string, data: unknown): void {
    const barrier = this.#barrier;
    if (barrier === undefined) return;
    const before = this.#lastWrite.get(path) ?? Promise.resolve();
    const write: Promise<void> = before
      .then(() => barrier.write(path, data))
      .catch((err: Error) => this.#options.onSinkError?.(path, err))
      .finally(() => {
        this.#stateWrites.delete(write);
        if (this.#lastWrite.get(path) === write) this.#lastWrite.delete(path);
      });
    this.#stateWrites.add(write);
    this.#lastWrite.set(path, write);
  }

  #settleStateWrites(): Promise<unknown> {
    return this.#bounded(Promise.allSettled([...this.#stateWrites]));
  }

  #report(chain: ChainedSink, err: unknown): void {
    this.#options.onSinkError?.(
      chain.sink.name,
      err instanceof Error ? err : new Error(String(err)),
    );
  }
}

function destinationOf(sink: AuditSink): string {
  return sink.destination ?? `sink:${sink.name}`;
}

function authBlock(
  key: AuditKey,
  request: AuditRequest,
  memo: HmacMemo,
): Record<string, unknown> | null {
  const entry = request.entry;
  if (entry === undefined)
    return request.token === undefined
      ? null
      : { client_token: hmacValue(key, request.token, memo) };
  return {
    client_token: request.token === undefined ? '' : hmacValue(key, request.token, memo),
    accessor: hmacValue(key, entry.accessor, memo),
    display_name: entry.displayName,
    policies: entry.policies,
    token_policies: entry.policies,
    metadata: hmacScalars(key, entry.meta, memo),
    token_type: 'service',
  };
}

function requestBlock(
  key: AuditKey,
  request: AuditRequest,
  memo: HmacMemo,
): Record<string, unknown> {
  return {
    id: request.id,
    operation: request.operation,
    path: request.path,
    remote_address: request.remoteAddress,
    client_token: request.token === undefined ? '' : hmacValue(key, request.token, memo),
    data: hmacScalars(key, request.data ?? null, memo),
  };
}

function responseBlock(key: AuditKey, body: unknown, memo?: HmacMemo): Record<string, unknown> {
  if (body === null || typeof body !== 'object') return {};
  const { data, auth, errors, warnings, wrap_info } = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (data !== undefined) out.data = hmacScalars(key, data, memo);
  if (wrap_info !== undefined && wrap_info !== null) {
    // The wrapping token and accessors are HMAC'd; when, where and for how long are not secret.
    const { token, accessor, wrapped_accessor, ...when } = wrap_info as Record<string, unknown>;
    out.wrap_info = {
      ...when,
      ...(hmacScalars(key, { token, accessor, wrapped_accessor }, memo) as object),
    };
  }
  if (auth !== undefined && auth !== null) {
    const { policies, token_policies, ...secret } = auth as Record<string, unknown>;
    out.auth = { ...(hmacScalars(key, secret, memo) as object), policies, token_policies };
  }
  // Error and warning texts are written by custos and never carry secret values.
  if (errors !== undefined) out.errors = errors;
  if (warnings !== undefined && warnings !== null) out.warnings = warnings;
  return out;
}

async function loadSigner(barrier: Barrier): Promise<CheckpointSigner> {
  let stored = await barrier.read<{ privateKey: string }>(SIGNING_KEY_PATH);
  if (stored === undefined) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await barrier.create(SIGNING_KEY_PATH, { privateKey: pem }).catch(() => {});
    stored = await barrier.read<{ privateKey: string }>(SIGNING_KEY_PATH);
  }
  const privateKey = createPrivateKey((stored as { data: { privateKey: string } }).data.privateKey);
  const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  // A public key's id may be its fingerprint: it identifies, and reveals nothing secret.
  const keyId = createHash('sha256').update(der).digest('hex').slice(0, 16);
  return { keyId, privateKey, publicKey: der.toString('base64') };
}

async function loadHmacKey(barrier: Barrier, sink: string): Promise<AuditKey> {
  const path = HMAC_KEY_PREFIX + sink;
  const stored = await barrier.read<{ key: string }>(path);
  if (stored !== undefined) return createSecretKey(Buffer.from(stored.data.key, 'base64'));
  await barrier.create(path, { key: randomBytes(32).toString('base64') }).catch(() => {});
  const created = await barrier.read<{ key: string }>(path);
  return createSecretKey(Buffer.from((created as { data: { key: string } }).data.key, 'base64'));
}
