/**
 * Test support for the PKCS#11 seal: a fresh SoftHSM2 token in a directory of its own
 * (`SOFTHSM2_CONF` points at it for the test process), with random PINs.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's softhsm2 package (installed by .ci/run). */
export const SOFTHSM_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';

/**
 * Set (to `1`) by the mutation run (bench/mutation/run.ts), which runs tests in worker threads:
 * a worker's `process.env` is a copy that SoftHSM2's `getenv` never sees, so the run points
 * `SOFTHSM2_CONF` at a token directory of its own before any test process starts. Tokens are
 * then made in that directory, each under a label of its own, and deleted by label.
 */
const SHARED_CONF = 'CUSTOS_SOFTHSM2_SHARED';

export interface SoftHsmToken {
  readonly label: string;
  readonly pin: string;
  /** A directory of the test's own (the token's, unless the token directory is shared). */
  readonly dir: string;
  /** The slot number the token was reassigned to. */
  readonly slot: string;
  /** Deletes the token and restores `SOFTHSM2_CONF`. */
  cleanup(): Promise<void>;
}

function initToken(label: string, pin: string): string {
  const out = execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--so-pin', randomBytes(8).toString('hex')].concat(
      ['--pin', pin],
    ),
    { env: process.env, stdio: 'pipe' },
  ).toString('utf8');
  const slot = /reassigned to slot (\d+)/.exec(out)?.[1];
  if (slot === undefined) throw new Error(`softhsm2-util did not name the slot: ${out}`);
  return slot;
}

/**
 * Initialises a token labelled `label` (with a random suffix when the token directory is
 * shared) in a temp dir; fails (never skips) without SoftHSM2.
 */
export async function createSoftHsmToken(label: string): Promise<SoftHsmToken> {
  if (!existsSync(SOFTHSM_LIBRARY))
    throw new Error(`${SOFTHSM_LIBRARY} is missing: apt-get install softhsm2`);
  const dir = await mkdtemp(join(tmpdir(), 'custos-seal-hsm-'));
  const pin = randomBytes(8).toString('hex');
  if (process.env[SHARED_CONF] === '1') {
    if (process.env.SOFTHSM2_CONF === undefined)
      throw new Error(`${SHARED_CONF} is set but SOFTHSM2_CONF is not`);
    // PKCS#11 labels hold 32 characters.
    const own = `${label.slice(0, 21)}-${randomBytes(5).toString('hex')}`;
    const slot = initToken(own, pin);
    return {
      label: own,
      pin,
      dir,
      slot,
      async cleanup() {
        execFileSync('softhsm2-util', ['--delete-token', '--token', own], { stdio: 'pipe' });
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await writeFile(
    join(dir, 'softhsm2.conf'),
    `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  const slot = initToken(label, pin);
  return {
    label,
    pin,
    dir,
    slot,
    async cleanup() {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
