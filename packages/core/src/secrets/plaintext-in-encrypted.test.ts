import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.js';
import { encryptEnvFile } from './env-file-crypt.js';
import { generateEnvKey } from './env-key.js';
import { checkEnvironment } from './environment.js';
import { dotenvFiles } from './provider-dotenv.js';

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-plain-in-enc-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A planted plaintext value: it must never appear in an error or a warning. */
const canary = () => `planted-${randomBytes(16).toString('hex')}`;

/**
 * A project whose `.env.production` was encrypted and then had one line replaced: the
 * attack of a commit that swaps `JWT_SECRET=enc:v2:…` for a value the attacker knows.
 */
async function tampered(
  replace: (text: string) => string,
  extraFiles: Record<string, string> = {},
) {
  const path = join(dir, `p${counter++}`);
  await mkdir(path);
  const env = { CUSTOS_ENV_KEY_PRODUCTION: generateEnvKey().reveal() };
  const file = join(path, '.env.production');
  await writeFile(
    file,
    `JWT_SECRET=${randomBytes(32).toString('hex')}\nDB_PASSWORD=${randomBytes(24).toString('base64url')}\n`,
    { mode: 0o600 },
  );
  await encryptEnvFile(file, { env });
  await writeFile(file, replace(await readFile(file, 'utf8')));
  for (const [name, text] of Object.entries(extraFiles)) {
    await writeFile(join(path, name), text, { mode: 0o600 });
  }
  return { path, file, env };
}

const replaceLine = (name: string, line: string) => (text: string) =>
  text.replace(new RegExp(`^${name}=.*$`, 'm'), line);

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

/** Every file of the production precedence set, `.local` overrides included. */
const LOADED_FILES = ['.env', '.env.local', '.env.production', '.env.production.local'] as const;

describe('a plaintext override of an encrypted value, whatever file it comes from', () => {
  // Each pair: the file holding DB_PASSWORD encrypted, and a later file of the production set
  // overriding it in plaintext. The rule is about content, never the file's name (a `.local`
  // file can be committed like any other).
  it.each([
    ['.env.production', '.env.production.local'],
    ['.env', '.env.local'],
    ['.env', '.env.production'],
    ['.env', '.env.production.local'],
    ['.env.local', '.env.production.local'],
  ])(
    'an enc: value of %s overridden in %s is refused in production, naming both files',
    async (encryptedIn, source) => {
      const planted = canary();
      const path = join(dir, `p${counter++}`);
      await mkdir(path);
      const env = {
        CUSTOS_ENV_KEY: generateEnvKey().reveal(),
        CUSTOS_ENV_KEY_PRODUCTION: generateEnvKey().reveal(),
      };
      const file = join(path, encryptedIn);
      await writeFile(
        file,
        `DB_PASSWORD=${randomBytes(24).toString('base64url')}\nAPI_KEY=${randomBytes(24).toString('hex')}\n`,
      );
      await encryptEnvFile(file, { env });
      const target = join(path, source);
      await writeFile(target, `DB_PASSWORD=OverriddenPlaintext-${planted}\nLOG_LEVEL=info\n`);
      const provider = dotenvFiles({ directory: path, mode: 'production', env });
      const error = await failure(provider.get('DB_PASSWORD'));
      expect(error.code).toBe('ERR_ENV_VALUE_PLAINTEXT');
      expect(error.message).toBe(
        `DB_PASSWORD in ${target} is plaintext, and overrides the enc: value of DB_PASSWORD in ${file}: an encrypted value may have been replaced. Encrypt it (custos env encrypt ${target}), or mark it as meant to be readable with a "# custos: plaintext" comment on its line or the line above`,
      );
      expect(`${error.message}\n${error.stack}`).not.toContain(planted);
      // Plain settings of the same file still load, and so do the encrypted values it does not touch.
      expect(await provider.get('LOG_LEVEL')).toBe('info');
      expect(await provider.get('API_KEY')).toMatch(/^[0-9a-f]{48}$/);
    },
  );

  it('a plaintext value in a file below the encrypted one is shadowed, not loaded', async () => {
    const { path, env } = await tampered((text) => text, {
      '.env.local': `DB_PASSWORD=${canary()}\n`,
    });
    const provider = dotenvFiles({ directory: path, mode: 'production', env });
    expect(await provider.get('DB_PASSWORD')).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it.each(LOADED_FILES)(
    'a secret removed from the encrypted file and put in plaintext in %s is refused too',
    async (source) => {
      const planted = canary();
      const line = `JWT_SECRET=${planted}\n`;
      const { path, env } = await tampered(
        (text) => replaceLine('JWT_SECRET', '')(text) + (source === '.env.production' ? line : ''),
        source === '.env.production' ? {} : { [source]: line },
      );
      const target = join(path, source);
      const error = await failure(
        dotenvFiles({ directory: path, mode: 'production', env }).get('JWT_SECRET'),
      );
      expect(error.code).toBe('ERR_ENV_VALUE_PLAINTEXT');
      expect(error.message).toMatch(new RegExp(`^JWT_SECRET in ${target} is plaintext, `));
      expect(`${error.message}\n${error.stack}`).not.toContain(planted);
    },
  );

  it('is a warning outside production, once, naming both files, never the value', async () => {
    const planted = canary();
    const { path, file, env } = await tampered((text) => text, {
      '.env.staging.local': `DB_PASSWORD=${planted}\n`,
    });
    const warnings: string[] = [];
    const provider = dotenvFiles({
      directory: path,
      mode: 'staging',
      files: ['.env.production', '.env.staging.local'],
      env,
      onWarning: (message) => warnings.push(message),
    });
    expect(await provider.get('DB_PASSWORD')).toBe(planted);
    expect(await provider.get('DB_PASSWORD')).toBe(planted);
    expect(warnings).toEqual([
      `DB_PASSWORD in ${join(path, '.env.staging.local')} is plaintext, and overrides the enc: value of DB_PASSWORD in ${file}: an encrypted value may have been replaced. Encrypt it (custos env encrypt ${join(path, '.env.staging.local')}), or mark it as meant to be readable with a "# custos: plaintext" comment on its line or the line above (refused in production)`,
    ]);
  });

  it('is accepted from a .local file when marked there, or listed in plaintextNames', async () => {
    const local = `local-${randomBytes(8).toString('hex')}`;
    const marked = await tampered((text) => text, {
      '.env.production.local': `DB_PASSWORD=${local} # custos: plaintext\n# custos: plaintext\nJWT_SECRET=${local}\n`,
    });
    const reader = dotenvFiles({ directory: marked.path, mode: 'production', env: marked.env });
    expect(await reader.get('DB_PASSWORD')).toBe(local);
    expect(await reader.get('JWT_SECRET')).toBe(local);
    const listed = await tampered((text) => text, {
      '.env.production.local': `DB_PASSWORD=${local}\n`,
    });
    const byOption = dotenvFiles({
      directory: listed.path,
      mode: 'production',
      env: listed.env,
      plaintextNames: ['DB_PASSWORD'],
    });
    expect(await byOption.get('DB_PASSWORD')).toBe(local);
    // A marker in another file covers nothing here: it is read where the value is.
    const elsewhere = await tampered((text) => `${text}# custos: plaintext\nAPI_KEY=x\n`, {
      '.env.production.local': `DB_PASSWORD=${local}\n`,
    });
    const unmarked = dotenvFiles({
      directory: elsewhere.path,
      mode: 'production',
      env: elsewhere.env,
    });
    expect((await failure(unmarked.get('DB_PASSWORD'))).code).toBe('ERR_ENV_VALUE_PLAINTEXT');
  });

  it('leaves alone a .local file of plain settings, and an encrypted .local override', async () => {
    const { path, env } = await tampered((text) => text, {
      '.env.production.local': 'PORT=9090\nLOG_LEVEL=debug\nDB_PASSWORD=\n',
    });
    const provider = dotenvFiles({ directory: path, mode: 'production', env });
    expect(await provider.get('PORT')).toBe('9090');
    // An empty value is no secret anybody knows: it overrides, and validation reports it missing.
    expect(await provider.get('DB_PASSWORD')).toBe('');
    // The same mode's key decrypts a .local file: an override may be encrypted like the rest.
    const override = randomBytes(24).toString('base64url');
    const local = join(path, '.env.production.local');
    await writeFile(local, `DB_PASSWORD=${override}\n`);
    await encryptEnvFile(local, { env });
    const encrypted = dotenvFiles({ directory: path, mode: 'production', env });
    expect(await encrypted.get('DB_PASSWORD')).toBe(override);
  });
});

describe('a plaintext value in a dotenv file of encrypted values', () => {
  it('is refused in production, naming the variable and the file, never the value', async () => {
    const planted = canary();
    const { path, file, env } = await tampered(replaceLine('JWT_SECRET', `JWT_SECRET=${planted}`));
    const provider = dotenvFiles({ directory: path, mode: 'production', env });
    const error = await failure(provider.get('JWT_SECRET'));
    expect(isCustosError(error, 'ERR_ENV_VALUE_PLAINTEXT')).toBe(true);
    expect(error.message).toBe(
      `JWT_SECRET in ${file} is plaintext, but the file holds enc: values: an encrypted value may have been replaced. Encrypt it (custos env encrypt ${file}), or mark it as meant to be readable with a "# custos: plaintext" comment on its line or the line above`,
    );
    expect(`${error.message}\n${error.stack}`).not.toContain(planted);
    // The encrypted values of the file still load.
    expect(await provider.get('DB_PASSWORD')).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('is refused when moved out of the encrypted file into another committed file it loads with', async () => {
    // The encrypted line removed from .env.production and a known value put in the shared .env:
    // no single file mixes the two, yet the configuration of this mode does.
    const planted = canary();
    const { path, file, env } = await tampered(replaceLine('JWT_SECRET', ''), {
      '.env': `JWT_SECRET=${planted}\nLOG_LEVEL=info\n`,
    });
    const provider = dotenvFiles({ directory: path, mode: 'production', env });
    const error = await failure(provider.get('JWT_SECRET'));
    expect(error.code).toBe('ERR_ENV_VALUE_PLAINTEXT');
    expect(error.message).toMatch(
      new RegExp(
        `^JWT_SECRET in ${join(path, '.env')} is plaintext, while ${file} holds enc: values: `,
      ),
    );
    expect(`${error.message}\n${error.stack}`).not.toContain(planted);
    expect(await provider.get('LOG_LEVEL')).toBe('info');
    // Marked in the file that holds it, it is accepted.
    await writeFile(join(path, '.env'), `JWT_SECRET=${planted} # custos: plaintext\n`);
    const marked = dotenvFiles({ directory: path, mode: 'production', env });
    expect(await marked.get('JWT_SECRET')).toBe(planted);
  });

  it('is refused whatever the secret-looking name or form: keys, tokens, passwords, URLs with a password', async () => {
    for (const line of [
      `export API_TOKEN=${canary()}`,
      `SMTP_PASS='${canary()}'`,
      `STRIPE_SECRET_KEY="${canary()}"`,
      `DATABASE_URL=postgres://app:${canary()}@db.internal/app`,
    ]) {
      const name = /^(?:export )?([A-Z_]+)=/.exec(line)?.[1] as string;
      const { path, env } = await tampered((text) => `${text}${line}\n`);
      const error = await failure(
        dotenvFiles({ directory: path, mode: 'production', env }).get(name),
      );
      expect(error.code, line).toBe('ERR_ENV_VALUE_PLAINTEXT');
      expect(error.message).toMatch(new RegExp(`^${name} in `));
      expect(error.message).not.toContain(line.slice(line.indexOf('=') + 1).replace(/['"]/g, ''));
    }
  });

  it('warns outside production (once per file and variable), and the warning holds no value', async () => {
    const planted = canary();
    const { path, file, env } = await tampered(
      replaceLine('DB_PASSWORD', `DB_PASSWORD=${planted}`),
    );
    const warnings: string[] = [];
    const provider = dotenvFiles({
      directory: path,
      mode: 'staging',
      files: [file],
      env,
      onWarning: (message) => warnings.push(message),
    });
    expect(await provider.get('DB_PASSWORD')).toBe(planted);
    expect(await provider.get('DB_PASSWORD')).toBe(planted);
    expect(warnings).toEqual([
      `DB_PASSWORD in ${file} is plaintext, but the file holds enc: values: an encrypted value may have been replaced. Encrypt it (custos env encrypt ${file}), or mark it as meant to be readable with a "# custos: plaintext" comment on its line or the line above (refused in production)`,
    ]);
    expect(warnings.join('\n')).not.toContain(planted);
  });

  it('is accepted when marked as deliberately plain, on its line, on the line above, or by option', async () => {
    const publishable = `pk_live_${randomBytes(12).toString('hex')}`;
    const marked = await tampered(
      (text) =>
        `${text}# custos: plaintext\nSTRIPE_PUBLISHABLE_KEY=${publishable}\nPUBLIC_KEY=abc123def456 # custos:plaintext\nAPI_TOKEN=${publishable}\n`,
    );
    const warnings: string[] = [];
    const provider = dotenvFiles({
      directory: marked.path,
      mode: 'production',
      env: marked.env,
      onWarning: (m) => warnings.push(m),
      plaintextNames: ['API_TOKEN'],
    });
    expect(await provider.get('STRIPE_PUBLISHABLE_KEY')).toBe(publishable);
    expect(await provider.get('PUBLIC_KEY')).toBe('abc123def456');
    expect(await provider.get('API_TOKEN')).toBe(publishable);
    expect(warnings).toEqual([]);
    // A marker covers the next variable only.
    const next = await tampered(
      (text) =>
        `# custos: plaintext\nSTRIPE_PUBLISHABLE_KEY=x\n${text}SESSION_SECRET=${canary()}\n`,
    );
    const error = await failure(
      dotenvFiles({ directory: next.path, mode: 'production', env: next.env }).get(
        'SESSION_SECRET',
      ),
    );
    expect(error.code).toBe('ERR_ENV_VALUE_PLAINTEXT');
  });

  it('leaves alone plain settings and files without enc: values', async () => {
    const plainSetting = await tampered(
      (text) => `${text}PORT=8080\nLOG_LEVEL=debug\nDB_PASSWORD_FILE=/run/secrets/db\n`,
    );
    const reader = dotenvFiles({
      directory: plainSetting.path,
      mode: 'production',
      env: plainSetting.env,
    });
    expect(await reader.get('PORT')).toBe('8080');
    expect(await reader.get('DB_PASSWORD_FILE')).toBe('/run/secrets/db');

    const path = join(dir, `p${counter++}`);
    await mkdir(path);
    await writeFile(join(path, '.env.production'), `JWT_SECRET=${canary()}\n`, { mode: 0o600 });
    const allPlain = dotenvFiles({ directory: path, mode: 'production', env: {} });
    expect(await allPlain.get('JWT_SECRET')).toMatch(/^planted-/);
  });

  it('is a problem in checkEnvironment in production (custos validate, custos run) and a notice elsewhere', async () => {
    const planted = canary();
    const { path, env } = await tampered(replaceLine('JWT_SECRET', `JWT_SECRET=${planted}`));
    const production = await checkEnvironment({ directory: path, environment: 'production', env });
    expect(production.problems.map((p) => `${p.name}:${p.kind}`)).toEqual([
      'JWT_SECRET:unreadable',
    ]);
    expect(production.problems[0]?.detail).toMatch(
      /^unreadable: JWT_SECRET in .*\.env\.production is plaintext.*\[ERR_ENV_VALUE_PLAINTEXT\]$/,
    );
    const development = await checkEnvironment({
      directory: path,
      environment: 'development',
      envFiles: ['.env.production'],
      env,
    });
    expect(development.problems).toEqual([]);
    expect(development.notices).toEqual([
      expect.stringMatching(
        /^JWT_SECRET in .*\.env\.production is plaintext, .*\(refused in production\)$/,
      ),
    ]);
    expect(JSON.stringify([production.problems, development.notices])).not.toContain(planted);
  });

  it('custos env encrypt leaves a value marked as plaintext readable', async () => {
    const path = join(dir, `p${counter++}`);
    await mkdir(path);
    const file = join(path, '.env.production');
    await writeFile(
      file,
      `JWT_SECRET=${randomBytes(32).toString('hex')}\n# custos: plaintext\nPUBLIC_KEY=abc123def456\n`,
      { mode: 0o600 },
    );
    const env = { CUSTOS_ENV_KEY_PRODUCTION: generateEnvKey().reveal() };
    expect(await encryptEnvFile(file, { env })).toMatchObject({ encrypted: 1, unchanged: 0 });
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^JWT_SECRET=enc:v2:/m);
    expect(text).toContain('# custos: plaintext\nPUBLIC_KEY=abc123def456\n');
    const provider = dotenvFiles({ directory: path, mode: 'production', env });
    expect(await provider.get('PUBLIC_KEY')).toBe('abc123def456');
  });
});
