/**
 * Real services for tests: PostgreSQL and Redis on localhost. Each test file gets its own
 * PostgreSQL schema (or database) and Redis key prefix and removes them afterwards.
 *
 * When a service is down: locally the tests that need it are skipped with a notice; under CI
 * (`CI=true`) they fail, never skip.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

export const POSTGRES_URL =
  process.env.CUSTOS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.CUSTOS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

function connectOnce(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(3000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A loaded machine can miss one connect window; a service is down only if several fail. */
async function reachable(url: string): Promise<boolean> {
  for (let attempt = 0; attempt < 4; attempt++) {
    if (await connectOnce(url)) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/**
 * Whether tests that need `service` should run. Throws under CI when the service is down, so
 * the run fails instead of silently skipping.
 *
 * @example
 * ```ts
 * const pg = await requireService('postgres');
 * describe.runIf(pg)('on PostgreSQL', () => { ... });
 * ```
 */
export async function requireService(service: 'postgres' | 'redis'): Promise<boolean> {
  const url = service === 'postgres' ? POSTGRES_URL : REDIS_URL;
  if (await reachable(url)) return true;
  const message = `${service} is not reachable at ${new URL(url).host}`;
  if (inCi)
    throw new Error(`${message}; under CI, tests that need it must run (start it, see .ci/run)`);
  console.warn(`${message}: skipping the tests that need it`);
  return false;
}

/** A fresh, unique name for a schema, database or key prefix: `custos_<label>_<random>`. */
export function uniqueName(label: string): string {
  return `custos_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
}

/** Drops a PostgreSQL schema a test created, with everything in it (over its own connection). */
export async function dropPostgresSchema(schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}
