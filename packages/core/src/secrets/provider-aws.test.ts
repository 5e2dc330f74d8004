import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dist = fileURLToPath(new URL('../../dist', import.meta.url));

describe('awsSecretsManager() without the AWS SDK installed', () => {
  it('fails its first read with ERR_SECRET_PROVIDER saying what to install', async () => {
    // The built library copied where no node_modules is above it: the SDK cannot be found, as
    // in an application that did not install the optional peer dependency.
    const dir = await mkdtemp(join(tmpdir(), 'custos-no-sdk-'));
    try {
      await cp(dist, join(dir, 'dist'), { recursive: true });
      await writeFile(join(dir, 'package.json'), '{"type":"module"}');
      const script = [
        `const { awsSecretsManager } = await import(${JSON.stringify(join(dir, 'dist/secrets/provider-aws.js'))});`,
        "const provider = awsSecretsManager({ secretId: 'app/production' });",
        'for (const attempt of [1, 2]) {',
        "  try { await provider.get('DB_PASSWORD'); console.log('read'); }",
        '  catch (err) { console.log(JSON.stringify({ code: err.code, message: err.message })); }',
        '}',
      ].join('\n');
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
      });
      const lines = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      // Both attempts say so (the failed import is not cached as a success, nor hidden).
      expect(lines).toEqual([
        {
          code: 'ERR_SECRET_PROVIDER',
          message: expect.stringContaining('npm install @aws-sdk/client-secrets-manager'),
        },
        {
          code: 'ERR_SECRET_PROVIDER',
          message: expect.stringContaining('npm install @aws-sdk/client-secrets-manager'),
        },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
