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

export interface SoftHsmToken {
  readonly label: string;
  readonly pin: string;
  readonly dir: string;
  /** The slot number the token was reassigned to. */
  readonly slot: string;
  /** Deletes the token and restores `SOFTHSM2_CONF`. */
  cleanup(): Promise<void>;
}

/** Initialises a token labelled `label` in a temp dir; fails (never skips) without SoftHSM2. */
export async function createSoftHsmToken(label: string): Promise<SoftHsmToken> {
  if (!existsSync(SOFTHSM_LIBRARY))
    throw new Error(`${SOFTHSM_LIBRARY} is missing: apt-get install softhsm2`);
  const dir = await mkdtemp(join(tmpdir(), 'custos-seal-hsm-'));
  await writeFile(
    join(dir, 'softhsm2.conf'),
    `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  const pin = randomBytes(8).toString('hex');
  const out = execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--so-pin', randomBytes(8).toString('hex')].concat(
      ['--pin', pin],
    ),
    { env: process.env, stdio: 'pipe' },
  ).toString('utf8');
  const slot = /reassigned to slot (\d+)/.exec(out)?.[1];
  if (slot === undefined) throw new Error(`softhsm2-util did not name the slot: ${out}`);
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
