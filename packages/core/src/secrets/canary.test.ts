import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createScrubber } from '../redaction/scrubber.js';
import { createSecrets, type Secrets } from './client.js';
import { encryptEnvFile } from './env-file-crypt.js';
import { generateEnvKey } from './env-key.js';
import { checkEnvironment } from './environment.js';
import { dotenvFiles } from './provider-dotenv.js';
import { defineSecrets, secret } from './schema.js';
import { fakeProvider } from './test-support.js';

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

async function failure(run: () => unknown): Promise<void> {
  try {
    await run();
    outputs.push('(no failure)');
  } catch (err) {
    collect(err);
  }
}

let dir: string;
const warnings: string[] = [];
let processWarnings: ReturnType<typeof vi.spyOn>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-canary-'));
  processWarnings = vi.spyOn(process, 'emitWarning').mockImplementation((w) => {
    outputs.push(String(w));
  });
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
    await failure(() => sdk('production').load(schema));
    await failure(() => sdk('development').load(schema));
    expect(outputs.join('\n')).toContain('WEAK: too short');
  });

  it('when single secrets fail their rules', async () => {
    const secrets = sdk('production');
    for (const name of Object.keys(CANARIES)) {
      await failure(() =>
        secrets.getRequiredSecret(name, secret({ encoding: 'hex', minBytes: 64 })),
      );
      await failure(() => secrets.getOptionalSecret(name));
    }
    await failure(() => secrets.getRequiredSecret('MISSING'));
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
    await failure(() => secrets.getRequiredSecret('OTHER'));
    vi.advanceTimersByTime(400_000);
    collect(await secrets.getRequiredSecret('GOOD')); // stale value served, with a warning
    vi.useRealTimers();
    await failure(() => secrets.load(defineSecrets({ OTHER: secret() })));
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
    await failure(() => locked.get('GOOD'));
    // Swap the two encrypted values: each is bound to its own name.
    const lines = encrypted.trim().split('\n');
    const swapped = `GOOD=${lines[1]?.split('=')[1]}\nWEAK=${lines[0]?.split('=')[1]}\n`;
    await writeFile(file, swapped, { mode: 0o600 });
    await failure(() => dotenvFiles({ directory: dir, mode: 'production', env: {} }).get('GOOD'));
    const report = await checkEnvironment({ directory: dir, environment: 'production', env: {} });
    collect(report.problems);
    collect(report.warnings);
    collect(report);
    expect(report.problems.map((p) => p.kind)).toEqual(['unreadable', 'unreadable']);
  });

  it('when Standard Schema validation fails', async () => {
    vi.stubEnv('NODE_ENV', 'production');
    try {
      collect(schema['~standard'].validate({ ...CANARIES }));
      collect(secret({ minBytes: 64 })['~standard'].validate(CANARIES.GOOD));
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('in what a successful load returns, printed or serialised', async () => {
    const config = await sdk('production').load(defineSecrets({ GOOD: secret({ minBytes: 32 }) }));
    outputs.push(JSON.stringify(config), inspect(config, { depth: 5 }), `${config.GOOD}`);
  });

  // Runs last (tests in a file run in order): checks everything the cases above collected.
  it('none of the planted values appears in anything collected', () => {
    expect(outputs.length).toBeGreaterThan(50);
    const everything = [...outputs, ...warnings].join('\n');
    for (const canary of Object.values(CANARIES)) expect(everything).not.toContain(canary);
  });
});
