import { randomBytes } from 'node:crypto';
// The official interface, present through vitest; a type import only, not a dependency.
import type { StandardSchemaV1 as OfficialStandardSchemaV1 } from '@standard-schema/spec';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { isCustosError } from '../errors/index.js';
import { redact } from '../redaction/scrubber.js';
import { Secret } from '../redaction/secret.js';
import { defineSecrets, isSecretsSchema, secret } from './schema.js';
import type { StandardResult } from './standard-schema.js';
import { validateRules } from './validate.js';

const hex32 = () => randomBytes(32).toString('hex');

/** Seed 004's backend variables, as a custos schema. */
const seed004 = defineSecrets({
  DB_HOST: secret({ sensitive: false }),
  DB_PASSWORD: secret(),
  REDIS_PASSWORD: secret(),
  JWT_SECRET: secret({ minBytes: 32 }),
  JWT_REFRESH_SECRET: secret({ minBytes: 32 }),
  ADMIN_API_KEY: secret({ encoding: 'hex', minBytes: 32 }),
  EMAIL_ENABLED: secret({ sensitive: false, oneOf: ['true', 'false'], optional: true }),
  SMTP_HOST: secret({ sensitive: false, requiredWhen: { EMAIL_ENABLED: 'true' } }),
  SMTP_USER: secret({ sensitive: false, requiredWhen: { EMAIL_ENABLED: 'true' } }),
  SMTP_PASS: secret({ requiredWhen: { EMAIL_ENABLED: 'true' } }),
  STORAGE_TYPE: secret({ sensitive: false, oneOf: ['ipfs', 'arweave', 'both'] }),
  IPFS_HOST: secret({ sensitive: false, requiredWhen: { STORAGE_TYPE: ['ipfs', 'both'] } }),
  IPFS_PROJECT_ID: secret({ sensitive: false, requiredWhen: { STORAGE_TYPE: ['ipfs', 'both'] } }),
  IPFS_PROJECT_SECRET: secret({ requiredWhen: { STORAGE_TYPE: ['ipfs', 'both'] } }),
  ARWEAVE_HOST: secret({ sensitive: false, requiredWhen: { STORAGE_TYPE: ['arweave', 'both'] } }),
  ARWEAVE_WALLET_KEY: secret({ minBytes: 64, requiredWhen: { STORAGE_TYPE: ['arweave', 'both'] } }),
});

function goodEnv(): Record<string, string> {
  return {
    DB_HOST: 'db.internal',
    DB_PASSWORD: randomBytes(18).toString('base64'),
    REDIS_PASSWORD: randomBytes(18).toString('base64'),
    JWT_SECRET: randomBytes(48).toString('base64'),
    JWT_REFRESH_SECRET: randomBytes(48).toString('base64'),
    ADMIN_API_KEY: hex32(),
    STORAGE_TYPE: 'ipfs',
    IPFS_HOST: 'ipfs.infura.io',
    IPFS_PROJECT_ID: '2FHd8sXq',
    IPFS_PROJECT_SECRET: randomBytes(24).toString('base64'),
  };
}

function check(values: Record<string, string>, production: boolean) {
  return validateRules(seed004.rules, (name) => values[name], { production });
}

describe('secret()', () => {
  it('fills the documented defaults', () => {
    expect(secret().rule).toEqual({
      encoding: 'any',
      minBytes: 16,
      minEntropyBits: 48,
      optional: false,
      requiredWhen: undefined,
      sensitive: true,
      oneOf: undefined,
    });
    expect(secret({ sensitive: false }).rule).toMatchObject({ minBytes: 1, minEntropyBits: 0 });
    expect(secret({ encoding: 'pem' }).rule.minEntropyBits).toBe(0);
    expect(secret({ minBytes: 32, minEntropyBits: 0 }).rule.minEntropyBits).toBe(0);
  });

  it('refuses bad options with ERR_INVALID_SCHEMA naming the option', () => {
    const bad: unknown[] = [
      { encoding: 'rot13' },
      { minBytes: -1 },
      { minBytes: 1.5 },
      { minEntropyBits: Number.NaN },
      { optional: 'yes' },
      { oneOf: [] },
      { requiredWhen: {} },
      { requiredWhen: { EMAIL_ENABLED: [] } },
      { requiredWhen: ['EMAIL_ENABLED'] },
      { minByte: 32 },
    ];
    for (const options of bad) {
      let caught: unknown;
      try {
        secret(options as never);
      } catch (err) {
        caught = err;
      }
      expect(isCustosError(caught, 'ERR_INVALID_SCHEMA'), JSON.stringify(options)).toBe(true);
    }
  });

  it('types its result from the options', () => {
    expectTypeOf(secret()).toHaveProperty('~standard');
    const schema = defineSecrets({
      A: secret(),
      B: secret({ optional: true }),
      C: secret({ sensitive: false }),
      D: secret({ sensitive: false, oneOf: ['x', 'y'] }),
      E: secret({ requiredWhen: { C: 'on' } }),
    });
    type Out = NonNullable<(typeof schema)['~standard']['types']>['output'];
    expectTypeOf<Out['A']>().toEqualTypeOf<Secret<string>>();
    expectTypeOf<Out['B']>().toEqualTypeOf<Secret<string> | undefined>();
    expectTypeOf<Out['C']>().toEqualTypeOf<string>();
    expectTypeOf<Out['D']>().toEqualTypeOf<'x' | 'y'>();
    expectTypeOf<Out['E']>().toEqualTypeOf<Secret<string> | undefined>();
  });
});

describe('defineSecrets', () => {
  it('accepts seed 004 configured well, with typed, wrapped values', () => {
    const result = check(goodEnv(), true);
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.values.JWT_SECRET).toBeInstanceOf(Secret);
    expect(result.values.STORAGE_TYPE).toBe('ipfs');
    expect(result.values.SMTP_PASS).toBeUndefined();
    expect(JSON.stringify(result.values)).not.toContain(goodEnv().DB_PASSWORD as string);
  });

  it('requires SMTP_* only when EMAIL_ENABLED=true (case-insensitive)', () => {
    const off = check({ ...goodEnv(), EMAIL_ENABLED: 'false' }, true);
    expect(off.problems).toEqual([]);
    const on = check({ ...goodEnv(), EMAIL_ENABLED: 'true' }, true);
    expect(on.problems.map((p) => [p.name, p.detail])).toEqual([
      ['SMTP_HOST', 'missing (required when EMAIL_ENABLED=true)'],
      ['SMTP_USER', 'missing (required when EMAIL_ENABLED=true)'],
      ['SMTP_PASS', 'missing (required when EMAIL_ENABLED=true)'],
    ]);
    const upper = validateRules(
      defineSecrets({ X: secret({ requiredWhen: { FLAG: 'true' } }) }).rules,
      (name) => (name === 'FLAG' ? ' TRUE ' : undefined),
      { production: true },
    );
    expect(upper.problems).toHaveLength(1);
  });

  it('requires the storage variables STORAGE_TYPE selects', () => {
    const base = goodEnv();
    const missing = (type: string) =>
      check(
        Object.fromEntries(
          Object.entries({ ...base, STORAGE_TYPE: type }).filter(([k]) => !k.startsWith('IPFS_')),
        ),
        true,
      ).problems.map((p) => p.name);
    expect(missing('ipfs')).toEqual(['IPFS_HOST', 'IPFS_PROJECT_ID', 'IPFS_PROJECT_SECRET']);
    expect(missing('arweave')).toEqual(['ARWEAVE_HOST', 'ARWEAVE_WALLET_KEY']);
    expect(missing('both')).toEqual([
      'IPFS_HOST',
      'IPFS_PROJECT_ID',
      'IPFS_PROJECT_SECRET',
      'ARWEAVE_HOST',
      'ARWEAVE_WALLET_KEY',
    ]);
    expect(check({ ...base, STORAGE_TYPE: 's3' }, true).problems).toEqual([
      { name: 'STORAGE_TYPE', kind: 'not-allowed', detail: 'must be one of ipfs, arweave, both' },
    ]);
  });

  it('lists every problem at once, one per variable, never a value', () => {
    const values = {
      ...goodEnv(),
      DB_PASSWORD: 'changeme',
      REDIS_PASSWORD: 'Qwerty123!',
      JWT_SECRET: 'short-but-random-Zx81',
      JWT_REFRESH_SECRET: 'a'.repeat(40),
      ADMIN_API_KEY: 'not-hex-at-all-but-long-enough-for-the-rule-0123',
      DB_HOST: '',
    };
    const result = check(values, true);
    expect(result.problems.map((p) => [p.name, p.kind])).toEqual([
      ['DB_HOST', 'missing'],
      ['DB_PASSWORD', 'placeholder'],
      ['REDIS_PASSWORD', 'weak'],
      ['JWT_SECRET', 'too-short'],
      ['JWT_REFRESH_SECRET', 'weak'],
      ['ADMIN_API_KEY', 'encoding'],
    ]);
    expect(result.problems.find((p) => p.name === 'JWT_SECRET')?.detail).toBe(
      'too short: 21 of 32 bytes',
    );
    const text = JSON.stringify(result.problems);
    for (const value of Object.values(values)) {
      if (value !== '') expect(text).not.toContain(value);
    }
  });

  it('warns about weak values in development and refuses them in production', () => {
    const values = { ...goodEnv(), JWT_SECRET: 'your_jwt_secret_minimum_32_characters' };
    const development = check(values, false);
    expect(development.problems).toEqual([]);
    expect(development.warnings.map((p) => [p.name, p.kind])).toEqual([
      ['JWT_SECRET', 'placeholder'],
    ]);
    expect(check(values, true).problems.map((p) => p.kind)).toEqual(['placeholder']);
  });

  it('accepts development credentials in development only', () => {
    const values = { ...goodEnv(), DB_PASSWORD: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc' };
    expect(check(values, false)).toMatchObject({ problems: [], warnings: [] });
    expect(check(values, true).problems.map((p) => p.kind)).toEqual(['development-value']);
  });

  it('reports low entropy separately from length', () => {
    const schema = defineSecrets({ TOKEN: secret({ minBytes: 16 }) });
    const result = validateRules(schema.rules, () => 'abababababababababab12', {
      production: true,
    });
    expect(result.problems).toEqual([
      { name: 'TOKEN', kind: 'low-entropy', detail: 'low entropy: about 31 of 48 bits' },
    ]);
  });

  it('lists the variables to read, conditions included, and refuses bad names', () => {
    expect(isSecretsSchema(seed004)).toBe(true);
    expect(seed004.names).toContain('EMAIL_ENABLED');
    const schema = defineSecrets({ SMTP_PASS: secret({ requiredWhen: { MAIL_ON: '1' } }) });
    expect(schema.names).toEqual(['SMTP_PASS', 'MAIL_ON']);
    expect(() => defineSecrets({ 'BAD NAME': secret() })).toThrow(/not a valid variable name/);
    expect(() => defineSecrets({ X: 'secret' as never })).toThrow(/expected a rule/);
  });
});

describe('Standard Schema', () => {
  it('validates a record such as process.env', () => {
    const standard = seed004['~standard'];
    expect(standard).toMatchObject({ version: 1, vendor: 'custos' });
    const ok = standard.validate(goodEnv()) as StandardResult<Record<string, unknown>>;
    expect(ok.issues).toBeUndefined();
    const bad = standard.validate({ ...goodEnv(), JWT_SECRET: undefined }) as StandardResult<
      Record<string, unknown>
    >;
    expect(bad.issues).toEqual([{ message: 'missing', path: ['JWT_SECRET'] }]);
    expect((standard.validate(42) as { issues: unknown[] }).issues).toHaveLength(1);
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('satisfies the official StandardSchemaV1 interface of @standard-schema/spec', () => {
    expectTypeOf(seed004).toExtend<OfficialStandardSchemaV1>();
    expectTypeOf(secret({ minBytes: 32 })).toExtend<
      OfficialStandardSchemaV1<unknown, Secret<string>>
    >();
    type Out = OfficialStandardSchemaV1.InferOutput<typeof seed004>;
    expectTypeOf<Out['JWT_SECRET']>().toEqualTypeOf<Secret<string>>();
    expectTypeOf<Out['SMTP_PASS']>().toEqualTypeOf<Secret<string> | undefined>();
    expectTypeOf<Out['STORAGE_TYPE']>().toEqualTypeOf<'ipfs' | 'arweave' | 'both'>();
    // And works where a consumer of the official interface calls it.
    const validate = (schema: OfficialStandardSchemaV1, input: unknown) =>
      schema['~standard'].validate(input);
    expect(validate(seed004, goodEnv())).toMatchObject({ value: { DB_HOST: 'db.internal' } });
    expect(validate(secret(), undefined)).toEqual({ issues: [{ message: 'missing' }] });
  });

  it('registers what it validates with the scrubber, as loading does, even when it fails', () => {
    vi.stubEnv('NODE_ENV', 'production');
    const canary = () => `CANARY-${randomBytes(18).toString('base64url')}`;
    const [good, short, single, urlPassword] = [canary(), canary(), canary(), canary()];
    const host = `db-${randomBytes(6).toString('hex')}.internal`;
    const schema = defineSecrets({
      DB_PASSWORD: secret(),
      JWT_SECRET: secret({ minBytes: 64 }),
      DB_HOST: secret({ sensitive: false }),
      DATABASE_URL: secret({ sensitive: false }),
    });
    const result = schema['~standard'].validate({
      DB_PASSWORD: good,
      JWT_SECRET: short,
      DB_HOST: host,
      DATABASE_URL: `postgres://app:${urlPassword}@${host}/app`,
    }) as StandardResult<unknown>;
    expect(result.issues?.map((i) => i.path)).toEqual([['JWT_SECRET']]);
    expect(secret()['~standard'].validate(single)).toMatchObject({ value: expect.any(Secret) });

    const line = `login ${good} ${short} ${single} ${urlPassword} at ${host}`;
    // The secrets go; a plain setting stays readable.
    expect(redact(line)).toBe(`login [REDACTED] [REDACTED] [REDACTED] [REDACTED] at ${host}`);
  });

  it('validates a single value with one rule, by the NODE_ENV of the process', () => {
    vi.stubEnv('NODE_ENV', 'production');
    const rule = secret({ encoding: 'hex', minBytes: 32 })['~standard'];
    const value = hex32();
    const ok = rule.validate(value) as { value: Secret<string> };
    expect(ok.value.reveal()).toBe(value);
    expect(rule.validate(undefined)).toEqual({ issues: [{ message: 'missing' }] });
    expect(rule.validate(42)).toEqual({ issues: [{ message: 'expected a string' }] });
    expect(rule.validate('9f3a')).toEqual({ issues: [{ message: 'too short: 2 of 32 bytes' }] });
    const conditional = secret({ requiredWhen: { A: 'x' } })['~standard'];
    expect(conditional.validate(undefined)).toEqual({ value: undefined });
    // Outside production a weak value passes, with a process warning.
    vi.stubEnv('NODE_ENV', 'development');
    const warned = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    expect(rule.validate('9f3a')).toMatchObject({ value: expect.any(Secret) });
    expect(warned).toHaveBeenCalledWith('value: too short: 2 of 32 bytes', {
      code: 'CUSTOS_SECRETS',
    });
    warned.mockRestore();
  });
});
