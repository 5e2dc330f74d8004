import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RandomPool } from './random-pool.js';

const run = promisify(execFile);

describe('RandomPool', () => {
  it('hands out distinct, non-overlapping slices across block refills', () => {
    const pool = new RandomPool(64);
    const taken = Array.from({ length: 40 }, () => Buffer.from(pool.take(12)));
    expect(new Set(taken.map((b) => b.toString('hex'))).size).toBe(40);
    expect(taken.every((b) => b.length === 12)).toBe(true);
    expect(pool.take(100)).toHaveLength(100); // larger than a block: drawn directly
  });
});

/**
 * A startup snapshot (`node --build-snapshot`, also what a single executable application
 * embeds) copies the JS heap, the nonce pool's block included, into every process started
 * from it. Built for real here: the core crypto bundled into one script that encrypts while
 * the snapshot is built, then two processes started from the blob.
 */
describe('the nonce pool in a startup snapshot', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-snapshot-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives each process started from the snapshot its own nonces', async () => {
    const entry = join(dir, 'entry.cjs');
    const blob = join(dir, 'snapshot.blob');
    await build({
      entryPoints: [join(import.meta.dirname, '../../test/fixtures/snapshot-entry.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // Native add-ons cannot be bundled; the crypto the entry uses loads none of them (a
      // protected key file's passphrase needs Argon2id, imported only when one is opened).
      external: ['@node-rs/argon2', 'bcrypt', 'better-sqlite3', 'pkcs11js'],
      outfile: entry,
      logLevel: 'silent',
    });
    await run(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', entry], {
      cwd: dir,
    });
    const start = async () => {
      const { stdout } = await run(process.execPath, ['--snapshot-blob', blob], { cwd: dir });
      return JSON.parse(stdout) as { beforeSnapshot: string[]; afterStart: string[] };
    };
    const first = await start();
    const second = await start();

    expect(first.beforeSnapshot).toEqual(second.beforeSnapshot); // the same snapshot
    const all = [...first.beforeSnapshot, ...first.afterStart, ...second.afterStart];
    expect(all.every((nonce) => /^[0-9a-f]{24}$/.test(nonce))).toBe(true);
    expect(new Set(all).size).toBe(all.length);
  }, 120_000);
});
