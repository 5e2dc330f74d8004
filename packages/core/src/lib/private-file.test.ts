import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKms } from '../kms/index.js';
import { readKeyMaterialFile, readPrivateFile } from './private-file.js';

describe('readKeyMaterialFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-private-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts 0600 and 0400, refuses anything others may read, and names the file', async () => {
    const file = join(dir, 'keys.json');
    await writeFile(file, '{}');
    for (const mode of [0o600, 0o400]) {
      await chmod(file, mode);
      await expect(readKeyMaterialFile(file, 'keyring file')).resolves.toBe('{}');
    }
    for (const mode of [0o640, 0o604, 0o644, 0o660]) {
      await chmod(file, mode);
      await expect(readKeyMaterialFile(file, 'keyring file')).rejects.toMatchObject({
        code: 'ERR_INSECURE_FILE',
        message: expect.stringMatching(/^keyring file .*keys\.json may be read .*chmod 600/),
      });
    }
  });

  it('warns instead when asked, and refuses a missing path or a directory', async () => {
    const file = join(dir, 'shared.json');
    await writeFile(file, '{}', { mode: 0o644 });
    await chmod(file, 0o644);
    const warnings: string[] = [];
    await readKeyMaterialFile(file, 'key file', {
      permissions: 'warn',
      onWarning: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([expect.stringMatching(/mode 644/)]);
    await expect(readKeyMaterialFile(join(dir, 'nope.json'), 'key file')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/does not exist/),
    });
    await mkdir(join(dir, 'sub'));
    await expect(readKeyMaterialFile(join(dir, 'sub'), 'key file')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('is what LocalKms.open applies to an existing KMS file', async () => {
    const file = join(dir, 'kms.json');
    const kms = await LocalKms.open(file); // a missing file starts an empty KMS
    kms.createKey('k');
    await kms.save();
    await expect(LocalKms.open(file)).resolves.toBeInstanceOf(LocalKms);
    await chmod(file, 0o644);
    await expect(LocalKms.open(file)).rejects.toMatchObject({ code: 'ERR_INSECURE_FILE' });
  });

  it('readKeyMaterialFile follows a link to a private file and judges the file it leads to', async () => {
    // Secret mounts (Kubernetes, Docker) name keys through links; the target's mode is what counts.
    const target = join(dir, 'mounted-keyring.json');
    await writeFile(target, '{"mounted":true}', { mode: 0o600 });
    const link = join(dir, 'keyring-link.json');
    await symlink(target, link);
    await expect(readKeyMaterialFile(link, 'keyring file')).resolves.toBe('{"mounted":true}');
    await chmod(target, 0o644);
    await expect(readKeyMaterialFile(link, 'keyring file')).rejects.toMatchObject({
      code: 'ERR_INSECURE_FILE',
      message: expect.stringMatching(/mode 644/),
    });
  });

  it('readKeyMaterialFile refuses key material that belongs to another user (not root)', async (context) => {
    if (process.getuid?.() !== 0) {
      // Only root can hand a file to another user; the suite runs as root in CI.
      expect(process.env.CI, 'CI runs the suite as root').not.toBe('true');
      context.skip();
    }
    const file = join(dir, 'someone-elses.json');
    await writeFile(file, '{}', { mode: 0o600 });
    await chown(file, 4242, 4242);
    await expect(readKeyMaterialFile(file, 'keyring file')).rejects.toMatchObject({
      code: 'ERR_INSECURE_FILE',
      message: `keyring file ${file} belongs to another user (uid 4242); key files must belong to the user running custos (uid 0) or to root`,
    });
    await expect(readPrivateFile(file, 'key file')).rejects.toMatchObject({
      code: 'ERR_INSECURE_FILE',
      message: expect.stringMatching(/belongs to another user \(uid 4242\)/),
    });
  });

  it('readKeyMaterialFile accepts a group-readable file only where the process cannot write it', async (context) => {
    // A Kubernetes secret mount with `defaultMode: 0440` and `fsGroup`: read-only to the process.
    // Played by a process running as `nobody` reading a file it owns without its write bit.
    if (process.getuid?.() !== 0) {
      expect(process.env.CI, 'CI runs the suite as root').not.toBe('true');
      context.skip();
    }
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const module = fileURLToPath(new URL('../../dist/lib/private-file.js', import.meta.url));
    const readAsNobody = (file: string) => {
      const script = `import { readKeyMaterialFile } from ${JSON.stringify(module)};
        readKeyMaterialFile(process.argv[1], 'keyring file').then(
          (text) => console.log('read ' + text),
          (e) => console.log(e.code + ' ' + e.message));`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, file], {
        uid: nobody,
        encoding: 'utf8',
      });
      return child.stdout.trim() || child.stderr.trim();
    };
    await chmod(dir, 0o755);
    const cases: [number, string][] = [
      [0o440, 'read {"k":1}'],
      [0o400, 'read {"k":1}'],
      [0o640, 'ERR_INSECURE_FILE'], // the process could rewrite what its group reads
      [0o460, 'ERR_INSECURE_FILE'], // the group may write
      [0o444, 'ERR_INSECURE_FILE'], // anyone may read
    ];
    for (const [mode, expected] of cases) {
      const file = join(dir, `mounted-${mode.toString(8)}.json`);
      await writeFile(file, '{"k":1}');
      await chown(file, nobody, nobody);
      await chmod(file, mode);
      expect(readAsNobody(file), mode.toString(8)).toMatch(new RegExp(`^${expected}`));
    }
    // Root can write any file on a writable file system, so for it 0440 is refused.
    const rootOwned = join(dir, 'root-0440.json');
    await writeFile(rootOwned, '{}', { mode: 0o440 });
    await chmod(rootOwned, 0o440);
    await expect(readKeyMaterialFile(rootOwned, 'keyring file')).rejects.toMatchObject({
      code: 'ERR_INSECURE_FILE',
      message: expect.stringMatching(/mode 440\).*read-only secret mount/),
    });
  });

  it('readKeyMaterialFile refuses a FIFO without blocking, and LocalKms refuses a dangling link', async () => {
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    await expect(readKeyMaterialFile(fifo, 'keyring file')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: `keyring file ${fifo} is not a file`,
    });
    // A link whose target is gone must not start an empty KMS that `save` would then write.
    const dangling = join(dir, 'kms-dangling.json');
    await symlink(join(dir, 'kms-gone.json'), dangling);
    await expect(LocalKms.open(dangling)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/does not exist/),
    });
  });

  it('readPrivateFile reads a private regular file, and says undefined when there is none', async () => {
    const file = join(dir, 'read-ok.keys');
    await writeFile(file, 'A=1\n', { mode: 0o600 });
    expect(await readPrivateFile(file, 'key file')).toBe('A=1\n');
    expect(await readPrivateFile(join(dir, 'read-none.keys'), 'key file')).toBeUndefined();
    await chmod(file, 0o644);
    await expect(readPrivateFile(file, 'key file')).rejects.toMatchObject({
      code: 'ERR_INSECURE_FILE',
      message: expect.stringMatching(/may be read by other users \(mode 644\)/),
    });
  });

  it('readPrivateFile refuses a symbolic link, live or dangling, and never reads its target', async () => {
    const target = join(dir, 'link-target');
    await writeFile(target, 'SECRET=target-content\n', { mode: 0o600 });
    const links = { live: target, dangling: join(dir, 'no-such-target') };
    for (const [name, to] of Object.entries(links)) {
      const link = join(dir, `link-${name}.keys`);
      await symlink(to, link);
      const error = await readPrivateFile(link, 'key file').catch((e: unknown) => e);
      expect(error, name).toMatchObject({
        code: 'ERR_INSECURE_FILE',
        message: `key file ${link} is a symbolic link; custos reads and writes key files only as regular files: put the file itself there, or name its real path`,
      });
      expect(String((error as Error).message)).not.toContain('target-content');
    }
  });

  it('readPrivateFile refuses a directory or a FIFO without blocking on it', async () => {
    await mkdir(join(dir, 'dir.keys'));
    await expect(readPrivateFile(join(dir, 'dir.keys'), 'key file')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/is not a file$/),
    });
    const fifo = join(dir, 'fifo.keys');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    await expect(readPrivateFile(fifo, 'key file')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: `key file ${fifo} is not a file`,
    });
  });
});
