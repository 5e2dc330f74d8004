import type { AnyKysely } from '@custos/reencrypt';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { openServerAlerts } from './alerts/server-alerts.js';
import { buildApp, type ServerTlsOptions } from './app/build-app.js';
import { closeGracefully } from './app/graceful-close.js';
import { AuditBroker } from './audit/audit-broker.js';
import { createHttpSink } from './audit/http-sink.js';
import { type AuditSink, createFileSink, createStdoutSink } from './audit/sinks.js';
import { createSyslogSink } from './audit/syslog-sink.js';
import { approleMounts, createApproleStore } from './auth/approle-store.js';
import { createTokenRoleStore } from './auth/token-role-store.js';
import { createTokenStore } from './auth/token-store.js';
import { createAccessKeyStore } from './aws/access-key-store.js';
import { isPathPrefix } from './aws/paths/secrets-manager-api.js';
import { createBarrier } from './barrier/barrier.js';
import { leadershipLockKey, postgresLeadership } from './cluster/cluster-leadership.js';
import { createClusterNodes } from './cluster/cluster-nodes.js';
import type { AlertsConfig } from './config/alerts-config.js';
import type { RotationConfig } from './config/rotation-config.js';
import { type AuditSinkConfig, defaultSinkName } from './config/server-config.js';
import type { ServerContext } from './context.js';
import { ServerError } from './errors.js';
import { createChangeEvents } from './events/change-events.js';
import { createEventRelay } from './events/event-relay.js';
import { publishingRotations } from './events/rotation-changes.js';
import { createKvEngine } from './kv/kv-engine.js';
import { createKvMounts } from './kv/kv-mounts.js';
import { initialize, sealServer, wireSealHooks } from './lifecycle.js';
import { countedRotations } from './metrics/counted-rotations.js';
import { MetricsHistory } from './metrics/metrics-history.js';
import { createServerMetrics } from './metrics/server-metrics.js';
import { createPolicyStore } from './policy/policy-store.js';
import { createApprovalStore, DEFAULT_APPROVAL_RETENTION_MS } from './rotation/approval-store.js';
import { builtInRotators } from './rotation/built-in-rotators.js';
import { singleNodeLeader } from './rotation/leader-lock.js';
import { rotationMountHooks } from './rotation/mount-lifecycle.js';
import { createRotationEngine } from './rotation/rotation-engine.js';
import { createRotationScheduler } from './rotation/rotation-scheduler.js';
import { openRotationSetup } from './rotation/rotation-setup.js';
import { rotationStatuses } from './rotation/rotation-statuses.js';
import { createRotationStore } from './rotation/rotation-store.js';
import { kvSecrets } from './rotation/rotation-target.js';
import type { RotatorRegistry } from './rotation/rotator.js';
import { rewrapProgressStore } from './rotation/rotators/rewrap-job.js';
import { transitKeyRotator } from './rotation/rotators/transit-key.js';
import { startAutoUnseal } from './seal/auto-unseal.js';
import { createDevKeyFile, readDevKeyFile } from './seal/dev-unseal-key.js';
import { GenerateRoot } from './seal/generate-root.js';
import { Rekey } from './seal/rekey.js';
import { SealManager } from './seal/seal-manager.js';
import { createRootKeyWrapper, type SealClients, type SealStanza } from './seal/seal-stanza.js';
import { openStorage, type StorageTimeouts } from './storage/database.js';
import { createEntryStore } from './storage/entry-store.js';
import { APPROLE, KV, TRANSIT } from './storage/layout.js';
import { type ChangeFeedOptions, openChangeFeed } from './storage/open-change-feed.js';
import { createMountTable } from './sys/mount-table.js';
import { createTransitMounts } from './transit/transit-mounts.js';
import { createTransitStore, type TransitStoreOptions } from './transit/transit-store.js';
import { createUsageLog } from './transit/usage-log.js';
import { defaultDashboardDir } from './ui/dashboard-assets.js';
import { serverVersion } from './version.js';
import { createWrappingStore } from './wrapping/wrapping-store.js';

/** How to start a server. */
export interface StartOptions {
  /** `:memory:`, a SQLite file path, or a `postgres://` URL. Default `:memory:`. */
  readonly storage?: string;
  /** PostgreSQL connect and query timeouts (default 5 000 and 30 000 ms). */
  readonly storageTimeouts?: StorageTimeouts;
  /**
   * The PostgreSQL change feed's heartbeat, settle timeout and first reconnection delay
   * (storage/NOTES.md); defaults suit production.
   */
  readonly changeFeed?: Omit<ChangeFeedOptions, 'onState'>;
  /**
   * How often the change-event relay reads the other nodes' events without being woken
   * (PostgreSQL; default 1 000 ms, events/event-relay.ts); tests make it long.
   */
  readonly eventRelay?: { readonly fallbackPollMs?: number };
  readonly host?: string;
  /** 0 picks a free port. Default 8200. */
  readonly port?: number;
  /** TLS: a certificate and key, or everything `tlsServerOptions()` of `@custos/core/tls` returns. */
  readonly tls?: ServerTlsOptions;
  readonly audit?: readonly AuditSinkConfig[];
  readonly maxRequestBytes?: number;
  /** How long a client may take to send a whole request, body included (default 60 s). */
  readonly requestTimeoutMs?: number;
  readonly auditTimeoutMs?: number;
  readonly auditCheckpointEvery?: number;
  readonly auditCheckpointIntervalMs?: number;
  /** How long an audit sink's owner record holds without renewal (default 30 s). */
  readonly auditOwnerLeaseMs?: number;
  readonly logLevel?: string;
  /**
   * The clock token and AppRole lifetimes are measured by, in Unix milliseconds (default
   * `Date.now`). Tests move it to expire tokens without waiting.
   */
  readonly clock?: () => number;
  /** How often expired tokens are swept while unsealed (default 60 000 ms). */
  readonly tokenSweepIntervalMs?: number;
  /** Transit tuning (tests use a small counter block). */
  readonly transit?: TransitStoreOptions;
  /** Where log lines go (default stdout). */
  readonly logDestination?: { write(line: string): void };
  /**
   * Dev mode, as `vault server -dev`: initialised and unsealed at start with one unseal key,
   * a root token (`rootTokenId` when given). With file storage, the unseal key is kept in
   * `<file>.dev-unseal-key` so a restart unseals again — never do this in production. The file
   * is created new (0600; an existing file or symbolic link there is refused) and read back
   * only if it is a regular file of this user that nobody else may read.
   */
  readonly dev?: { readonly rootTokenId?: string };
  /** The Secrets Manager API (docs/aws.md). */
  readonly aws?: AwsOptions;
  /** CIDR blocks of reverse proxies trusted to name the client in `X-Forwarded-For`. */
  readonly trustedProxies?: readonly string[];
  /**
   * Host names a browser may use to change state on this server over loopback, besides
   * `localhost` and IP addresses (http/cross-site.ts). Default none.
   */
  readonly allowedHosts?: readonly string[];
  /**
   * The rotators policies may name (default the built-in ones, `builtInRotators()`); a server
   * plugin registers custom ones on it (docs/rotation.md).
   */
  readonly rotators?: RotatorRegistry;
  /**
   * The databases `transit-key` rotation policies may name (by these names, never a URL in a
   * policy): Kysely instances over SQLite or PostgreSQL whose columns hold transit ciphertexts.
   */
  readonly rotationDatabases?: Readonly<Record<string, AnyKysely>>;
  /** How often the rotation scheduler ticks while unsealed (default 60 000 ms; 0: never). */
  readonly rotationSchedulerIntervalMs?: number;
  /**
   * The scheduler's jitter (default 30 000 ms), how long a run saved without a lease (by a
   * version before run leases) must go unsaved before another node resumes it (default 10 min),
   * and its concurrency (default 4): for embedding and tests.
   */
  readonly rotationScheduler?: {
    readonly jitterMs?: number;
    readonly staleRunMs?: number;
    readonly concurrency?: number;
  };
  /**
   * How long a node's claim on a rotation's background work (a rewrap) holds without renewal
   * (default 60 000 ms): a node that dies holding one is replaced that long after.
   */
  readonly rotationBackgroundLeaseMs?: number;
  /**
   * How long a node's claim on a running rotation holds without renewal (default 60 000 ms):
   * another node resumes a run that long after its driver's last renewal.
   */
  readonly rotationRunLeaseMs?: number;
  /**
   * The configuration file's `rotation` section (config/rotation-config.ts): its databases are
   * opened and its plugins' rotators registered at start (closed by `close()`); its
   * `scheduler_interval` applies unless `rotationSchedulerIntervalMs` is given.
   */
  readonly rotation?: RotationConfig;
  /**
   * Auto-unseal (`seal` stanza, Vault's names): the root key is wrapped by this seal, the server
   * unseals itself at start (retrying with backoff while the seal is out of reach) and init
   * gives recovery keys (docs/operations.md, "Auto-unseal").
   */
  readonly seal?: SealStanza;
  /**
   * Client settings of the cloud seals a stanza cannot express (a private CA's agent, another
   * endpoint, an injected credential): for embedding, and tests against local stand-ins.
   */
  readonly sealClients?: SealClients;
  /**
   * The environment the seal's settings and credentials are read from (`CUSTOS_SEAL_TOKEN`,
   * `VAULT_TOKEN`, `HSM_*`, `AWS_*`, `AZURE_*`, `GOOGLE_*`, `VAULT_*_SEAL_*`).
   */
  readonly env?: NodeJS.ProcessEnv;
  /** Backoff of the auto-unseal retries (default 1 s doubling to 60 s). */
  readonly autoUnsealBackoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /**
   * How long `close()` waits for the requests in flight before it cuts their connections
   * (default 30 000 ms). See `closeGracefully`.
   */
  readonly shutdownGraceMs?: number;
  /** Metrics (`sys/metrics`, Vault's `telemetry` stanza; docs/metrics.md). */
  readonly telemetry?: TelemetryOptions;
  /** Length of one `sys/metrics-history` sample (default 30 000 ms; an hour is kept). */
  readonly metricsHistoryIntervalMs?: number;
  /**
   * The configuration file's `alerts` section (docs/alerts.md): its channels' secrets are read
   * at start (one missing stops the start), its rules fed by the events the metrics count.
   */
  readonly alerts?: AlertsConfig;
  /**
   * The dashboard at `/ui/` (docs/dashboard.md): served from `dir`, by default the build of
   * the `@custos/ui` package installed beside the server; `false` serves none.
   */
  readonly ui?: false | { readonly dir?: string };
}

/** The `telemetry` settings, with Vault's names. */
export interface TelemetryOptions {
  /** `sys/metrics` needs no token (for scrapers); default false: `read` on `sys/metrics`. */
  readonly unauthenticated_metrics_access?: boolean;
  /** Transit keys with a `key` label of their own; later ones are counted as `other` (100). */
  readonly max_key_labels?: number;
}

/** Where the Secrets Manager API is served and what its ARNs name. */
export interface AwsOptions {
  /** Served at `<pathPrefix>/`: `''` (default, at `/`) or e.g. `/aws`. */
  readonly pathPrefix?: string;
  /** The region in ARNs (default `us-east-1`). */
  readonly region?: string;
  /** The twelve-digit account id in ARNs (default `000000000000`). */
  readonly accountId?: string;
}

/** The Secrets Manager API's settings, defaults filled in and checked. */
function secretsManagerOf(options: AwsOptions = {}) {
  const pathPrefix = options.pathPrefix ?? '';
  if (!isPathPrefix(pathPrefix))
    throw new ServerError(
      'ERR_INVALID_CONFIG',
      'aws.pathPrefix must be empty or /segment(/segment)* of lower-case letters, digits and -, outside /v1',
    );
  const region = options.region ?? 'us-east-1';
  if (!/^[a-z0-9-]{1,32}$/.test(region))
    throw new ServerError(
      'ERR_INVALID_CONFIG',
      'aws.region must be lower-case letters, digits and -',
    );
  const accountId = options.accountId ?? '000000000000';
  if (!/^\d{12}$/.test(accountId))
    throw new ServerError('ERR_INVALID_CONFIG', 'aws.accountId must be twelve digits');
  return { mount: 'secret', region, accountId, pathPrefix };
}

/** A running server. */
export interface RunningServer {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly context: ServerContext;
  /** Dev mode only: the root token and unseal key created at start. */
  readonly rootToken?: string;
  readonly unsealKey?: string;
  /**
   * Graceful shutdown: stops accepting connections, lets the requests in flight finish (up to
   * `shutdownGraceMs`), then seals (the audit log gets its close entry and final checkpoint)
   * and closes storage.
   */
  close(): Promise<void>;
}

/**
 * A request as the server log shows it: method, path and peer. The query string is left out
 * (`?…` marks that there was one): its values are request values, which never reach a log line.
 */
function requestForLog(request: {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}) {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  return {
    method: request.method,
    url: query === -1 ? url : `${url.slice(0, query)}?…`,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** The certificates of a PEM bundle, named `client-ca`, `client-ca-2`, … in its order. */
function pemCertificates(bundle: Buffer | undefined): { name: string; certificate: string }[] {
  const blocks =
    bundle
      ?.toString('utf8')
      .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((certificate, i) => ({
    name: i === 0 ? 'client-ca' : `client-ca-${i + 1}`,
    certificate,
  }));
}

function sinksOf(configs: readonly AuditSinkConfig[], clock: () => number): AuditSink[] {
  const now = () => new Date(clock());
  return configs.map((c, i) => {
    const name = c.name ?? defaultSinkName(c, i);
    switch (c.type) {
      case 'file':
        return createFileSink(name, c.path, {
          now,
          ...(c.maxBytes === undefined ? {} : { maxBytes: c.maxBytes }),
          ...(c.maxAgeSeconds === undefined ? {} : { maxAgeMs: c.maxAgeSeconds * 1000 }),
          ...(c.retainDays === undefined ? {} : { retainMs: c.retainDays * 86_400_000 }),
        });
      case 'http':
        return createHttpSink(name, c);
      case 'syslog':
        return createSyslogSink(name, c);
      default:
        return createStdoutSink(name);
    }
  });
}

/**
 * Opens storage, builds the server and listens. A production server starts sealed (or
 * uninitialised); a dev server starts unsealed with a root token.
 *
 * @example
 * ```ts
 * const server = await startServer({ dev: { rootTokenId: 'root' }, port: 8200 });
 * console.log(server.url, server.rootToken);
 * ```
 */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const secretsManager = secretsManagerOf(options.aws); // checked before anything is opened
  const clock = options.clock ?? Date.now;
  // Also checked (max_key_labels) before anything is opened.
  const serverMetrics = createServerMetrics({
    clock,
    ...(options.telemetry?.max_key_labels === undefined
      ? {}
      : { maxKeyLabels: options.telemetry.max_key_labels }),
  });
  if (options.tls !== undefined) {
    serverMetrics.setCertificate(options.tls.cert);
    // The client CA bundle's certificates expire too: each is a series of its own.
    serverMetrics.setConfiguredCertificates(pemCertificates(options.tls.ca));
  }
  const wrapper =
    options.seal === undefined
      ? undefined
      : createRootKeyWrapper(options.seal, options.env, options.sealClients);
  if (wrapper !== undefined && options.dev !== undefined)
    throw new ServerError('ERR_INVALID_CONFIG', 'dev mode takes no seal stanza');
  const logger = pino(
    {
      level: options.logLevel ?? 'info',
      redact: {
        paths: ['req.headers["x-vault-token"]', 'req.headers.authorization'],
        censor: '[REDACTED]',
      },
      serializers: { req: requestForLog },
    },
    options.logDestination ?? process.stdout,
  );
  // Alert channel secrets, plugins and rotation databases first: a wrong one stops the start
  // before storage opens.
  const alerts =
    options.alerts === undefined
      ? undefined
      : await openServerAlerts(options.alerts, {
          metrics: serverMetrics,
          clock,
          log: logger,
          env: options.env ?? process.env,
        });
  // Every event the metrics count also reaches the alert rules (alerts/server-alerts.ts).
  const metrics = alerts?.metrics ?? serverMetrics;
  let rotationSetup: Awaited<ReturnType<typeof openRotationSetup>> | undefined;
  try {
    rotationSetup =
      options.rotation === undefined
        ? undefined
        : await openRotationSetup(options.rotation, options.env ?? process.env);
  } catch (err) {
    alerts?.close();
    throw err;
  }
  let storage: Awaited<ReturnType<typeof openStorage>>;
  let changes: Awaited<ReturnType<typeof openChangeFeed>>;
  try {
    storage = await openStorage(options.storage ?? ':memory:', options.storageTimeouts);
  } catch (err) {
    await rotationSetup?.close();
    alerts?.close();
    throw err;
  }
  try {
    // The caches above the barrier follow the storage's committed changes (storage/NOTES.md).
    changes = await openChangeFeed(options.storage ?? ':memory:', options.storageTimeouts, {
      ...options.changeFeed,
      onState: (live, reason) =>
        live
          ? logger.info('storage change feed listening: caches in use')
          : logger.warn({ reason }, 'storage change feed lost: caches bypassed until it is back'),
    });
  } catch (err) {
    await storage.close();
    await rotationSetup?.close();
    alerts?.close();
    throw err;
  }
  const closeStorage = async () => {
    await changes.close();
    await storage.close();
    await rotationSetup?.close();
    alerts?.close();
  };
  const store = createEntryStore(storage.db, changes);
  const migrateAway = options.seal?.disabled === true;
  const seal = new SealManager(store, wrapper, { migrateAway });
  await seal.load();
  const barrier = createBarrier(store, seal);
  const tokens = createTokenStore(barrier, () => clock() / 1000, {
    cacheCounter: metrics.registerCache('token'),
    ...(options.tokenSweepIntervalMs === undefined
      ? {}
      : { sweepIntervalMs: options.tokenSweepIntervalMs }),
    onSweepError: (error) =>
      logger.error({ reason: (error as Error).message }, 'expired token sweep failed'),
    // The mount table (declared below) is cached and followed by the change feed.
    authMountLive: async (uuid) => (await mounts.list()).some((m) => m.uuid === uuid),
  });
  const audit = new AuditBroker(sinksOf(options.audit ?? [], clock), {
    ...(options.auditTimeoutMs === undefined ? {} : { timeoutMs: options.auditTimeoutMs }),
    ...(options.auditCheckpointEvery === undefined
      ? {}
      : { checkpointEvery: options.auditCheckpointEvery }),
    ...(options.auditCheckpointIntervalMs === undefined
      ? {}
      : { checkpointIntervalMs: options.auditCheckpointIntervalMs }),
    ...(options.auditOwnerLeaseMs === undefined ? {} : { ownerLeaseMs: options.auditOwnerLeaseMs }),
    onSinkError: (sink, error) => {
      metrics.auditSinkFailed(sink);
      logger.error({ sink, reason: error.message }, 'audit sink failed');
    },
  });
  const kv = createKvEngine(barrier, 'secret');
  const approles = createApproleStore(barrier, tokens.hmacKey, clock);
  const mounts = createMountTable(barrier, [rotationMountHooks()]);
  const kvMounts = createKvMounts(barrier, { [KV.prefix('secret')]: kv });
  const rotationStore = createRotationStore(barrier);
  const transit = createTransitStore(barrier, {
    ...options.transit,
    cacheCounter: metrics.registerCache('transit_key'),
  });
  const transitUsage = createUsageLog(barrier);
  const rotators = options.rotators ?? builtInRotators();
  for (const rotator of rotationSetup?.rotators ?? []) {
    if (rotators.get(rotator.name) !== undefined) {
      await closeStorage();
      throw new ServerError(
        'ERR_INVALID_CONFIG',
        `config: a rotation plugin's rotator is named ${rotator.name}, the name of a rotator the server has`,
      );
    }
    rotators.register(rotator);
  }
  const rotationDatabases = { ...rotationSetup?.databases, ...options.rotationDatabases };
  // Needs this server's transit store: registered here, unless a plugin registered its own.
  if (rotators.get('transit-key') === undefined)
    rotators.register(
      transitKeyRotator({
        transit,
        progress: rewrapProgressStore(barrier),
        databases: rotationDatabases,
        now: clock,
      }),
    );
  const events = createChangeEvents({ clock });
  const rotationEngine = countedRotations(
    publishingRotations(
      createRotationEngine({
        store: rotationStore,
        // A stored name's KV version 2 mount, from the mount table in force (longest path).
        secretOf: kvSecrets(mounts, kvMounts),
        rotators,
        audit,
        clock,
        ...(options.rotationBackgroundLeaseMs === undefined
          ? {}
          : { backgroundLeaseMs: options.rotationBackgroundLeaseMs }),
        ...(options.rotationRunLeaseMs === undefined
          ? {}
          : { runLeaseMs: options.rotationRunLeaseMs }),
      }),
      events,
    ),
    metrics,
  );
  // One leader per cluster on PostgreSQL (an advisory lock); it runs the rotation scheduler.
  const leadership =
    storage.kind === 'postgres'
      ? postgresLeadership(storage.db as never, leadershipLockKey(storage.schema))
      : undefined;
  const context: ServerContext = {
    storage,
    cluster: createClusterNodes({
      barrier,
      ...(leadership === undefined ? {} : { leadership }),
      version: serverVersion,
      clock,
    }),
    seal,
    rekey: new Rekey(seal, store),
    rekeyRecovery: new Rekey(seal, store, 'recovery'),
    generateRoot: new GenerateRoot(seal, store, tokens),
    barrier,
    tokens,
    tokenRoles: createTokenRoleStore(barrier),
    policies: createPolicyStore(barrier, { cacheCounter: metrics.registerCache('policy') }),
    approles,
    approleMounts: approleMounts(barrier, tokens.hmacKey, clock, { [APPROLE.prefix]: approles }),
    kv,
    mounts,
    kvMounts,
    transit,
    transitUsage,
    transitMounts: createTransitMounts({
      barrier,
      mounts,
      known: { [TRANSIT.prefix]: { transit, usage: transitUsage } },
      ...(options.transit === undefined ? {} : { options: options.transit }),
    }),
    audit,
    wrapping: createWrappingStore(barrier, tokens),
    accessKeys: createAccessKeyStore(
      barrier,
      () => clock() / 1000,
      async (accessor) => (await tokens.byAccessor(accessor)) !== undefined,
    ),
    secretsManager,
    clock,
    rotation: {
      store: rotationStore,
      rotators,
      engine: rotationEngine,
      scheduler: createRotationScheduler({
        engine: rotationEngine,
        store: rotationStore,
        leader: leadership?.asLeaderLock() ?? singleNodeLeader(),
        clock,
        onEvent: (event) => logger.info({ rotation: event }, `rotation ${event.kind}`),
        approvals: {
          store: createApprovalStore(barrier, clock),
          retentionMs: options.rotation?.approvalRetentionMs ?? DEFAULT_APPROVAL_RETENTION_MS,
        },
        ...options.rotationScheduler,
      }),
      schedulerIntervalMs:
        options.rotationSchedulerIntervalMs ?? options.rotation?.schedulerIntervalMs ?? 60_000,
    },
    events,
    // Nodes on one PostgreSQL database see each other's through storage, woken by the change
    // feed; servers of one process on one SQLite file, in process.
    eventRelay: createEventRelay(barrier, events, {
      clock,
      ...(options.eventRelay?.fallbackPollMs === undefined
        ? {}
        : { fallbackPollMs: options.eventRelay.fallbackPollMs }),
      onError: (error) => logger.error({ reason: error.message }, 'change event relay failed'),
    }),
    dev: options.dev !== undefined,
    version: serverVersion,
    trustedProxies: options.trustedProxies ?? [],
    metrics,
    metricsHistory: new MetricsHistory(metrics.registry, {
      clock,
      ...(options.metricsHistoryIntervalMs === undefined
        ? {}
        : { intervalMs: options.metricsHistoryIntervalMs }),
    }),
    unauthenticatedMetrics: options.telemetry?.unauthenticated_metrics_access === true,
  };
  // The same sources feed the gauges and the alerts' periodic checks.
  metrics.watch({
    sealed: () => !seal.isUnsealed(),
    nodes: async () => (seal.isUnsealed() ? (await context.cluster.list()).length : undefined),
    overdueRotations: async () =>
      seal.isUnsealed()
        ? (await rotationStatuses(rotationStore, clock())).filter((s) => s.overdue).length
        : undefined,
  });
  wireSealHooks(context);
  if (alerts !== undefined) seal.onSeal(() => alerts.nodeSealed());

  let rootToken: string | undefined;
  let unsealKey: string | undefined;
  if (options.dev !== undefined) {
    try {
      ({ rootToken, unsealKey } = await startDev(context, storage.description, options));
    } catch (err) {
      await sealServer(context);
      await closeStorage();
      throw err;
    }
  }

  const app = buildApp(context, {
    bodyLimitBytes: options.maxRequestBytes ?? 4 * 1024 * 1024,
    ...(options.requestTimeoutMs === undefined
      ? {}
      : { requestTimeoutMs: options.requestTimeoutMs }),
    logger,
    allowedHosts: options.allowedHosts ?? [],
    ...(options.tls === undefined ? {} : { https: options.tls }),
    ...(options.ui === false
      ? {}
      : { dashboard: { dir: options.ui?.dir ?? defaultDashboardDir() } }),
  });
  try {
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8200 });
  } catch (err) {
    await sealServer(context);
    await closeStorage();
    throw err;
  }
  // Auto-unseal: sealed (serving seal-status) until the seal unwraps the root key; retried with
  // backoff while the seal is out of reach, never a crash.
  const autoUnseal =
    wrapper === undefined || migrateAway
      ? undefined
      : startAutoUnseal(
          seal,
          {
            unsealed: () => logger.info(`unsealed by the ${wrapper.description}`),
            failed: (error, retryInMs) =>
              logger.warn(
                { code: (error as { code?: string }).code },
                `auto-unseal failed, server stays sealed, retry in ${retryInMs} ms: ${error.message}`,
              ),
          },
          options.autoUnsealBackoff,
        );
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host ?? '127.0.0.1';
  const url = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  context.cluster.setAddress(url);
  context.metricsHistory.start();
  alerts?.setNode(url);
  alerts?.start();
  return {
    url,
    app,
    context,
    ...(rootToken === undefined ? {} : { rootToken }),
    ...(unsealKey === undefined ? {} : { unsealKey }),
    async close() {
      // Before the shutdown's own seal, which is not an alert; deliveries in flight get a moment.
      context.metricsHistory.stop();
      await alerts?.stop(5000);
      await autoUnseal?.stop();
      // Pending and later waits for change events are answered now: a drain would otherwise
      // wait out their `wait` (up to 60 s) while nothing else is in flight.
      context.events.shutDown();
      const drained = await closeGracefully(app, options.shutdownGraceMs ?? 30_000);
      if (!drained) logger.warn('shutdown: requests still in flight at the bound were cut off');
      await sealServer(context);
      await closeStorage();
      await wrapper?.close?.();
    },
  };
}

async function startDev(
  ctx: ServerContext,
  description: string,
  options: StartOptions,
): Promise<{ rootToken?: string; unsealKey: string }> {
  const keyFile = description.startsWith('sqlite /')
    ? `${description.slice('sqlite '.length)}.dev-unseal-key`
    : undefined;
  if (!ctx.seal.isInitialized()) {
    // Created (exclusively) before init, so an existing file stops the start before storage
    // is touched.
    const file = keyFile === undefined ? undefined : await createDevKeyFile(keyFile);
    try {
      const { keyShares, rootToken } = await initialize(ctx, 1, 1, {
        stayUnsealed: true,
        ...(options.dev?.rootTokenId === undefined ? {} : { rootTokenId: options.dev.rootTokenId }),
      });
      const unsealKey = (keyShares[0] as Buffer).toString('hex');
      await file?.write(unsealKey);
      return { rootToken, unsealKey };
    } catch (err) {
      await file?.discard();
      throw err;
    }
  }
  if (keyFile === undefined)
    throw new Error('dev mode: storage is initialised but has no dev unseal key');
  const unsealKey = await readDevKeyFile(keyFile);
  await ctx.seal.submitShare(Buffer.from(unsealKey, 'hex'));
  return { unsealKey };
}
