/**
 * What a server on SQLite keeps in memory: the PostgreSQL and Redis clients, the password
 * hashing add-ons, the SMTP client, zod, the cron parser and jose load only when configuration
 * or a request asks for them (PostgreSQL storage, a Redis or database rotator, a slow blind
 * index, an email alert channel, an alerts or rotation section, a transit restore, a cron
 * schedule, a JWT keyset rotation), so an idle server does not pay for them; Fastify's schema
 * compilers and the parts of prom-client the server does not use never load.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const serverPackage = fileURLToPath(new URL('..', import.meta.url));

/**
 * Package names of every module (ES modules through a load hook, CommonJS through the require
 * cache) and native add-on a started and used server loaded.
 */
async function packagesLoadedBy(storage: string): Promise<string[]> {
  const hook = [
    'let port;',
    'export function initialize(data) { port = data.port; }',
    'export async function load(url, context, next) { port.postMessage(url); return next(url, context); }',
  ].join('\n');
  const script = `
    import { createRequire, register } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    const esm = [];
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (url) => esm.push(url));
    port1.unref();
    register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)}, {
      data: { port: port2 },
      transferList: [port2],
    });
    const dlopen = process.dlopen;
    const addons = [];
    process.dlopen = function (module, filename, ...rest) {
      addons.push(filename);
      return dlopen.call(this, module, filename, ...rest);
    };
    const { startServer } = await import('@custos/server');
    const server = await startServer({
      dev: { rootTokenId: 'lazy-root' }, host: '127.0.0.1', port: 0, storage: ${JSON.stringify(storage)},
      logDestination: { write() {} },
    });
    const url = server.url + '/v1/secret/data/lazy';
    const headers = { 'x-vault-token': 'lazy-root' };
    const wrote = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ data: { a: 'b' } }) });
    const read = await fetch(url, { headers });
    await server.close();
    // The hook's last messages may still be on their way.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const files = [...Object.keys(createRequire(import.meta.url).cache), ...addons, ...esm];
    const names = new Set(files.map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean));
    process.stdout.write(JSON.stringify({ status: [wrote.status, read.status], names: [...names] }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: serverPackage,
  });
  const { status, names } = JSON.parse(stdout) as { status: number[]; names: string[] };
  expect(status).toEqual([200, 200]);
  return names;
}

describe('dependencies a server loads', () => {
  it('on SQLite: no PostgreSQL or Redis client, no password-hashing add-on, no zod', async () => {
    const names = await packagesLoadedBy(':memory:');
    // The check sees add-ons and CommonJS packages (better-sqlite3) and ES modules (kysely).
    expect(names).toEqual(expect.arrayContaining(['better-sqlite3', 'kysely']));
    for (const name of [
      'pg',
      'ioredis',
      '@node-rs/argon2',
      'bcrypt',
      'nodemailer',
      'zod',
      'cron-parser',
      // Fastify's schema compiler: routes declare no JSON schema (build-app.ts).
      'ajv',
      // JWTs: only the jwt-keyset rotator uses them (custos tokens are not JWTs).
      'jose',
      // prom-client's index (default process metrics, push gateway, OpenTelemetry's API): the
      // server requires the four classes it uses from their own files (metrics/prom-classes.ts).
      '@opentelemetry/api',
      'tdigest',
    ]) {
      expect(names).not.toContain(name);
    }
  }, 60_000);
});
