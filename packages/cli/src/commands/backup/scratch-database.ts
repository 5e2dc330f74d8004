import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { CustosError } from '@custos/core/errors';

/** A scratch PostgreSQL database a drill restores into, and how to drop it. */
export interface ScratchDatabase {
  readonly name: string;
  /** The server's address without credentials, for reports. */
  readonly where: string;
  readonly url: string;
}

/** Runs a PostgreSQL client tool; rejects with its standard error (never the URL's password). */
function tool(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      { maxBuffer: 16 << 20, env: { ...process.env, PGCONNECT_TIMEOUT: '10' } },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(stdout);
          return;
        }
        const code = (error as NodeJS.ErrnoException).code;
        const detail =
          code === 'ENOENT'
            ? `${command} is not installed (the PostgreSQL client tools are needed for --restore-into)`
            : stderr.trim().split('\n').slice(-3).join(' / ') || `${command} failed`;
        reject(new CustosError('ERR_BACKUP_DRILL_FAILED', detail));
      },
    );
  });
}

const quoted = (name: string) => `"${name}"`;

/** The server URL with another database name. */
function withDatabase(url: URL, name: string): string {
  const copy = new URL(url.href);
  copy.pathname = `/${name}`;
  return copy.href;
}

/**
 * Creates `custos_drill_<random>` on the server `serverUrl` names (its database is only used to
 * connect, `postgres` when it names none).
 */
export async function createScratchDatabase(serverUrl: string): Promise<ScratchDatabase> {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new CustosError('ERR_INVALID_ARGUMENT', '--restore-into takes a postgres:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new CustosError('ERR_INVALID_ARGUMENT', '--restore-into takes a postgres:// URL');
  }
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/postgres';
  const name = `custos_drill_${randomBytes(6).toString('hex')}`;
  await tool('psql', [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-d',
    url.href,
    '-c',
    `CREATE DATABASE ${quoted(name)}`,
  ]);
  return { name, where: `${url.hostname}:${url.port || '5432'}`, url: withDatabase(url, name) };
}

/** Drops the scratch database (closing any connection left to it). */
export async function dropScratchDatabase(db: ScratchDatabase, serverUrl: string): Promise<void> {
  const url = new URL(serverUrl);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/postgres';
  await tool('psql', [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-d',
    url.href,
    '-c',
    `DROP DATABASE IF EXISTS ${quoted(db.name)} WITH (FORCE)`,
  ]);
}

/**
 * Restores a dump file into the scratch database: `pg_restore` for the custom format (it starts
 * with `PGDMP`), `psql` for a plain SQL dump; stops at the first error. Returns the number of
 * tables and of rows in them afterwards.
 */
export async function restoreDump(
  db: ScratchDatabase,
  dump: string,
): Promise<{ format: 'custom' | 'plain'; tables: number; rows: number }> {
  const handle = await open(dump, 'r');
  const head = Buffer.alloc(5);
  try {
    await handle.read(head, 0, 5, 0);
  } finally {
    await handle.close();
  }
  const format = head.toString('latin1') === 'PGDMP' ? 'custom' : 'plain';
  if (format === 'custom') {
    await tool('pg_restore', [
      '--no-owner',
      '--no-privileges',
      '--exit-on-error',
      '-d',
      db.url,
      dump,
    ]);
  } else {
    await tool('psql', [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '--single-transaction',
      '-d',
      db.url,
      '-f',
      dump,
    ]);
  }
  const counts = await tool('psql', [
    '-X',
    '-At',
    '-d',
    db.url,
    '-c',
    // Exact counts (statistics lag behind a restore): one count(*) per table.
    `SELECT count(*), coalesce(sum((xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I.%I', schemaname, tablename), false, true, '')))[1]::text::bigint), 0) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
  ]);
  const [tables, rows] = counts.trim().split('|').map(Number);
  return { format, tables: tables ?? 0, rows: rows ?? 0 };
}
