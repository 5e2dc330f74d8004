import { cubbyholes } from '../auth/cubbyhole.js';
import { approleCredentialsPaths } from '../auth/paths/approle-credentials.js';
import { approleLoginPaths } from '../auth/paths/approle-login.js';
import { approleRolePaths } from '../auth/paths/approle-role.js';
import { approleRoleFieldPaths } from '../auth/paths/approle-role-fields.js';
import { approleSecretIdPaths } from '../auth/paths/approle-secret-ids.js';
import { tokenAccessorPaths } from '../auth/paths/token-accessors.js';
import { tokenCreatePaths } from '../auth/paths/token-create.js';
import { tokenLookupPaths } from '../auth/paths/token-lookup.js';
import { tokenRenewPaths } from '../auth/paths/token-renew.js';
import { tokenRevokePaths } from '../auth/paths/token-revoke.js';
import { tokenRolePaths } from '../auth/paths/token-roles.js';
import { createKmsStore } from '../aws/kms/kms-store.js';
import { accessKeyPaths } from '../aws/paths/access-keys.js';
import { secretsManagerApiPaths } from '../aws/paths/secrets-manager-api.js';
import { compliancePaths } from '../compliance/compliance-paths.js';
import type { ServerContext } from '../context.js';
import { eventsPaths } from '../events/paths/events.js';
import { mountedGroup, mountOfRequest } from '../http/mount-routing.js';
import type { RouteGroup } from '../http/route-spec.js';
import { kvConfigPaths } from '../kv/paths/config.js';
import { kvDataPaths } from '../kv/paths/data.js';
import { kvMetadataPaths } from '../kv/paths/metadata.js';
import { kvSubkeysPaths } from '../kv/paths/subkeys.js';
import { kvVersionsPaths } from '../kv/paths/versions.js';
import { countedUsage } from '../metrics/counted-usage.js';
import { integritySourceOf } from '../metrics/integrity-failures.js';
import { policiesPaths } from '../policy/paths/policies.js';
import { policyExplainPaths } from '../policy/paths/policy-explain.js';
import { createApprovalStore } from '../rotation/approval-store.js';
import { rotationAbandonPaths } from '../rotation/paths/rotation-abandon.js';
import { rotationApprovalPaths } from '../rotation/paths/rotation-approvals.js';
import { rotationContinuePaths } from '../rotation/paths/rotation-continue.js';
import { rotationPoliciesPaths } from '../rotation/paths/rotation-policies.js';
import { rotationRunPaths } from '../rotation/paths/rotation-run.js';
import { rewrapProgressStore } from '../rotation/rotators/rewrap-job.js';
import { staticFirstSegments } from '../sys/mount-path.js';
import { auditPaths } from '../sys/paths/audit.js';
import { auditEntriesPaths } from '../sys/paths/audit-entries.js';
import { authMethodsPaths } from '../sys/paths/auth-methods.js';
import { barrierKeyPaths } from '../sys/paths/barrier-key.js';
import { capabilitiesPaths } from '../sys/paths/capabilities.js';
import { capabilitiesTokenPaths } from '../sys/paths/capabilities-token.js';
import { generateRootPaths } from '../sys/paths/generate-root.js';
import { healthPaths } from '../sys/paths/health.js';
import { hostInfoPaths } from '../sys/paths/host-info.js';
import { leaderPaths } from '../sys/paths/leader.js';
import { metricsPaths } from '../sys/paths/metrics.js';
import { mountCatchAll } from '../sys/paths/mount-catch-all.js';
import { mountsPaths } from '../sys/paths/mounts.js';
import { rekeyPaths } from '../sys/paths/rekey.js';
import { sealPaths } from '../sys/paths/seal.js';
import { tokenCountersPaths } from '../sys/paths/token-counters.js';
import { wrappingPaths } from '../sys/paths/wrapping.js';
import { createUsageRecorder } from '../transit/key-usage.js';
import { backupRestorePaths } from '../transit/paths/backup-restore.js';
import { datakeyPaths } from '../transit/paths/datakey.js';
import { decryptPaths } from '../transit/paths/decrypt.js';
import { encryptPaths } from '../transit/paths/encrypt.js';
import { exportPaths } from '../transit/paths/export.js';
import { hmacPaths } from '../transit/paths/hmac.js';
import { keysPaths } from '../transit/paths/keys.js';
import { keysConfigPaths } from '../transit/paths/keys-config.js';
import { keysImportPaths } from '../transit/paths/keys-import.js';
import { keysStatePaths } from '../transit/paths/keys-state.js';
import { keysUsagePaths } from '../transit/paths/keys-usage.js';
import { keysVersionsPaths } from '../transit/paths/keys-versions.js';
import { randomPaths } from '../transit/paths/random.js';
import { rewrapPaths } from '../transit/paths/rewrap.js';
import { signPaths } from '../transit/paths/sign.js';
import { verifyPaths } from '../transit/paths/verify.js';
import type { UsageLog } from '../transit/usage-log.js';

/** The transit mount the server serves (the KMS API's keys are its keys). */
const TRANSIT_MOUNT = 'transit';

/**
 * Every route group the server serves: the one list. Each group is given only the components
 * it uses; each is registered once, as its own encapsulated plugin (`registerRouteGroups`).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, routeGroups(ctx));
 * ```
 */
export function routeGroups(ctx: ServerContext): RouteGroup[] {
  const { seal, tokens, policies, kv, transit, audit } = ctx;
  const approvals = createApprovalStore(ctx.barrier, ctx.clock);
  // Every key operation recorded in a usage log is counted in the metrics too: the KMS API's
  // (transit/'s log) and those of every transit mount's routes.
  const usage = countedUsage(ctx.transitUsage, ctx.metrics);
  const countedLogs = new WeakMap<UsageLog, UsageLog>();
  const countedOf = (log: UsageLog): UsageLog => {
    let counted = countedLogs.get(log);
    if (counted === undefined) {
      counted = countedUsage(log, ctx.metrics);
      countedLogs.set(log, counted);
    }
    return counted;
  };
  const onItemError = (error: unknown) => {
    const source = integritySourceOf(error);
    if (source !== undefined) ctx.metrics.integrityFailed(source);
  };
  // Transit, at every transit mount (transit/ and those enabled through sys/mounts).
  const transitOf = (request: Parameters<typeof mountOfRequest>[0]) =>
    ctx.transitMounts.of(mountOfRequest(request));
  const recorder = createUsageRecorder((request) => {
    const mount = transitOf(request);
    return { transit: mount.transit, usage: countedOf(mount.usage) };
  });
  const transitAt = (group: RouteGroup) => mountedGroup('transit', group, catchAll.route);
  const storageKind = ctx.storage.kind;
  const { mounts, kvMounts } = ctx;
  // Every request under a mount no engine's route serves (KV version 1, cubbyhole/, 404s).
  const catchAll = mountCatchAll({ kvMounts, cubbyholeOf: cubbyholes(ctx.barrier) });
  const kvOf = (request: Parameters<typeof mountOfRequest>[0]) =>
    kvMounts.v2(mountOfRequest(request));
  const kv2 = (group: RouteGroup) => mountedGroup('kv-2', group, catchAll.route);
  const approleOf = (request: Parameters<typeof mountOfRequest>[0]) =>
    ctx.approleMounts(mountOfRequest(request));
  const approle = (group: RouteGroup) => mountedGroup('approle', group, catchAll.authRoute);
  // The first segments the server's own routes claim (filled below, once all are declared):
  // no mount may be enabled where a route would shadow it.
  const reserved = new Set<string>();
  const groups: RouteGroup[] = [
    // sys/
    sealPaths({ seal, tokens, storageKind, version: ctx.version }),
    healthPaths({ seal, version: ctx.version }),
    barrierKeyPaths({ seal }),
    mountsPaths({ mounts, reserved }),
    authMethodsPaths({ mounts, tokens }),
    capabilitiesPaths(),
    capabilitiesTokenPaths({ tokens, policies }),
    auditPaths({ audit }),
    auditEntriesPaths({ audit, clock: ctx.clock }),
    compliancePaths({ clock: ctx.clock, cluster: ctx.cluster }),
    // sys/ operator routes: leader, host info, token counters, response wrapping.
    leaderPaths(ctx),
    hostInfoPaths(),
    metricsPaths({
      metrics: ctx.metrics,
      history: ctx.metricsHistory,
      unauthenticated: ctx.unauthenticatedMetrics,
      clock: ctx.clock,
    }),
    tokenCountersPaths({ barrier: ctx.barrier }),
    wrappingPaths({ wrapping: ctx.wrapping }),
    rekeyPaths({ rekey: ctx.rekey }),
    rekeyPaths({ rekey: ctx.rekeyRecovery }),
    generateRootPaths({ generateRoot: ctx.generateRoot }),
    policiesPaths({ policies }),
    policyExplainPaths({ tokens, policies }),
    // sys/rotation (the rotation engine)
    rotationPoliciesPaths({
      mounts: ctx.mounts,
      store: ctx.rotation.store,
      rotators: ctx.rotation.rotators,
      clock: ctx.clock,
    }),
    rotationRunPaths({
      mounts: ctx.mounts,
      engine: ctx.rotation.engine,
      store: ctx.rotation.store,
      clock: ctx.clock,
      rewrap: rewrapProgressStore(ctx.barrier),
      approvals: { store: approvals, tokens },
    }),
    rotationContinuePaths({
      mounts: ctx.mounts,
      engine: ctx.rotation.engine,
      store: ctx.rotation.store,
      rotators: ctx.rotation.rotators,
    }),
    rotationAbandonPaths({ mounts: ctx.mounts, engine: ctx.rotation.engine }),
    rotationApprovalPaths({
      mounts: ctx.mounts,
      engine: ctx.rotation.engine,
      approvals,
      tokens,
      clock: ctx.clock,
    }),
    // sys/events (change events of secrets, long-poll)
    eventsPaths({ events: ctx.events, tokens, seal: ctx.seal }),
    // auth/token/
    tokenCreatePaths({ tokens, tokenRoles: ctx.tokenRoles }),
    tokenRolePaths({ tokenRoles: ctx.tokenRoles }),
    tokenAccessorPaths({ tokens }),
    tokenLookupPaths({ tokens }),
    tokenRenewPaths({ tokens }),
    tokenRevokePaths({ tokens }),
    // AppRole, at every mount of it (auth/approle/ and those enabled through sys/auth)
    approle(approleRolePaths({ approles: approleOf })),
    approle(approleCredentialsPaths({ approles: approleOf })),
    approle(approleSecretIdPaths({ approles: approleOf })),
    approle(approleRoleFieldPaths({ approles: approleOf })),
    approle(
      approleLoginPaths({
        approles: approleOf,
        tokens,
        mounts,
        onLoginFailure: () => ctx.metrics.authenticationFailed('approle_login'),
      }),
    ),
    // KV version 2, at every mount of it (secret/ and those enabled through sys/mounts)
    kv2(kvConfigPaths(kvOf)),
    kv2(kvDataPaths(kvOf)),
    kv2(kvVersionsPaths(kvOf)),
    kv2(kvMetadataPaths(kvOf)),
    kv2(kvSubkeysPaths(kvOf)),
    // KV version 1 and cubbyhole/, and what no route of a mount's engine serves
    catchAll.group,
    // transit, at every transit mount
    transitAt(keysPaths({ transitOf })),
    transitAt(keysConfigPaths({ transitOf })),
    transitAt(keysVersionsPaths({ transitOf })),
    transitAt(keysImportPaths({ transitOf })),
    transitAt(keysStatePaths({ transitOf })),
    transitAt(keysUsagePaths({ transitOf })),
    transitAt(backupRestorePaths({ transitOf })),
    transitAt(exportPaths({ transitOf })),
    transitAt(encryptPaths({ transitOf, recorder })),
    transitAt(decryptPaths({ transitOf, recorder, onItemError })),
    transitAt(rewrapPaths({ transitOf, recorder, onItemError })),
    transitAt(datakeyPaths({ transitOf, recorder })),
    transitAt(hmacPaths({ transitOf, recorder })),
    transitAt(signPaths({ transitOf, recorder })),
    transitAt(verifyPaths({ transitOf, recorder })),
    transitAt(randomPaths()),
    // The Secrets Manager and KMS APIs (AWS's JSON protocol, SigV4) and their access keys.
    accessKeyPaths({ accessKeys: ctx.accessKeys }),
    secretsManagerApiPaths({
      kv,
      accessKeys: ctx.accessKeys,
      site: ctx.secretsManager,
      pathPrefix: ctx.secretsManager.pathPrefix,
      now: ctx.clock,
      events: ctx.events,
      rotation: {
        engine: ctx.rotation.engine,
        store: ctx.rotation.store,
        rotators: ctx.rotation.rotators,
      },
      kms: {
        transit,
        usage,
        store: createKmsStore(ctx.barrier),
        site: {
          transitMount: TRANSIT_MOUNT,
          region: ctx.secretsManager.region,
          accountId: ctx.secretsManager.accountId,
        },
        now: ctx.clock,
      },
    }),
  ];
  for (const segment of staticFirstSegments(
    groups.flatMap((group) => group.routes.flatMap((r) => r.path)),
  ))
    reserved.add(segment);
  return groups;
}
