import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The built module (a process of its own: nothing else in it has loaded the SIV cipher). */
const aead = fileURLToPath(new URL('../../dist/crypto/aead.js', import.meta.url));

describe('the AES-GCM-SIV implementation', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-siv-load-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('loads with the first key made for it, not with the module (a server idles ~5 MiB lower)', async () => {
    // Loaded by `import` shows in a module hook's log, by `require` in require.cache.
    const log = join(dir, 'imports.log');
    await writeFile(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(log)}, url + '\\n');
  return next(url, context);
}
`,
    );
    await writeFile(join(dir, 'imports.log'), '');
    await writeFile(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
    );
    await writeFile(
      join(dir, 'check.mjs'),
      `import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(aead)});
const loaded = () =>
  Object.keys(require.cache).some((file) => file.includes('@noble/ciphers')) ||
  readFileSync(${JSON.stringify(log)}, 'utf8').includes('@noble/ciphers');
const { createAeadKey, seal, open } = await import(${JSON.stringify(pathToFileURL(aead).href)});
const seen = [loaded()];
createAeadKey('aes-256-gcm', new Uint8Array(32));
createAeadKey('chacha20-poly1305', new Uint8Array(32));
seen.push(loaded());
const key = createAeadKey('aes-256-gcm-siv', new Uint8Array(32).fill(7));
seen.push(loaded());
const sealed = seal(key, new Uint8Array(0), 'equal inputs, equal outputs', new Uint8Array(0));
seen.push(open(key, new Uint8Array(0), sealed, new Uint8Array(0)).toString());
console.log(JSON.stringify(seen));
`,
    );
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', join(dir, 'register.mjs'), join(dir, 'check.mjs')],
        (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)),
      );
    });
    expect(JSON.parse(output)).toEqual([false, false, true, 'equal inputs, equal outputs']);
    // The hook saw the module itself: a static import would have shown.
    expect(await readFile(log, 'utf8')).toContain('/crypto/aead.js');
  });
});
