import { approleCredentialsPaths } from '../auth/paths/approle-credentials.js';
import { approleLoginPaths } from '../auth/paths/approle-login.js';
import { approleRolePaths } from '../auth/paths/approle-role.js';
import { tokenCreatePaths } from '../auth/paths/token-create.js';
import { tokenLookupPaths } from '../auth/paths/token-lookup.js';
import { tokenRenewPaths } from '../auth/paths/token-renew.js';
import { tokenRevokePaths } from '../auth/paths/token-revoke.js';
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
import { rotationPoliciesPaths } from '../rotation/paths/rotation-policies.js';
import { rotationRunPaths } from '../rotation/paths/rotation-run.js';
import { auditPaths } from '../sys/paths/audit.js';
import { barrierKeyPaths } from '../sys/paths/barrier-key.js';
import { capabilitiesPaths } from '../sys/paths/capabilities.js';
import { capabilitiesTokenPaths } from '../sys/paths/capabilities-token.js';
import { healthPaths } from '../sys/paths/health.js';
import { mountsPaths } from '../sys/paths/mounts.js';
import { sealPaths } from '../sys/paths/seal.js';
import { createUsageRecorder } from '../transit/key-usage.js';
import { backupRestorePaths } from '../transit/paths/backup-restore.js';
import { datakeyPaths } from '../transit/paths/datakey.js';
import { decryptPaths } from '../transit/paths/decrypt.js';
import { encryptPaths } from '../transit/paths/encrypt.js';
import { exportPaths } from '../transit/paths/export.js';
import { hmacPaths } from '../transit/paths/hmac.js';
import { keysPaths } from '../transit/paths/keys.js';
import { keysConfigPaths } from '../transit/paths/keys-config.js';
import { keysStatePaths } from '../transit/paths/keys-state.js';
import { keysUsagePaths } from '../transit/paths/keys-usage.js';
import { keysVersionsPaths } from '../transit/paths/keys-versions.js';
import { randomPaths } from '../transit/paths/random.js';
import { rewrapPaths } from '../transit/paths/rewrap.js';
import { signPaths } from '../transit/paths/sign.js';
import { verifyPaths } from '../transit/paths/verify.js';

/** The KV version 2 mount the server serves. */
const KV_MOUNT = 'secret';

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
    policiesPaths({ policies }),
    policyExplainPaths({ tokens, policies }),
    // sys/rotation (the rotation engine)
    rotationPoliciesPaths({
      store: ctx.rotation.store,
      rotators: ctx.rotation.rotators,
      clock: ctx.clock,
    }),
    rotationRunPaths({ engine: ctx.rotation.engine, store: ctx.rotation.store, clock: ctx.clock }),
    // auth/token/
    tokenCreatePaths({ tokens }),
    tokenLookupPaths({ tokens }),
    tokenRenewPaths({ tokens }),
    tokenRevokePaths({ tokens }),
    // auth/approle/
    approleRolePaths({ approles }),
    approleCredentialsPaths({ approles }),
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
    // The Secrets Manager API (AWS's JSON protocol, SigV4) and its access keys.
    accessKeyPaths({ accessKeys: ctx.accessKeys }),
    secretsManagerApiPaths({
      kv,
      accessKeys: ctx.accessKeys,
      site: ctx.secretsManager,
      pathPrefix: ctx.secretsManager.pathPrefix,
      now: ctx.clock,
    }),
  ];
}
