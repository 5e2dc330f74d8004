import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsmToken, SOFTHSM_LIBRARY, type SoftHsmToken } from '../../test/softhsm.js';
import { createPkcs11Seal, type Pkcs11SealConfig } from './pkcs11-seal.js';
import type { WrappedRootKey } from './root-key-wrapper.js';

let token: SoftHsmToken;
beforeAll(async () => {
  token = await createSoftHsmToken('seal-unit');
});
afterAll(async () => {
  await token.cleanup();
});

const stanza = (extra: Partial<Pkcs11SealConfig> = {}): Pkcs11SealConfig => ({
  type: 'pkcs11',
  lib: SOFTHSM_LIBRARY,
  token_label: token.label,
  key_label: 'root-wrap',
  generate_key: true,
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
  throw new Error('expected a rejection');
}

describe('the PKCS#11 seal on SoftHSM2', () => {
  it.each(['CKM_AES_GCM', 'CKM_AES_KEY_WRAP_PAD'])(
    'wraps and unwraps a root key with %s (the wrapped form holds no key bytes)',
    async (mechanism) => {
      const seal = createPkcs11Seal(stanza({ mechanism }), { HSM_PIN: token.pin });
      const rootKey = randomBytes(32);
      const wrapped = await seal.wrap(rootKey);
      expect(wrapped).toMatchObject({ type: 'pkcs11', keyId: 'root-wrap', keyVersion: 1 });
      expect(wrapped.ciphertext).toMatch(mechanism === 'CKM_AES_GCM' ? /^gcm:/ : /^kwp:/);
      const body = Buffer.from(wrapped.ciphertext.slice(4), 'base64');
      expect(body.includes(rootKey.subarray(0, 8))).toBe(false);
      expect((await seal.unwrap(wrapped)).equals(rootKey)).toBe(true);
      // The stored form names its mechanism: a seal configured with the other one still opens it.
      const other = createPkcs11Seal(
        stanza({
          mechanism: mechanism === 'CKM_AES_GCM' ? 'CKM_AES_KEY_WRAP_PAD' : 'CKM_AES_GCM',
          generate_key: false,
        }),
        { HSM_PIN: token.pin },
      );
      expect((await other.unwrap(wrapped)).equals(rootKey)).toBe(true);
      // Altered in storage: refused, typed.
      body[body.length - 3] = (body[body.length - 3] as number) ^ 1;
      const altered = {
        ...wrapped,
        ciphertext: `${wrapped.ciphertext.slice(0, 4)}${body.toString('base64')}`,
      };
      const refused = await failure(seal.unwrap(altered));
      expect(refused.code).toBe('ERR_SEAL_UNAVAILABLE');
      expect(refused.message).toContain('ERR_DECRYPTION_FAILED');
    },
  );

  it('finds the token by slot number and takes lib, key label, slot and PIN from HSM_*', async () => {
    const seal = createPkcs11Seal(
      { type: 'pkcs11', generate_key: true },
      {
        HSM_LIB_PATH: SOFTHSM_LIBRARY,
        HSM_SLOT: token.slot,
        HSM_KEY_LABEL: 'from-env',
        HSM_PIN: token.pin,
      },
    );
    expect(seal.description).toBe(
      `pkcs11 seal ${SOFTHSM_LIBRARY} slot ${token.slot} key "from-env"`,
    );
    const rootKey = randomBytes(32);
    expect((await seal.unwrap(await seal.wrap(rootKey))).equals(rootKey)).toBe(true);
    const { token_label: _label, ...bySlot } = stanza({ slot: '7' });
    const wrongSlot = createPkcs11Seal(bySlot, { HSM_PIN: token.pin });
    expect((await failure(wrongSlot.wrap(rootKey))).message).toContain('slot 7');
  });

  it('reads the PIN from pin_file, and refuses a stanza without a PIN', async () => {
    const file = join(token.dir, 'pin');
    await writeFile(file, `${token.pin}\n`, { mode: 0o600 });
    const seal = createPkcs11Seal(stanza({ pin_file: file }), {});
    const rootKey = randomBytes(32);
    expect((await seal.unwrap(await seal.wrap(rootKey))).equals(rootKey)).toBe(true);
    expect(() => createPkcs11Seal(stanza(), {})).toThrow(/PIN is missing/);
    expect(() => createPkcs11Seal(stanza({ pin_file: join(token.dir, 'none') }), {})).toThrow(
      /pin_file/,
    );
    expect(() => createPkcs11Seal({ type: 'pkcs11', key_label: 'k' }, { HSM_PIN: 'x' })).toThrow(
      /HSM_LIB_PATH/,
    );
  });

  it('names a wrong PIN (never the PIN) and does not try it again, so the token never locks', async () => {
    const canary = `CANARY${randomBytes(6).toString('hex')}`;
    const seal = createPkcs11Seal(stanza(), { HSM_PIN: canary });
    const first = await failure(seal.wrap(randomBytes(32)));
    expect(first.code).toBe('ERR_SEAL_UNAVAILABLE');
    expect(first.message).toContain('CKR_PIN_INCORRECT');
    expect(first.message).not.toContain(canary);
    const again = await failure(
      seal.unwrap({ type: 'pkcs11', keyId: 'root-wrap', keyVersion: 1, ciphertext: 'gcm:AAAA' }),
    );
    expect(again.message).toContain('not tried again');
    expect(again.message).not.toContain(canary);
    // The right PIN still logs in: the wrong one was tried once, not until the token locked.
    const good = createPkcs11Seal(stanza(), { HSM_PIN: token.pin });
    const rootKey = randomBytes(32);
    expect((await good.unwrap(await good.wrap(rootKey))).equals(rootKey)).toBe(true);
  });

  it('names a missing key, a missing version, an absent token and a missing module', async () => {
    const rootKey = randomBytes(32);
    const wrapped = await createPkcs11Seal(stanza(), { HSM_PIN: token.pin }).wrap(rootKey);
    const noKey = createPkcs11Seal(stanza({ key_label: 'nobody', generate_key: false }), {
      HSM_PIN: token.pin,
    });
    const noKeyWrap = await failure(noKey.wrap(rootKey));
    expect(noKeyWrap.message).toContain('no AES key labelled "nobody"');
    const foreign = await failure(noKey.unwrap(wrapped));
    expect(foreign.message).toContain('wrapped by pkcs11 key "root-wrap"');
    const seal = createPkcs11Seal(stanza(), { HSM_PIN: token.pin });
    const v9: WrappedRootKey = { ...wrapped, keyVersion: 9 };
    expect((await failure(seal.unwrap(v9))).message).toContain('no version 9');
    const absent = createPkcs11Seal(stanza({ token_label: 'unplugged' }), { HSM_PIN: token.pin });
    const absentError = await failure(absent.unwrap(wrapped));
    expect(absentError.code).toBe('ERR_SEAL_UNAVAILABLE');
    expect(absentError.message).toContain('no PKCS#11 token is labelled "unplugged"');
    const noModule = createPkcs11Seal(stanza({ lib: join(token.dir, 'missing.so') }), {
      HSM_PIN: token.pin,
    });
    const noModuleError = await failure(noModule.unwrap(wrapped));
    expect(noModuleError.code).toBe('ERR_SEAL_UNAVAILABLE');
    expect(noModuleError.message).toContain('ERR_KMS_PROVIDER_MISSING');
  });
});
