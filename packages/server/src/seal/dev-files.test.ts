import { chmod, copyFile, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestStorage, send, type TestStorage } from '../../test/harness.js';
import { type RunningServer, startServer } from '../server.js';

const modeOf = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

describe.skipIf(process.platform === 'win32')('dev mode files on SQLite', () => {
  let storage: TestStorage;
  let dbFile: string;
  let keyFile: string;
  const running: RunningServer[] = [];
  const startDev = async () => {
    const server = await startServer({
      dev: {},
      storage: dbFile,
      port: 0,
      logLevel: 'silent',
    });
    running.push(server);
    return server;
  };
  const closeAll = async () => {
    for (const server of running.splice(0)) await server.close();
  };

  beforeEach(async () => {
    storage = await createTestStorage('sqlite');
    dbFile = storage.location;
    keyFile = `${dbFile}.dev-unseal-key`;
  });
  afterEach(async () => {
    await closeAll();
    await storage.cleanup();
  });

  it('creates the unseal key file, the database and its -wal and -shm owner-only (0600)', async () => {
    const server = await startDev();
    expect(await send(server.url, 'GET', 'sys/seal-status')).toMatchObject({
      body: { sealed: false },
    });
    expect((await readFile(keyFile, 'utf8')).trim()).toBe(server.unsealKey);
    for (const file of [keyFile, dbFile, `${dbFile}-wal`, `${dbFile}-shm`])
      expect([file, await modeOf(file)]).toEqual([file, '600']);

    // A restart reads the key file it created and unseals.
    await closeAll();
    const again = await startDev();
    expect(again.unsealKey).toBe(server.unsealKey);
    expect(again.context.seal.isUnsealed()).toBe(true);
  });

  it('refuses to write the key into an existing file, and leaves the file and the storage untouched', async () => {
    await writeFile(keyFile, 'someone else’s file\n', { mode: 0o644 });
    await expect(startDev()).rejects.toMatchObject({
      code: 'ERR_INVALID_CONFIG',
      message: expect.stringContaining('already exists'),
    });
    expect(await readFile(keyFile, 'utf8')).toBe('someone else’s file\n');
    expect(await modeOf(keyFile)).toBe('644');
    const production = await startServer({ storage: dbFile, port: 0, logLevel: 'silent' });
    running.push(production);
    expect((await send(production.url, 'GET', 'sys/init')).body).toEqual({ initialized: false });
  });

  it('never follows a symbolic link at the key path when creating the key', async () => {
    const target = join(dirname(dbFile), 'elsewhere');
    await writeFile(target, 'kept\n', { mode: 0o644 });
    await symlink(target, keyFile);
    await expect(startDev()).rejects.toMatchObject({
      code: 'ERR_INVALID_CONFIG',
      message: expect.stringContaining('symbolic link'),
    });
    expect(await readFile(target, 'utf8')).toBe('kept\n');

    // A dangling link is refused too: nothing is created where it points.
    const absent = join(dirname(dbFile), 'not-there');
    await rm(keyFile);
    await symlink(absent, keyFile);
    await expect(startDev()).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    await expect(stat(absent)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('on restart, refuses a key file that is a symbolic link or that others may read', async () => {
    const unsealKey = (await startDev()).unsealKey as string;
    await closeAll();

    await chmod(keyFile, 0o644);
    const loose = startDev();
    await expect(loose).rejects.toMatchObject({
      code: 'ERR_INSECURE_FILE',
      message: expect.stringContaining('mode 644'),
    });
    expect(((await loose.catch((err: Error) => err)) as Error).message).not.toContain(unsealKey);
    await chmod(keyFile, 0o600);

    const real = join(dirname(dbFile), 'real-key');
    await copyFile(keyFile, real);
    await chmod(real, 0o600);
    await rm(keyFile);
    await symlink(real, keyFile);
    await expect(startDev()).rejects.toMatchObject({
      code: 'ERR_INSECURE_FILE',
      message: expect.stringContaining('symbolic link'),
    });

    // Back to a regular owner-only file: it starts and unseals.
    await rm(keyFile);
    await copyFile(real, keyFile);
    await chmod(keyFile, 0o600);
    expect((await startDev()).context.seal.isUnsealed()).toBe(true);
  });
});
