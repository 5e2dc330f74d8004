import type { AuditBroker } from './audit/audit-broker.js';
import type { Approles } from './auth/approle-store.js';
import type { TokenRoles } from './auth/token-role-store.js';
import type { TokenStore } from './auth/token-store.js';
import type { AccessKeyStore } from './aws/access-key-store.js';
import type { SecretsManagerSite } from './aws/secret-id.js';
import type { Barrier } from './barrier/barrier.js';
import type { ClusterNodes } from './cluster/cluster-nodes.js';
import type { ChangeEvents } from './events/change-events.js';
import type { EventRelay } from './events/event-relay.js';
import type { KvEngine } from './kv/kv-engine.js';
import type { KvMounts } from './kv/kv-mounts.js';
import type { MetricsHistory } from './metrics/metrics-history.js';
import type { ServerMetrics } from './metrics/server-metrics.js';
import type { PolicyStore } from './policy/policy-store.js';
import type { RotationEngine } from './rotation/rotation-engine.js';
import type { RotationScheduler } from './rotation/rotation-scheduler.js';
import type { RotationStore } from './rotation/rotation-store.js';
import type { RotatorRegistry } from './rotation/rotator.js';
import type { GenerateRoot } from './seal/generate-root.js';
import type { Rekey } from './seal/rekey.js';
import type { SealManager } from './seal/seal-manager.js';
import type { StorageDatabase } from './storage/database.js';
import type { MountEntry, MountTable } from './sys/mount-table.js';
import type { TransitMounts } from './transit/transit-mounts.js';
import type { TransitStore } from './transit/transit-store.js';
import type { UsageLog } from './transit/usage-log.js';
import type { WrappingStore } from './wrapping/wrapping-store.js';

/**
 * Every component of a running server, built once at start (`server.ts`). Only the
 * composition root (server.ts, lifecycle.ts, app/) holds it; route groups and engines are
 * given the members they use.
 */
export interface ServerContext {
  readonly storage: StorageDatabase;
  /** The nodes sharing this storage, and which leads (`sys/leader`, `sys/ha-status`). */
  readonly cluster: ClusterNodes;
  readonly seal: SealManager;
  /** Rekey and root token generation (authorised by key shares). */
  readonly rekey: Rekey;
  /** Recovery key rekey under an auto-unseal seal (`sys/rekey-recovery-key`). */
  readonly rekeyRecovery: Rekey;
  readonly generateRoot: GenerateRoot;
  readonly barrier: Barrier;
  readonly tokens: TokenStore;
  /** Token roles (`auth/token/roles/:name`). */
  readonly tokenRoles: TokenRoles;
  readonly policies: PolicyStore;
  /** AppRole at `auth/approle/` (kept for the components that predate AppRole mounts). */
  readonly approles: Approles;
  /** The AppRole store of each AppRole mount. */
  readonly approleMounts: (mount: MountEntry) => Approles;
  /** The KV version 2 engine of `kv/secret/` (the `secret/` mount the server starts with). */
  readonly kv: KvEngine;
  /** Which engine serves which path: every mount and auth method. */
  readonly mounts: MountTable;
  /** The engines of KV mounts, by mount. */
  readonly kvMounts: KvMounts;
  readonly transit: TransitStore;
  readonly transitUsage: UsageLog;
  /** The engines of transit mounts, by mount (`transit/`'s are `transit` and `transitUsage`). */
  readonly transitMounts: TransitMounts;
  readonly audit: AuditBroker;
  /** Wrapped responses and their single-use wrapping tokens. */
  readonly wrapping: WrappingStore;
  /** Access keys of the Secrets Manager API. */
  readonly accessKeys: AccessKeyStore;
  /** Where the Secrets Manager API keeps its secrets, names its ARNs, and is served. */
  readonly secretsManager: SecretsManagerSite & { readonly pathPrefix: string };
  /** The server's clock, Unix milliseconds. */
  readonly clock: () => number;
  /** The rotation engine (rotation/): its stored state, its rotators, the engine. */
  readonly rotation: {
    readonly store: RotationStore;
    readonly rotators: RotatorRegistry;
    readonly engine: RotationEngine;
    readonly scheduler: RotationScheduler;
    /** How often the scheduler ticks while unsealed (ms; 0: never). */
    readonly schedulerIntervalMs: number;
  };
  /** Change events of secrets (events/): published here, relayed between nodes on PostgreSQL. */
  readonly events: ChangeEvents;
  /**
   * The relay of change events between nodes sharing one database (PostgreSQL: through storage
   * when other nodes listen, woken by the change feed; SQLite: in process).
   */
  readonly eventRelay: EventRelay;
  /** Whether the server was started with `--dev`. */
  readonly dev: boolean;
  readonly version: string;
  /** CIDR blocks of reverse proxies trusted to name the client in `X-Forwarded-For`. */
  readonly trustedProxies: readonly string[];
  /** This server's metrics (`sys/metrics`), in a registry of its own. */
  readonly metrics: ServerMetrics;
  /** The last hour of a few series, sampled from `metrics` (`sys/metrics-history`). */
  readonly metricsHistory: MetricsHistory;
  /** `sys/metrics` needs no token (`telemetry.unauthenticated_metrics_access`). */
  readonly unauthenticatedMetrics: boolean;
}
