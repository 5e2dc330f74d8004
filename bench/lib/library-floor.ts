import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Where the server's dependencies resolve from. */
const SERVER_PACKAGE = fileURLToPath(new URL('../../packages/server/', import.meta.url));

/**
 * The libraries the server is built on, loaded and listening in a process of their own with no
 * custos code: Fastify answering one route (without schema compilers, as the server builds
 * it), Kysely over better-sqlite3 after one query, pino, pg and prom-client (the four classes the
 * server requires from their own files, metrics/prom-classes.ts). Its idle resident
 * memory is the floor below which no change to custos's own code can bring the server's.
 */
const FLOOR_SCRIPT = `
import Fastify from 'fastify';
import { Kysely, SqliteDialect } from 'kysely';
import Database from 'better-sqlite3';
import pino from 'pino';
import 'pg';
import 'prom-client/lib/registry.js';
import 'prom-client/lib/counter.js';
import 'prom-client/lib/gauge.js';
import 'prom-client/lib/histogram.js';
const db = new Kysely({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
await db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
pino({ level: 'silent' }).info('ready');
const none = () => { throw new Error('no schemas'); };
const app = Fastify({ schemaController: { compilersFactory: { buildValidator: none, buildSerializer: none } } });
app.get('/', async () => ({ ok: 'yes' }));
await app.listen({ host: '127.0.0.1', port: 0 });
setTimeout(() => {
  const startUp = process.memoryUsage().rss;
  setTimeout(() => {
    process.stdout.write(JSON.stringify({ startUp, idle: process.memoryUsage().rss }));
    process.exit(0);
  }, Math.max(0, Number(process.argv[1]) * 1000 - 1500));
}, 1500);
`;

/**
 * Resident memory (MiB) of the server's libraries alone, as above: 1.5 s after start-up, and
 * after `idleSeconds` without work (when V8's memory reducer has given back what loading grew).
 *
 * @example
 * ```ts
 * const floor = await libraryFloorRssMiB(60);
 * floor.idle; // MiB after a minute idle
 * ```
 */
export function libraryFloorRssMiB(
  idleSeconds: number,
): Promise<{ readonly startUp: number; readonly idle: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', FLOOR_SCRIPT, String(idleSeconds)],
      { cwd: SERVER_PACKAGE },
      (err, stdout) => {
        if (err) return reject(err);
        const { startUp, idle } = JSON.parse(stdout) as { startUp: number; idle: number };
        resolve({ startUp: startUp / 1048576, idle: idle / 1048576 });
      },
    );
  });
}
