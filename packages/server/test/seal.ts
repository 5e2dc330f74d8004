/**
 * Test support for the seal: walking the routes that need the keys, and production-mode servers
 * (init and unseal over HTTP).
 */

import { expect } from 'vitest';
import { type RunningServer, type StartOptions, startServer } from '../src/server.js';
import { createEntryStore, type EntryStore } from '../src/storage/entry-store.js';
import { createTestStorage, send } from './harness.js';
import { concretePath, vaultRoutes } from './routes.js';
import { until } from './until.js';

/**
 * Sends a request to every route that is not marked `whileSealed` and returns those that did
 * not answer 503 with `message` (HEAD answers have no body; only their status is checked).
 */
export async function sealedAnswers(
  server: RunningServer,
  token: string,
  message = 'Vault is sealed',
): Promise<{ checked: number; wrong: string[] }> {
  const routes = vaultRoutes(server.app.routeTable).filter((r) => !r.access.whileSealed);
  const wrong: string[] = [];
  for (const route of routes) {
    const hasBody = !['GET', 'HEAD', 'DELETE'].includes(route.method);
    const response = await send(server.url, route.method, concretePath(route.url), {
      token,
      ...(hasBody ? { body: {} } : {}),
    });
    const bodyOk =
      route.method === 'HEAD' ||
      JSON.stringify(response.body) === JSON.stringify({ errors: [message] });
    if (response.status !== 503 || !bodyOk)
      wrong.push(`${route.method} ${route.url}: ${response.status} ${response.text.slice(0, 80)}`);
  }
  return { checked: routes.length, wrong };
}

/** The unseal keys (hex) and root token from `sys/init`. */
export interface InitResult {
  readonly keys: string[];
  readonly rootToken: string;
}

/** Initialises a production-mode server over HTTP (3 shares, threshold 2); it stays sealed. */
export async function initOverHttp(server: RunningServer): Promise<InitResult> {
  const init = await send(server.url, 'POST', 'sys/init', {
    body: { secret_shares: 3, secret_threshold: 2 },
  });
  if (init.status !== 200) throw new Error(`sys/init answered ${init.status}: ${init.text}`);
  return { keys: init.body.keys, rootToken: init.body.root_token };
}

/**
 * Initialises an auto-unseal server over HTTP (three recovery shares, threshold two): it is
 * unsealed at once; writes `value` to `secret/app` with the root token.
 */
export async function initWithRecoveryKeys(
  url: string,
  value: string,
): Promise<{ rootToken: string; recoveryKeys: string[] }> {
  const init = await send(url, 'POST', 'sys/init', {
    body: { recovery_shares: 3, recovery_threshold: 2 },
  });
  if (init.status !== 200) throw new Error(`sys/init answered ${init.status}: ${init.text}`);
  const rootToken = init.body.root_token as string;
  const written = await send(url, 'POST', 'secret/data/app', {
    token: rootToken,
    body: { data: { value } },
  });
  if (written.status !== 200)
    throw new Error(`writing secret/app answered ${written.status}: ${written.text}`);
  return { rootToken, recoveryKeys: init.body.recovery_keys as string[] };
}

/**
 * A share of `shares` (hex) whose index differs from every share of `given`: shares carry a
 * random x-coordinate as their last byte, and a share of another key set with the index of one
 * already given is refused as that share given twice, not judged against the root key (1 time
 * in 255 for `shares[i]` picked blindly). The shares of one set have distinct indices, so three
 * always hold one unlike a single given share.
 */
export function shareWithOtherIndex(shares: readonly string[], given: readonly string[]): string {
  const indexOf = (share: string) => Buffer.from(share, 'hex').at(-1);
  const taken = new Set(given.map(indexOf));
  const share = shares.find((candidate) => !taken.has(indexOf(candidate)));
  if (share === undefined) throw new Error('every share has the index of one given');
  return share;
}

/** Submits the first two unseal keys; returns the last answer. */
export async function unsealOverHttp(server: RunningServer, keys: readonly string[]) {
  await send(server.url, 'POST', 'sys/unseal', { body: { key: keys[0] } });
  return send(server.url, 'POST', 'sys/unseal', { body: { key: keys[1] } });
}

/** Starts a production-mode server (sealed) on `storage`, on a free port, silent. */
export function startSealedServer(
  storage: string,
  options: Partial<StartOptions> = {},
): Promise<RunningServer> {
  return startServer({ storage, port: 0, logLevel: 'silent', ...options });
}

/** A root token generation authorised by `keys` (unseal or recovery shares); the last answer. */
export async function generateRootWith(url: string, keys: readonly string[]) {
  await send(url, 'DELETE', 'sys/generate-root/attempt');
  const started = await send(url, 'POST', 'sys/generate-root/attempt', { body: {} });
  const nonce = started.body.nonce as string;
  let last = started;
  for (const key of keys)
    last = await send(url, 'POST', 'sys/generate-root/update', { body: { key, nonce } });
  return last;
}

/**
 * A recovery key rekey (`sys/rekey-recovery-key`) authorised by `keys`, with `body` as the init
 * body; with `require_verification`, the new keys are given back to verify. Returns the new keys
 * and the answers of the last update and (if any) the verification.
 */
export async function rekeyRecoveryWith(
  url: string,
  keys: readonly string[],
  body: { secret_shares: number; secret_threshold: number; require_verification?: boolean },
) {
  const init = await send(url, 'POST', 'sys/rekey-recovery-key/init', { body });
  if (init.status !== 200) return { init, update: init, keys: [] as string[] };
  const nonce = init.body.nonce as string;
  let update = init;
  for (const key of keys)
    update = await send(url, 'POST', 'sys/rekey-recovery-key/update', { body: { key, nonce } });
  const fresh = (update.body.keys ?? []) as string[];
  if (body.require_verification !== true || update.body.complete !== true)
    return { init, update, keys: fresh };
  let verify = update;
  for (const key of fresh.slice(0, body.secret_threshold))
    verify = await send(url, 'POST', 'sys/rekey-recovery-key/verify', {
      body: { key, nonce: update.body.verification_nonce },
    });
  return { init, update, verify, keys: fresh };
}

/** When {@link shamirSealRoundTrip} starts a server with the seal stanza. */
export type RoundTripPhase = 'migrate' | 'auto-unseal' | 'back';

/**
 * Shamir → an auto-unseal seal → Shamir on a fresh SQLite storage, each step checked: a secret
 * written under Shamir is read after each migration; both migrations need `migrate: true` shares
 * and say `migration: true` until done; after the first the server unseals itself and the old
 * unseal keys are recovery keys (they authorise a root generation); with the stanza `disabled`
 * the recovery keys become unseal keys again, and Shamir has no recovery keys to rekey.
 * `options(phase)` gives the seal stanza and what it needs (for `back`, the stanza disabled).
 *
 * @example
 * ```ts
 * await shamirSealRoundTrip('pkcs11', (phase) => ({ seal: seal({ disabled: phase === 'back' }) }));
 * ```
 */
export async function shamirSealRoundTrip(
  type: string,
  options: (phase: RoundTripPhase) => Partial<StartOptions>,
): Promise<void> {
  const storage = await createTestStorage('sqlite');
  const status = async (server: RunningServer) =>
    (await send(server.url, 'GET', 'sys/seal-status')).body;
  const readBefore = async (server: RunningServer, token: string) =>
    (await send(server.url, 'GET', 'secret/data/before', { token })).body.data.data.value;
  try {
    const plain = await startSealedServer(storage.location);
    const init = await initOverHttp(plain);
    await unsealOverHttp(plain, init.keys);
    const written = await send(plain.url, 'POST', 'secret/data/before', {
      token: init.rootToken,
      body: { data: { value: 'from the Shamir days' } },
    });
    expect(written.status).toBe(200);
    await plain.close();

    const migrating = await startSealedServer(storage.location, options('migrate'));
    try {
      expect(await status(migrating)).toMatchObject({ type: 'shamir', migration: true });
      await send(migrating.url, 'POST', 'sys/unseal', {
        body: { key: init.keys[0], migrate: true },
      });
      const done = await send(migrating.url, 'POST', 'sys/unseal', {
        body: { key: init.keys[1], migrate: true },
      });
      expect(done.body).toMatchObject({ type, recovery_seal: true, sealed: false });
    } finally {
      await migrating.close();
    }

    const after = await startSealedServer(storage.location, options('auto-unseal'));
    try {
      await until(async () => (await status(after)).sealed === false, 'the auto-unseal');
      expect(await readBefore(after, init.rootToken)).toBe('from the Shamir days');
      // The old unseal keys are the recovery keys now.
      expect((await generateRootWith(after.url, init.keys.slice(1))).body.complete).toBe(true);
    } finally {
      await after.close();
    }

    const back = await startSealedServer(storage.location, options('back'));
    try {
      expect(await status(back)).toMatchObject({ type, migration: true });
      await send(back.url, 'POST', 'sys/unseal', { body: { key: init.keys[1], migrate: true } });
      const done = await send(back.url, 'POST', 'sys/unseal', {
        body: { key: init.keys[2], migrate: true },
      });
      expect(done.body).toMatchObject({ type: 'shamir', sealed: false, recovery_seal: false });
    } finally {
      await back.close();
    }

    const shamirAgain = await startSealedServer(storage.location);
    try {
      expect((await unsealOverHttp(shamirAgain, init.keys)).body.sealed).toBe(false);
      expect(await readBefore(shamirAgain, init.rootToken)).toBe('from the Shamir days');
      const noRecovery = await send(shamirAgain.url, 'POST', 'sys/rekey-recovery-key/init', {
        body: { secret_shares: 3, secret_threshold: 2 },
      });
      expect(noRecovery.status).toBe(400);
      expect(noRecovery.body.errors[0]).toContain('needs an auto-unseal seal');
    } finally {
      await shamirAgain.close();
    }
  } finally {
    await storage.cleanup();
  }
}

/**
 * An entry store on `server`'s database whose next insert after `holdNextInsert()` is committed
 * and then not answered until the function that call returned is called: an operation's start
 * held back, for races between a start and a cancel on one server.
 */
export function storeHoldingAnInsert(server: RunningServer) {
  const inner = createEntryStore(server.context.storage.db);
  let held: Promise<void> | undefined;
  const store: EntryStore = {
    ...inner,
    async insert(path, value) {
      const wait = held;
      held = undefined;
      const revision = await inner.insert(path, value);
      await wait;
      return revision;
    },
  };
  const holdNextInsert = () => {
    let release = () => {};
    held = new Promise<void>((resolve) => {
      release = resolve;
    });
    return release;
  };
  return { store, holdNextInsert };
}
