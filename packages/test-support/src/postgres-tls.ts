/**
 * A throwaway PostgreSQL cluster with TLS on, started by a test in its own directory and port:
 * `initdb`, the test's certificate as `server.crt`, `ssl = on`, `pg_ctl start`. Run as root, the
 * cluster belongs to the `postgres` user (PostgreSQL refuses to run as root).
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

/** The directory holding `initdb` and `pg_ctl`, or undefined. */
function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
}

/**
 * Whether the PostgreSQL server binaries are installed; under CI a missing one throws.
 *
 * @example
 * ```ts
 * describe.runIf(requirePostgresBinaries())('PostgreSQL over TLS', () => { … });
 * ```
 */
export function requirePostgresBinaries(): boolean {
  if (postgresBinDir() !== undefined) return true;
  const message = 'the PostgreSQL server binaries (initdb, pg_ctl) are not installed';
  if (inCi) throw new Error(`${message}; under CI, tests that need them must run`);
  console.warn(`${message}: skipping the tests that need them`);
  return false;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A running TLS cluster. */
export interface TlsPostgres {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` plus `query` (such as `sslmode=verify-full`). */
  url(query?: string): string;
  /** Stops the cluster (fast shutdown). */
  stop(): void;
}

/**
 * Starts a cluster in `dir` (which must be empty) serving `certFile`/`keyFile` with `ssl = on`,
 * trust authentication on 127.0.0.1 and TLS 1.2 as its minimum.
 *
 * @example
 * ```ts
 * const cluster = await startTlsPostgres(dir, good);
 * try { … cluster.url('sslmode=verify-full') … } finally { cluster.stop(); }
 * ```
 */
export async function startTlsPostgres(
  dir: string,
  pair: { certFile: string; keyFile: string },
): Promise<TlsPostgres> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL server binaries not found');
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres']).toString()),
        gid: Number(execFileSync('id', ['-g', 'postgres']).toString()),
      }
    : undefined;
  const run = (tool: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], {
          stdio: 'pipe',
        })
      : execFileSync(join(bin, tool), args, { stdio: 'pipe' });
  if (ids !== undefined) chownSync(dir, ids.uid, ids.gid);
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync']);
  copyFileSync(pair.certFile, join(data, 'server.crt'));
  copyFileSync(pair.keyFile, join(data, 'server.key'));
  chmodSync(join(data, 'server.key'), 0o600);
  if (ids !== undefined) {
    chownSync(join(data, 'server.crt'), ids.uid, ids.gid);
    chownSync(join(data, 'server.key'), ids.uid, ids.gid);
  }
  const port = await freePort();
  writeFileSync(
    join(data, 'postgresql.auto.conf'),
    [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'ssl = on',
      "ssl_min_protocol_version = 'TLSv1.2'",
      'fsync = off',
      '',
    ].join('\n'),
  );
  run('pg_ctl', ['-D', data, '-l', join(dir, 'postgres.log'), '-w', '-t', '30', 'start']);
  return {
    port,
    url: (query) => `postgres://postgres@127.0.0.1:${port}/postgres${query ? `?${query}` : ''}`,
    stop: () => {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
  };
}
