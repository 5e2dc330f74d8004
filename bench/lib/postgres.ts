import { POSTGRES_URL } from '@custos/test-support/services';
import pg from 'pg';

// The benchmarks use the tests' PostgreSQL (CUSTOS_TEST_POSTGRES_URL) and its schema cleanup.
export { dropPostgresSchema as dropSchema, POSTGRES_URL } from '@custos/test-support/services';

/**
 * Why PostgreSQL cannot be used (its host and the connection error; never credentials), or
 * `undefined` when it answers.
 */
export async function postgresUnreachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.end();
    return undefined;
  } catch (err) {
    const host = new URL(POSTGRES_URL).host;
    return `PostgreSQL at ${host} did not answer (${(err as Error).message || String(err)})`;
  }
}

/** Whether PostgreSQL answers; suites measure SQLite alone when it does not. */
export async function postgresReachable(): Promise<boolean> {
  return (await postgresUnreachable()) === undefined;
}
