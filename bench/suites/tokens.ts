import { webcrypto } from 'node:crypto';
import { createApiKeyService, createMemoryApiKeyStore } from '@custos/core/api-keys';
import { hashPassword, OWASP_ARGON2ID } from '@custos/core/passwords';
import {
  createTokenService,
  type JwtAlgorithm,
  JwtKeyset,
  serializeJwtKeyset,
} from '@custos/core/tokens';
import { hash as argon2Hash } from '@node-rs/argon2';
import bcrypt from 'bcrypt';
import { type CryptoKey, importJWK, type JWK, jwtVerify } from 'jose';
import { compareAsync } from '../lib/measure-async.js';
import type { Section, Table } from '../lib/report.js';

const issuer = 'https://issuer.bench';
const audience = 'api';
const verifyOptions = {
  issuer,
  audience,
  typ: 'at+jwt',
  requiredClaims: ['sub', 'jti', 'iat', 'exp'],
};

/** The token keys of a keyset as bare jose would hold them (HMAC keys as CryptoKeys). */
async function bareKeys(keyset: JwtKeyset): Promise<Map<string, CryptoKey>> {
  const json = JSON.parse(serializeJwtKeyset(keyset)) as {
    keys: { kid: string; alg: JwtAlgorithm; jwk: JWK }[];
  };
  const keys = new Map<string, CryptoKey>();
  for (const { kid, alg, jwk } of json.keys) {
    if (alg === 'HS256') {
      const raw = Buffer.from(jwk.k as string, 'base64url');
      const hmac = { name: 'HMAC', hash: 'SHA-256' };
      const key = await webcrypto.subtle.importKey('raw', raw, hmac, false, ['verify']);
      keys.set(kid, key as unknown as CryptoKey);
    } else {
      const { d: _private, ...publicJwk } = jwk;
      keys.set(kid, (await importJWK(publicJwk, alg)) as CryptoKey);
    }
  }
  return keys;
}

/** JWT verification with a 5-key keyset, for a token signed by the oldest key. */
async function jwtTable(algorithm: JwtAlgorithm): Promise<Table> {
  let keyset = await JwtKeyset.generate(algorithm);
  const oldestKid = keyset.current.kid;
  const { token } = await createTokenService({ keys: keyset, issuer, audience }).signAccessToken({
    subject: 'user-1',
  });
  for (let i = 0; i < 4; i++) keyset = await keyset.rotate({ graceSeconds: 86_400 });
  const custos = createTokenService({ keys: keyset, issuer, audience });
  const keys = await bareKeys(keyset);
  const rightKey = keys.get(oldestKid) as CryptoKey;
  // The seeds' rotation: try the newest secret, then each older one, until one verifies.
  const newestFirst = [...keys.values()];
  // Measure what the table says: 5 keys, all still verifying, the token's key tried last.
  if (
    keys.size !== 5 ||
    [...keys.keys()].at(-1) !== oldestKid ||
    keyset.prune().keys.length !== 5
  ) {
    throw new Error('bench: expected 5 usable keys with the oldest tried last');
  }
  const tryEach = async () => {
    for (const key of newestFirst) {
      try {
        return await jwtVerify(token, key, { ...verifyOptions, algorithms: [algorithm] });
      } catch {}
    }
    throw new Error('no secret verified the token');
  };
  await tryEach();
  const rows = [
    {
      name: 'bare jose, right key',
      run: () => jwtVerify(token, rightKey, { ...verifyOptions, algorithms: [algorithm] }),
    },
    { name: 'custos, 5-key keyset', run: () => custos.verifyAccessToken(token) },
  ];
  if (algorithm === 'HS256') rows.push({ name: 'try each of 5 secrets (seeds)', run: tryEach });
  return {
    title: `JWT verify, ${algorithm}, token signed by the oldest of 5 keys`,
    baseline: 'bare jose, right key',
    rows: await compareAsync(rows),
    goals: [
      {
        description: `custos ${algorithm} verify with a 5-key keyset ≥ 0.9× bare jose with the right key`,
        candidate: 'custos, 5-key keyset',
        against: 'bare jose, right key',
        atLeast: 0.9,
      },
    ],
  };
}

/**
 * API-key verification against 100,000 stored keys, and the seeds' bcrypt loop: seed 004 stores
 * `bcrypt.hash(apiKey, 12)` per key and `await bcrypt.compare`s the presented key with every
 * row, so one verification costs one cost-12 compare per stored key (measured once, multiplied).
 */
async function apiKeyTable(): Promise<Table> {
  const peppers = {
    currentId: 'p1',
    peppers: { p1: webcrypto.getRandomValues(new Uint8Array(32)) },
  };
  const services = [1_000, 100_000].map((count) => {
    const service = createApiKeyService({
      store: createMemoryApiKeyStore(),
      prefixes: ['acme'],
      peppers,
      lastUsedResolutionSeconds: 3600,
    });
    return { count, service };
  });
  const probes: string[] = [];
  for (const { count, service } of services) {
    let last = '';
    for (let i = 0; i < count; i++) last = (await service.createApiKey()).key.reveal();
    probes.push(last); // the newest key: the seeds' loop would reach it last
  }
  const probe = probes[1] as string;
  const [seedsHash, cost10Hash] = await Promise.all([
    bcrypt.hash(probe, 12),
    bcrypt.hash(probe, 10),
  ]);
  const [cost12, cost10] = await compareAsync(
    [
      {
        name: 'one bcrypt compare, cost 12 (seed 004)',
        run: () => bcrypt.compare(probe, seedsHash),
      },
      { name: 'one bcrypt compare, cost 10', run: () => bcrypt.compare(probe, cost10Hash) },
    ],
    { rounds: 3, sliceMs: 600, warmupMs: 300 },
  );
  const bcryptOne = cost12 as NonNullable<typeof cost12>;
  const measured = await compareAsync(
    services.map(({ count, service }, i) => ({
      name: `custos, ${count.toLocaleString('en')} stored keys`,
      run: () => service.verifyApiKey(probes[i] as string),
    })),
  );
  const seedsLoop = 'seeds: bcrypt loop over 100,000 keys (one cost-12 compare × 100,000)';
  return {
    title: 'API-key verification (memory store) against the seeds’ bcrypt loop (cost 12)',
    baseline: seedsLoop,
    rows: [
      ...[...measured, bcryptOne, cost10 as NonNullable<typeof cost10>].map((row) => ({
        ...row,
        details: { 'time per call': perCall(row.opsPerSecond) },
      })),
      {
        name: seedsLoop,
        opsPerSecond: bcryptOne.opsPerSecond / 100_000,
        spread: bcryptOne.spread,
        details: { 'time per call': perCall(bcryptOne.opsPerSecond / 100_000) },
      },
    ],
    goals: [
      {
        description: 'API-key verification is O(1): 100,000 stored keys ≥ 0.8× 1,000 stored keys',
        candidate: 'custos, 100,000 stored keys',
        against: 'custos, 1,000 stored keys',
        atLeast: 0.8,
      },
      {
        description: 'custos with 100,000 keys ≥ 1,000,000× the seeds’ bcrypt loop',
        candidate: 'custos, 100,000 stored keys',
        against: seedsLoop,
        atLeast: 1_000_000,
      },
    ],
  };
}

/** Time of one call at `opsPerSecond`, in a readable unit. */
function perCall(opsPerSecond: number): string {
  const seconds = 1 / opsPerSecond;
  if (seconds >= 1) return `${seconds.toFixed(0)} s`;
  if (seconds >= 1e-3) return `${(seconds * 1e3).toFixed(1)} ms`;
  return `${(seconds * 1e6).toFixed(1)} µs`;
}

/** Argon2id with OWASP's parameters, and bcrypt for reference. */
async function argon2Table(): Promise<Table> {
  const password = 'correct horse battery staple';
  const slow = { rounds: 3, sliceMs: 600, warmupMs: 300 };
  const bare = () =>
    argon2Hash(password, {
      memoryCost: OWASP_ARGON2ID.memoryKiB,
      timeCost: OWASP_ARGON2ID.iterations,
      parallelism: OWASP_ARGON2ID.parallelism,
    });
  // Measure what the table says: Argon2id at OWASP's m=19456 KiB, t=2, p=1, on both rows.
  for (const made of [await hashPassword(password), await bare()]) {
    if (!made.startsWith('$argon2id$v=19$m=19456,t=2,p=1$')) {
      throw new Error('bench: a hash is not Argon2id with the OWASP parameters');
    }
  }
  const rows = await compareAsync(
    [
      {
        name: 'custos hashPassword (Argon2id, 19 MiB, t=2, p=1)',
        run: () => hashPassword(password),
      },
      { name: 'bare @node-rs/argon2, same parameters', run: bare },
      { name: 'bcrypt hash, cost 10', run: () => bcrypt.hash(password, 10) },
      { name: 'bcrypt hash, cost 12 (seed 001)', run: () => bcrypt.hash(password, 12) },
    ],
    slow,
  );
  return {
    title: 'Password hashing time (one hash at a time; ms per hash = 1000 / ops/s)',
    baseline: 'bare @node-rs/argon2, same parameters',
    rows,
  };
}

/**
 * Tokens, API keys and passwords: JWT verification by `kid` against bare jose and the seeds'
 * try-each-secret loop; API-key verification with 100,000 stored keys against the seeds'
 * bcrypt loop; Argon2id hashing time with OWASP's parameters.
 */
export async function tokensSuite(): Promise<Section> {
  const tables = [
    await jwtTable('HS256'),
    await jwtTable('ES256'),
    await apiKeyTable(),
    await argon2Table(),
  ];
  const hashing = tables[3]?.rows[0];
  const bcryptOne = tables[2]?.rows.find((r) => r.name.startsWith('one bcrypt compare, cost 12'));
  return {
    heading: 'Tokens, API keys and passwords (`@custos/core/tokens`, `/api-keys`, `/passwords`)',
    notes: [
      'JWT: a keyset rotated four times (5 keys) verifying a token signed by its oldest key. "bare',
      'jose" calls `jwtVerify` with that key already known and the same pinned options; "try each"',
      "is the seeds' loop (newest secret first, as seeds 002 and 004 do), also on pre-imported keys.",
      'API keys: verification with 1,000 and 100,000 keys stored (memory store, O(1) lookup by key',
      "id + one HMAC); the seeds' loop (seed 004: `bcrypt.hash(key, 12)` per row, `bcrypt.compare`",
      'with every row) is one measured cost-12 `bcrypt.compare` times 100,000 (a key that is not',
      'found, or found last)' +
        (bcryptOne
          ? `: ${(100_000 / bcryptOne.opsPerSecond).toFixed(0)} s per verification here.`
          : '.'),
      'Argon2id: one hash at a time;',
      hashing
        ? `custos hashPassword took ${(1000 / hashing.opsPerSecond).toFixed(1)} ms per hash here.`
        : '',
    ].join('\n'),
    tables,
  };
}
