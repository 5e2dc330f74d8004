/**
 * What a server on SQLite keeps in memory: the PostgreSQL and Redis clients and the password
 * hashing add-ons load only when configuration asks for them (PostgreSQL storage, a Redis or
 * database rotator, a slow blind index), so an idle server does not pay for them.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const serverPackage = fileURLToPath(new URL('..', import.meta.url));

/** Package names of every CommonJS module and native add-on a started and used server loaded. */
async function packagesLoadedBy(storage: string): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module';
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
    const files = [...Object.keys(createRequire(import.meta.url).cache), ...addons];
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
  it('on SQLite: no PostgreSQL or Redis client, no password-hashing add-on', async () => {
    const names = await packagesLoadedBy(':memory:');
    // The check sees CommonJS packages and add-ons (it is not blind).
    expect(names).toEqual(expect.arrayContaining(['better-sqlite3']));
    for (const name of ['pg', 'ioredis', '@node-rs/argon2', 'bcrypt']) {
      expect(names).not.toContain(name);
    }
  }, 60_000);
});
