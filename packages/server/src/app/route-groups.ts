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
import type { ServerContext } from '../context.js';
import type { RouteGroup } from '../http/route-spec.js';
import { kvConfigPaths } from '../kv/paths/config.js';
import { kvDataPaths } from '../kv/paths/data.js';
import { kvMetadataPaths } from '../kv/paths/metadata.js';
import { kvSubkeysPaths } from '../kv/paths/subkeys.js';
import { kvVersionsPaths } from '../kv/paths/versions.js';
import { policiesPaths } from '../policy/paths/policies.js';
import { policyExplainPaths } from '../policy/paths/policy-explain.js';
import { auditPaths } from '../sys/paths/audit.js';
import { barrierKeyPaths } from '../sys/paths/barrier-key.js';
import { capabilitiesPaths } from '../sys/paths/capabilities.js';
import { capabilitiesTokenPaths } from '../sys/paths/capabilities-token.js';
import { generateRootPaths } from '../sys/paths/generate-root.js';
import { healthPaths } from '../sys/paths/health.js';
import { hostInfoPaths } from '../sys/paths/host-info.js';
import { leaderPaths } from '../sys/paths/leader.js';
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

/** The KV version 2 mount the server serves. */
const KV_MOUNT = 'secret';
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
  const { seal, tokens, policies, approles, kv, transit, audit } = ctx;
  const usage = ctx.transitUsage;
  const recorder = createUsageRecorder({ transit, usage });
  const storageKind = ctx.storage.kind;
  return [
    // sys/
    sealPaths({ seal, tokens, storageKind, version: ctx.version }),
    healthPaths({ seal, version: ctx.version }),
    barrierKeyPaths({ seal }),
    mountsPaths(),
    capabilitiesPaths(),
    capabilitiesTokenPaths({ tokens, policies }),
    auditPaths({ audit }),
    // sys/ operator routes: leader, host info, token counters, response wrapping.
    leaderPaths(),
    hostInfoPaths(),
    tokenCountersPaths({ barrier: ctx.barrier }),
    wrappingPaths({ wrapping: ctx.wrapping }),
    rekeyPaths({ rekey: ctx.rekey }),
    generateRootPaths({ generateRoot: ctx.generateRoot }),
    policiesPaths({ policies }),
    policyExplainPaths({ tokens, policies }),
    // auth/token/
    tokenCreatePaths({ tokens, tokenRoles: ctx.tokenRoles }),
    tokenRolePaths({ tokenRoles: ctx.tokenRoles }),
    tokenAccessorPaths({ tokens }),
    tokenLookupPaths({ tokens }),
    tokenRenewPaths({ tokens }),
    tokenRevokePaths({ tokens }),
    // auth/approle/
    approleRolePaths({ approles }),
    approleCredentialsPaths({ approles }),
    approleSecretIdPaths({ approles }),
    approleRoleFieldPaths({ approles }),
    approleLoginPaths({ approles, tokens }),
    // secret/ (KV version 2)
    kvConfigPaths(KV_MOUNT, kv),
    kvDataPaths(KV_MOUNT, kv),
    kvVersionsPaths(KV_MOUNT, kv),
    kvMetadataPaths(KV_MOUNT, kv),
    kvSubkeysPaths(KV_MOUNT, kv),
    // transit/
    keysPaths({ transit, usage }),
    keysConfigPaths({ transit }),
    keysVersionsPaths({ transit }),
    keysImportPaths({ transit }),
    keysStatePaths({ transit }),
    keysUsagePaths({ transit, usage }),
    backupRestorePaths({ transit }),
    exportPaths({ transit }),
    encryptPaths({ transit, recorder }),
    decryptPaths({ transit, recorder }),
    rewrapPaths({ transit, recorder }),
    datakeyPaths({ transit, recorder }),
    hmacPaths({ transit, recorder }),
    signPaths({ transit, recorder }),
    verifyPaths({ transit, recorder }),
    randomPaths(),
    // The Secrets Manager and KMS APIs (AWS's JSON protocol, SigV4) and their access keys.
    accessKeyPaths({ accessKeys: ctx.accessKeys }),
    secretsManagerApiPaths({
      kv,
      accessKeys: ctx.accessKeys,
      site: ctx.secretsManager,
      pathPrefix: ctx.secretsManager.pathPrefix,
      now: ctx.clock,
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
}
