import pg from 'pg';

/** The PostgreSQL the benchmarks use (the same as the tests'). */
export const POSTGRES_URL =
  process.env.CUSTOS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

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

/** Drops a schema a benchmark created. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}
