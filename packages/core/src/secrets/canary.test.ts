import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeProvider } from '../../test/fake-provider.js';
import { createScrubber } from '../redaction/scrubber.js';
import { createSecrets, type Secrets } from './client.js';
import { encryptEnvFile } from './env-file-crypt.js';
import { generateEnvKey } from './env-key.js';
import { checkEnvironment } from './environment.js';
import { dotenvFiles } from './provider-dotenv.js';
import { defineSecrets, secret } from './schema.js';

/**
 * Planted values: whatever fails, none of them may appear in any error (message, stack,
 * cause, serialisation, inspection), warning or returned report.
 */
const CANARIES = {
  WEAK: 'CANARY-9f1c-weak',
  PLACEHOLDER: 'your_CANARY-7d2e-secret_here',
  NOT_HEX: 'CANARY-3a8b-not-hex-but-long-enough-to-pass-the-length-rule',
  NOT_ALLOWED: 'CANARY-5c6d-storage',
  DEV: 'sk_test_CANARY4e8f0a1b2c3d4e5f6',
  GOOD: 'CANARY-1b3d-Zq8nV2wL5pR9xk3MZq8nV2wL5pR9xk3M',
  ROTATED: 'CANARY-2c4e-Zq8nV2wL5pR9xk3MZq8nV2wL5pR9xk3N',
} as const;

const schema = defineSecrets({
  WEAK: secret({ minBytes: 32 }),
  PLACEHOLDER: secret(),
  NOT_HEX: secret({ encoding: 'hex', minBytes: 16 }),
  NOT_ALLOWED: secret({ sensitive: false, oneOf: ['ipfs', 'arweave'] }),
  DEV: secret(),
  GOOD: secret({ minBytes: 32 }),
  MISSING: secret(),
});

const outputs: string[] = [];

function collect(value: unknown): void {
  if (value instanceof Error) {
    outputs.push(value.message, value.stack ?? '', String(value), JSON.stringify(value));
    outputs.push(inspect(value, { depth: 10, showHidden: true }));
    collect(value.cause);
    return;
  }
  if (value !== undefined)
    outputs.push(typeof value === 'string' ? value : inspect(value, { depth: 10 }));
}

/** Runs what must fail, collects everything the error shows, and returns it for its checks. */
async function failure(run: () => unknown): Promise<{ code?: string; message: string }> {
  let result: unknown;
  try {
    result = await run();
  } catch (err) {
    collect(err);
    return err as { code?: string; message: string };
  }
  collect(result);
  throw new Error('expected a failure, but it succeeded');
}

/** What the current case collected holds none of the planted values. */
function expectNoCanary(): void {
  const everything = [...outputs.slice(caseStart.outputs), ...warnings.slice(caseStart.warnings)];
  expect(everything.length, 'the case collected what to check').toBeGreaterThan(0);
  for (const canary of Object.values(CANARIES)) expect(everything.join('\n')).not.toContain(canary);
}

let dir: string;
const warnings: string[] = [];
const caseStart = { outputs: 0, warnings: 0 };
let processWarnings: ReturnType<typeof vi.spyOn>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-canary-'));
  processWarnings = vi.spyOn(process, 'emitWarning').mockImplementation((w) => {
    outputs.push(String(w));
  });
});
// Every case ends with the check of what it collected, so a leak fails the case that caused it.
beforeEach(() => {
  caseStart.outputs = outputs.length;
  caseStart.warnings = warnings.length;
});
afterEach(() => {
  expectNoCanary();
});
afterAll(async () => {
  processWarnings.mockRestore();
  await rm(dir, { recursive: true, force: true });
});

function sdk(environment: string, provider = fakeProvider({ ...CANARIES })): Secrets {
  return createSecrets({
    providers: [provider],
    environment,
    scrubber: createScrubber(),
    onWarning: (m) => warnings.push(m),
  });
}

describe('canary values never leave the SDK', () => {
  it('when a schema fails, in production and in development', async () => {
    const production = await failure(() => sdk('production').load(schema));
    expect(production).toMatchObject({ code: 'ERR_SECRETS_INVALID' });
    expect(production.message).toMatch(/^secrets configuration has 6 problems:\n/);
    // Development refuses only what is broken everywhere (short, not hex, missing).
    const development = await failure(() => sdk('development').load(schema));
    expect(development).toMatchObject({ code: 'ERR_SECRETS_INVALID' });
    expect(development.message).toMatch(/^secrets configuration has 3 problems:\n/);
    expect(outputs.join('\n')).toContain('WEAK: too short');
  });

  it('when single secrets fail their rules', async () => {
    const secrets = sdk('production');
    for (const name of Object.keys(CANARIES)) {
      const refused = await failure(() =>
        secrets.getRequiredSecret(name, secret({ encoding: 'hex', minBytes: 64 })),
      );
      expect(refused, name).toMatchObject({ code: 'ERR_WEAK_SECRET' });
      expect(refused.message, name).toMatch(new RegExp(`^${name}: `));
    }
    // Without a rule, production still refuses placeholders and test credentials.
    for (const name of ['PLACEHOLDER', 'DEV'] as const) {
      expect(await failure(() => secrets.getOptionalSecret(name)), name).toMatchObject({
        code: 'ERR_WEAK_SECRET',
        message: expect.stringMatching(new RegExp(`^${name}: `)),
      });
    }
    // The others load; what comes back prints as redacted.
    for (const name of ['WEAK', 'NOT_HEX', 'NOT_ALLOWED', 'GOOD', 'ROTATED'] as const) {
      const value = await secrets.getOptionalSecret(name);
      expect(value?.reveal(), name).toBe(CANARIES[name]);
      outputs.push(String(value), JSON.stringify(value), inspect(value, { depth: 5 }));
    }
    expect(await failure(() => secrets.getRequiredSecret('MISSING'))).toMatchObject({
      code: 'ERR_SECRET_MISSING',
      message: 'MISSING is not set (looked in: fake)',
    });
  });

  it('when a provider fails with an error that quotes a loaded value', async () => {
    const provider = fakeProvider({ GOOD: CANARIES.GOOD });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const secrets = createSecrets({
      providers: [provider],
      environment: 'production',
      scrubber: createScrubber(),
      onWarning: (m) => warnings.push(m),
    });
    await secrets.getRequiredSecret('GOOD');
    provider.failWith = new Error(`bad response body: {"GOOD":"${CANARIES.GOOD}"}`, {
      cause: new Error(`inner ${CANARIES.GOOD}`),
    });
    const unreadable = await failure(() => secrets.getRequiredSecret('OTHER'));
    expect(unreadable).toMatchObject({ code: 'ERR_SECRET_PROVIDER' });
    expect(unreadable.message).toContain('bad response body: {"GOOD":"[REDACTED]"}');
    vi.advanceTimersByTime(400_000);
    const stale = await secrets.getRequiredSecret('GOOD'); // served, with a warning
    expect(stale.reveal()).toBe(CANARIES.GOOD);
    collect(stale);
    vi.useRealTimers();
    expect(await failure(() => secrets.load(defineSecrets({ OTHER: secret() })))).toMatchObject({
      code: 'ERR_SECRETS_INVALID',
    });
    expect(warnings.join('\n')).toContain('serving the last good value of GOOD');
  });

  it('when a change listener throws with the new value', async () => {
    const provider = fakeProvider({ GOOD: CANARIES.GOOD });
    const secrets = sdk('development', provider);
    secrets.onChange('GOOD', (value) => {
      throw new Error(`cannot use ${value?.reveal()}`);
    });
    await secrets.getRequiredSecret('GOOD');
    provider.values.set('GOOD', CANARIES.ROTATED);
    provider.notify(['GOOD']);
    await vi.waitFor(() =>
      expect(warnings.join('\n')).toContain('onChange listener for GOOD threw'),
    );
    secrets.close();
  });

  it('when encrypted dotenv values cannot be read', async () => {
    const file = join(dir, '.env.production');
    await writeFile(file, `GOOD=${CANARIES.GOOD}\nWEAK=${CANARIES.WEAK}\n`, { mode: 0o600 });
    await encryptEnvFile(file, { env: {} });
    const encrypted = await readFile(file, 'utf8');
    const wrongKey = { CUSTOS_ENV_KEY_PRODUCTION: generateEnvKey().reveal() };
    const locked = dotenvFiles({
      directory: dir,
      mode: 'production',
      env: wrongKey,
      keysFile: join(dir, 'none'),
    });
    expect(await failure(() => locked.get('GOOD'))).toMatchObject({
      code: 'ERR_ENV_KEY_MISSING',
    });
    // Swap the two encrypted values: each is bound to its own name.
    const lines = encrypted.trim().split('\n');
    const swapped = `GOOD=${lines[1]?.split('=')[1]}\nWEAK=${lines[0]?.split('=')[1]}\n`;
    await writeFile(file, swapped, { mode: 0o600 });
    expect(
      await failure(() => dotenvFiles({ directory: dir, mode: 'production', env: {} }).get('GOOD')),
    ).toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
    const report = await checkEnvironment({ directory: dir, environment: 'production', env: {} });
    collect(report.problems);
    collect(report.warnings);
    collect(report);
    expect(report.problems.map((p) => p.kind)).toEqual(['unreadable', 'unreadable']);
  });

  it('when Standard Schema validation fails', async () => {
    vi.stubEnv('NODE_ENV', 'production');
    try {
      const whole = schema['~standard'].validate({ ...CANARIES });
      collect(whole);
      expect(whole).toMatchObject({
        issues: expect.arrayContaining([
          { message: expect.stringMatching(/^too short: /), path: ['WEAK'] },
          { message: 'missing', path: ['MISSING'] },
        ]),
      });
      const one = secret({ minBytes: 64 })['~standard'].validate(CANARIES.GOOD);
      collect(one);
      expect(one).toEqual({ issues: [{ message: 'too short: 44 of 64 bytes' }] });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('in what a successful load returns, printed or serialised', async () => {
    const config = await sdk('production').load(defineSecrets({ GOOD: secret({ minBytes: 32 }) }));
    expect(config.GOOD.reveal()).toBe(CANARIES.GOOD);
    outputs.push(JSON.stringify(config), inspect(config, { depth: 5 }), `${config.GOOD}`);
    expect(`${config.GOOD}`).toBe('[REDACTED]');
  });

  it('the check itself sees a planted value that leaks', () => {
    outputs.push(`leaked ${CANARIES.GOOD}`);
    try {
      expect(expectNoCanary).toThrow(/not to contain/);
    } finally {
      outputs[outputs.length - 1] = 'leaked [REDACTED]';
    }
  });
});
