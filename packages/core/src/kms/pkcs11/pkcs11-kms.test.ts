import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../../errors/index.js';
import { createFieldCipher } from '../../fields/index.js';
import { openKmsFromEnvironment } from '../kms-from-environment.js';
import { openPkcs11Kms, type Pkcs11Kms } from './pkcs11-kms.js';

// Debian's softhsm2 package (installed by .ci/run).
const LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
const TOKEN = 'custos-test';

let dir: string;
let pin: string;
let previousConf: string | undefined;

/** A fresh SoftHSM2 token in a temp dir of its own, with a random user PIN. */
beforeAll(async () => {
  if (!existsSync(LIBRARY)) throw new Error(`${LIBRARY} is missing: apt-get install softhsm2`);
  dir = await mkdtemp(join(tmpdir(), 'custos-softhsm-'));
  await writeFile(
    join(dir, 'softhsm2.conf'),
    `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  previousConf = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  pin = randomBytes(8).toString('hex');
  execFileSync(
    'softhsm2-util',
    [
      '--init-token',
      '--free',
      '--label',
      TOKEN,
      '--so-pin',
      randomBytes(8).toString('hex'),
      '--pin',
      pin,
    ],
    { env: process.env, stdio: 'pipe' },
  );
});

afterAll(async () => {
  if (previousConf === undefined) delete process.env.SOFTHSM2_CONF;
  else process.env.SOFTHSM2_CONF = previousConf;
  await rm(dir, { recursive: true, force: true });
});

async function open(keyLabel: string, extra: { pin?: string; create?: boolean } = {}) {
  return openPkcs11Kms({
    library: LIBRARY,
    tokenLabel: TOKEN,
    pin: extra.pin ?? pin,
    keyLabel,
    createKeyIfMissing: extra.create ?? true,
  });
}

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; text: string }> {
  try {
    await promise;
  } catch (err) {
    if (!isCustosError(err)) throw err;
    const cause = (err as Error & { cause?: unknown }).cause;
    return { code: err.code, text: `${err.message}\n${err.stack}\n${String(cause)}` };
  }
  throw new Error('expected a rejection');
}

describe('PKCS#11 KMS on a SoftHSM2 token', () => {
  it('wraps and unwraps data keys on the token, bound to the tenant', async () => {
    const kms = await open('wrap-keys');
    try {
      const { plaintext, wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
      expect(plaintext).toHaveLength(32);
      expect(wrapped).toMatch(/^pkcs11:v1:[A-Za-z0-9_-]+$/);
      expect(Buffer.from(wrapped).includes(Buffer.from(plaintext))).toBe(false);
      const unwrapped = await kms.unwrapDataKey(wrapped, { tenantId: 'acme' });
      expect(Buffer.from(unwrapped).equals(Buffer.from(plaintext))).toBe(true);
      expect(kms.describeWrappedKey(wrapped)).toEqual({ keyId: 'wrap-keys', keyVersion: 1 });

      expect((await codeOf(kms.unwrapDataKey(wrapped, { tenantId: 'other' }))).code).toBe(
        'ERR_DECRYPTION_FAILED',
      );
      expect((await codeOf(kms.unwrapDataKey(wrapped, {}))).code).toBe('ERR_DECRYPTION_FAILED');
      const body = Buffer.from(wrapped.slice('pkcs11:v1:'.length), 'base64url');
      body[20] = (body[20] as number) ^ 1;
      const tampered = `pkcs11:v1:${body.toString('base64url')}`;
      expect((await codeOf(kms.unwrapDataKey(tampered, { tenantId: 'acme' }))).code).toBe(
        'ERR_DECRYPTION_FAILED',
      );
      for (const bad of ['pkcs11:v0:AAAA', 'pkcs11:v1:', 'vault:v1:AAAA', `${wrapped}=`]) {
        expect((await codeOf(kms.unwrapDataKey(bad, { tenantId: 'acme' }))).code).toBe(
          'ERR_MALFORMED_CIPHERTEXT',
        );
      }
    } finally {
      await kms.close();
    }
  });

  it('encrypts and decrypts fields through FieldKms, across a reopen of the token', async () => {
    const first = await open('field-keys');
    const fc = createFieldCipher({ kms: first });
    const context = { table: 'patients', column: 'ssn', rowId: 7, tenantId: 'acme' };
    const value = randomBytes(12).toString('hex');
    const stored = await fc.encrypt(value, context);
    expect(await fc.decrypt(stored, context)).toBe(value);
    await first.close();

    const second = await open('field-keys', { create: false });
    try {
      const again = createFieldCipher({ kms: second });
      expect(await again.decrypt(stored, context)).toBe(value);
      await expect(again.decrypt(stored, { ...context, tenantId: 'other' })).rejects.toMatchObject({
        code: 'ERR_DECRYPTION_FAILED',
      });
    } finally {
      await second.close();
    }
  });

  it('follows key versions on rotation: new data keys under the new version, old ones still open', async () => {
    const kms = await open('rotating');
    try {
      const fc = createFieldCipher({ kms });
      const context = { table: 't', column: 'c', rowId: 1 };
      const old = await fc.encrypt('before', context);
      expect(await kms.currentKey()).toEqual({ keyId: 'rotating', keyVersion: 1 });
      expect(await kms.rotateKey()).toEqual({ keyId: 'rotating', keyVersion: 2 });
      expect(await kms.currentKey()).toEqual({ keyId: 'rotating', keyVersion: 2 });
      const { wrapped } = await kms.generateDataKey({});
      expect(kms.describeWrappedKey(wrapped).keyVersion).toBe(2);
      expect(await fc.decrypt(old, context)).toBe('before');
      const moved = await fc.reencrypt(old, context);
      expect((await fc.describe(moved)).keyVersion).toBe(2);
      expect((await fc.describe(old)).current).toBe(false);
    } finally {
      await kms.close();
    }
  });

  it('a wrong PIN is ERR_KMS_LOGIN_FAILED and never carries the PIN (canary)', async () => {
    const canary = `canary-${randomBytes(6).toString('hex')}`;
    const { code, text } = await codeOf(open('field-keys', { pin: canary }));
    expect(code).toBe('ERR_KMS_LOGIN_FAILED');
    expect(text).toContain('CKR_PIN_INCORRECT');
    expect(text).not.toContain(canary);
    // The right PIN still works after a refused one (the token is not left logged in or locked).
    const kms = await open('field-keys', { create: false });
    await kms.close();
  });

  it('checks the PIN of a second provider while the token is logged in, and keeps the first one working after the second closes', async () => {
    const first = await open('field-keys', { create: false });
    try {
      const canary = `canary-${randomBytes(6).toString('hex')}`;
      const refused = await codeOf(open('field-keys', { pin: canary, create: false }));
      expect(refused.code).toBe('ERR_KMS_LOGIN_FAILED');
      expect(refused.text).not.toContain(canary);
      const second = await open('wrap-keys', { create: false });
      const { wrapped } = await second.generateDataKey({ tenantId: 1 });
      await second.close();
      // The first provider's session is still logged in after the second's closed.
      const { plaintext, wrapped: mine } = await first.generateDataKey({ tenantId: 1 });
      const back = await first.unwrapDataKey(mine, { tenantId: 1 });
      expect(Buffer.from(back).equals(Buffer.from(plaintext))).toBe(true);
      expect(wrapped).toMatch(/^pkcs11:v1:/);
    } finally {
      await first.close();
    }
  });

  it('a missing key label, a missing token and a missing module are typed errors', async () => {
    const noKey = await codeOf(open('no-such-key', { create: false }));
    expect(noKey.code).toBe('ERR_KEY_NOT_FOUND');
    expect(noKey.text).toContain('no-such-key');
    expect(noKey.text).not.toContain(pin);

    const noToken = await codeOf(
      openPkcs11Kms({ library: LIBRARY, tokenLabel: 'absent', pin, keyLabel: 'field-keys' }),
    );
    expect(noToken.code).toBe('ERR_KEY_NOT_FOUND');
    expect(noToken.text).toContain('absent');
    expect(noToken.text).not.toContain(pin);

    const noLibrary = await codeOf(
      openPkcs11Kms({ library: join(dir, 'missing.so'), pin, keyLabel: 'field-keys' }),
    );
    expect(noLibrary.code).toBe('ERR_KMS_PROVIDER_MISSING');
    expect(noLibrary.text).toContain('missing.so');
    expect(noLibrary.text).not.toContain(pin);

    const notAModule = await codeOf(
      openPkcs11Kms({ library: join(dir, 'softhsm2.conf'), pin, keyLabel: 'field-keys' }),
    );
    expect(notAModule.code).toBe('ERR_KMS_PROVIDER_MISSING');
  });

  it('is selected by KMS_PROVIDER=pkcs11 and the PKCS11_* variables', async () => {
    const env = {
      KMS_PROVIDER: 'pkcs11',
      PKCS11_LIBRARY: LIBRARY,
      PKCS11_PIN: pin,
      PKCS11_KEY_LABEL: 'field-keys',
      PKCS11_TOKEN_LABEL: TOKEN,
      SOFTHSM2_CONF: process.env.SOFTHSM2_CONF,
    };
    const opened = await openKmsFromEnvironment(env);
    try {
      const fc = createFieldCipher({ kms: opened.kms });
      const context = { table: 'patients', column: 'ssn', rowId: 8 };
      expect(await fc.decrypt(await fc.encrypt('env', context), context)).toBe('env');
    } finally {
      await opened.close();
    }
    const canary = `canary-${randomBytes(6).toString('hex')}`;
    const refused = await codeOf(openKmsFromEnvironment({ ...env, PKCS11_PIN: canary }));
    expect(refused.code).toBe('ERR_KMS_LOGIN_FAILED');
    expect(refused.text).not.toContain(canary);
  });

  it('refuses to work once closed', async () => {
    const kms: Pkcs11Kms = await open('field-keys', { create: false });
    await kms.close();
    await kms.close();
    await expect(kms.generateDataKey({})).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
