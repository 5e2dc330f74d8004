import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer } from '../server.js';
import { openStorage } from './database.js';

const refusal = async (location: string) => {
  try {
    const storage = await openStorage(location);
    await storage.close();
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message };
  }
  return undefined;
};

describe('a SQLite storage file that other users could reach is refused', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-dbfile-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A file with `mode`, created and then chmod'ed (the umask does not decide it). */
  const fileWithMode = async (name: string, mode: number) => {
    const path = join(dir, name);
    await writeFile(path, '');
    await chmod(path, mode);
    return path;
  };

  it.each(
    [0o666, 0o644, 0o640, 0o604, 0o620, 0o602, 0o660].map((m) => [m.toString(8), m] as const),
  )(
    'an existing database file with mode %s: refused with the chmod to run, left as it was',
    async (_label, mode) => {
      const path = await fileWithMode('custos.db', mode);
      expect(await refusal(path)).toEqual({
        code: 'ERR_INSECURE_FILE',
        message: `storage: ${path} may be read or written by other users (mode ${mode.toString(8)}); run chmod 600 ${path}`,
      });
      expect((await stat(path)).mode & 0o777).toBe(mode);
      expect(await readFile(path, 'utf8')).toBe('');
    },
  );

  it.each(['-wal', '-shm'])('a %s file others may read or write is refused too', async (suffix) => {
    const path = await fileWithMode('custos.db', 0o600);
    const companion = await fileWithMode(`custos.db${suffix}`, 0o644);
    expect(await refusal(path)).toMatchObject({
      code: 'ERR_INSECURE_FILE',
      message: expect.stringContaining(`${companion} may be read or written by other users`),
    });
  });

  it.each(['', '-wal', '-shm'])(
    'a symbolic link as the database%s file is refused, even to an owner-only file',
    async (suffix) => {
      const target = await fileWithMode(`elsewhere${suffix}`, 0o600);
      const path = join(dir, 'link.db');
      if (suffix !== '') await fileWithMode('link.db', 0o600);
      await symlink(target, `${path}${suffix}`);
      expect(await refusal(`sqlite:${path}`)).toMatchObject({
        code: 'ERR_INSECURE_FILE',
        message: expect.stringContaining(`${path}${suffix} is a symbolic link`),
      });
    },
  );

  it('a directory (or one above it) others may write to without the sticky bit is refused; with it, accepted', async () => {
    const open = join(dir, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    expect(await refusal(join(open, 'custos.db'))).toEqual({
      code: 'ERR_INSECURE_FILE',
      message: `storage: the directory ${open} of ${join(open, 'custos.db')} may be written by other users (mode 777, no sticky bit), who could replace or delete the database; run chmod 700 ${open}`,
    });
    // A directory above it counts as much: the one below could be moved aside and replaced.
    await mkdir(join(open, 'inner'), { mode: 0o700 });
    expect(await refusal(join(open, 'inner', 'custos.db'))).toMatchObject({
      code: 'ERR_INSECURE_FILE',
      message: expect.stringContaining(
        `the directory ${open} of ${join(open, 'inner', 'custos.db')}`,
      ),
    });
    await chmod(open, 0o1777);
    expect(await refusal(join(open, 'custos.db'))).toBeUndefined();
    expect(await refusal(join(open, 'inner', 'custos.db'))).toBeUndefined();
    expect((await stat(join(open, 'custos.db'))).mode & 0o777).toBe(0o600);
  });

  it.runIf(process.getuid?.() === 0)(
    'a file of another user is refused (even mode 0600)',
    async () => {
      const path = await fileWithMode('custos.db', 0o600);
      await chown(path, 65534, 65534);
      expect(await refusal(path)).toMatchObject({
        code: 'ERR_INSECURE_FILE',
        message: expect.stringContaining(`${path} belongs to another user (uid 65534)`),
      });
    },
  );

  it('an owner-only file, or none yet, is accepted (a new one is created 0600)', async () => {
    expect(await refusal(await fileWithMode('kept.db', 0o600))).toBeUndefined();
    const fresh = join(dir, 'sub', 'fresh.db');
    expect(await refusal(fresh)).toBeUndefined();
    expect((await stat(fresh)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'sub'))).mode & 0o777).toBe(0o700);
  });

  it('the server does not start on such a file', async () => {
    const target = await fileWithMode('shared.db', 0o666);
    const path = join(dir, 'link.db');
    await symlink(target, path);
    await expect(startServer({ storage: path, port: 0, logLevel: 'silent' })).rejects.toMatchObject(
      { code: 'ERR_INSECURE_FILE' },
    );
  });
});
