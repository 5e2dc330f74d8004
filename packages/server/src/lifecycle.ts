import type { ServerContext } from './context.js';
import { createPeriodicTask } from './lib/periodic-task.js';

/** What init hands back, once: the key shares and the root token. */
export interface InitOutput {
  readonly keyShares: Buffer[];
  readonly rootToken: string;
}

/**
 * Initialises the server: creates the root key (split into shares) and the barrier keyring,
 * then unseals with the new shares just long enough to create the root token, and seals again
 * unless `stayUnsealed` (dev mode). Nothing of the root key stays in memory after a seal.
 *
 * @example
 * ```ts
 * const { keyShares, rootToken } = await initialize(ctx, 5, 3);
 * ```
 */
export async function initialize(
  ctx: Pick<ServerContext, 'seal' | 'tokens'>,
  shares: number,
  threshold: number,
  options: { rootTokenId?: string; stayUnsealed?: boolean } = {},
): Promise<InitOutput> {
  const keyShares = await ctx.seal.initialize(shares, threshold);
  if (ctx.seal.isRecoverySeal()) {
    // Auto-unseal: the keys are recovery keys; the seal unwraps the root key (and the server
    // stays unsealed, as Vault does).
    await ctx.seal.autoUnseal();
  } else {
    for (const share of keyShares.slice(0, threshold))
      await ctx.seal.submitShare(Buffer.from(share));
  }
  const { token } = await ctx.tokens.create({
    policies: ['root'],
    displayName: 'root',
    path: 'auth/token/root',
    ...(options.rootTokenId === undefined ? {} : { id: options.rootTokenId }),
  });
  if (!options.stayUnsealed && !ctx.seal.isRecoverySeal()) await sealServer(ctx);
  return { keyShares, rootToken: token };
}

/**
 * Seals: no request is admitted from here on; the transit usage counters are flushed and the
 * audit log closed (with final checkpoints) while the keys are still held, then every key is
 * dropped (see `wireSealHooks`).
 */
export async function sealServer(ctx: Pick<ServerContext, 'seal'>): Promise<void> {
  await ctx.seal.seal();
}

/** Wires what must happen on every unseal and seal. Called once at start. */
export function wireSealHooks(ctx: ServerContext): void {
  let sweep: NodeJS.Timeout | undefined;
  // The rotation scheduler (leader only: rotation/leader-lock.ts); a failed tick is retried
  // at the next one.
  const rotationTicks =
    ctx.rotation.schedulerIntervalMs > 0
      ? createPeriodicTask(() => ctx.rotation.scheduler.tick(), ctx.rotation.schedulerIntervalMs)
      : undefined;
  ctx.seal.onUnseal(async () => {
    // The mount table the server starts with, written once (by the first node to unseal).
    await ctx.mounts.load();
    rotationTicks?.start();
    ctx.eventRelay.start();
    await ctx.audit.activate(ctx.barrier);
    // Transit keys with an auto_rotate_period rotate on use; this catches the idle ones (on
    // every transit mount).
    sweep = setInterval(
      () => void ctx.transitMounts.rotateDueKeys().catch(() => {}),
      60_000,
    ).unref();
    // Expired tokens are revoked (with their trees) even if nobody presents them again.
    ctx.tokens.startSweeping();
    // Registered in the cluster's node list; on PostgreSQL, a candidate for leadership.
    await ctx.cluster.start();
  });
  ctx.seal.onBeforeSeal(async () => {
    rotationTicks?.stop();
    // Background rewraps stop between batches and are released for the next leader.
    await ctx.rotation.engine.stopBackground();
    ctx.eventRelay.stop();
    await ctx.cluster.stop();
    clearInterval(sweep);
    ctx.tokens.stopSweeping();
    await ctx.transitMounts.flush();
  });
  ctx.seal.onBeforeSeal(() => ctx.audit.deactivate());
  ctx.seal.onSeal(() => {
    // The shares of a rekey or root generation in progress were checked against keys now gone.
    ctx.rekey.forget();
    ctx.rekeyRecovery.forget();
    ctx.generateRoot.forget();
    ctx.tokens.clear();
    ctx.policies.clear();
    ctx.mounts.clear();
    ctx.kvMounts.clear();
    ctx.transitMounts.clear();
    // Every wait for change events ends (and is answered 503).
    ctx.events.close();
  });
}
