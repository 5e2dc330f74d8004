import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CustosError } from '../errors/index.js';
import { LocalKms } from './local-kms.js';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return { code: (err as CustosError).code, message: (err as Error).message };
  }
  return undefined;
};

const outcome = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return (err as CustosError).code;
  }
};

const DAY_MS = 86_400_000;

/** Every lifecycle state, and how a key (exportable, backed up, readable after revocation) gets there. */
const STATES = {
  active: [],
  rotating: ['rotating'],
  inactive: ['inactive'],
  revoked: ['revoked'],
  expired: 'clock',
  pending_deletion: ['pending_deletion'],
  'pending_deletion after revocation': ['revoked', 'pending_deletion'],
} as const;

/** What each state allows: backup, a change of revocation settings, a forced restore over it. */
const EXPECTED: Record<keyof typeof STATES, { backup: string; config: string; replace: string }> = {
  active: { backup: 'ok', config: 'ok', replace: 'ok' },
  rotating: { backup: 'ok', config: 'ok', replace: 'ok' },
  inactive: { backup: 'ok', config: 'ok', replace: 'ok' },
  revoked: {
    backup: 'ERR_KEY_DISABLED',
    config: 'ERR_INVALID_KEY_STATE',
    replace: 'ERR_INVALID_KEY_STATE',
  },
  expired: { backup: 'ERR_KEY_DISABLED', config: 'ok', replace: 'ERR_INVALID_KEY_STATE' },
  pending_deletion: {
    backup: 'ERR_KEY_DISABLED',
    config: 'ok',
    replace: 'ERR_INVALID_KEY_STATE',
  },
  'pending_deletion after revocation': {
    backup: 'ERR_KEY_DISABLED',
    config: 'ERR_INVALID_KEY_STATE',
    replace: 'ERR_INVALID_KEY_STATE',
  },
};

function kmsWithKeyIn(state: keyof typeof STATES) {
  let nowMs = Date.parse('2026-05-01T00:00:00Z');
  const kms = new LocalKms({ now: () => new Date(nowMs) });
  kms.createKey('k', {
    exportable: true,
    allowPlaintextBackup: true,
    expiresAt: new Date(nowMs + DAY_MS).toISOString(),
  });
  const earlier = kms.backup('k');
  const steps = STATES[state];
  if (steps === 'clock') nowMs += 2 * DAY_MS;
  else for (const step of steps) kms.setState('k', step);
  return { kms, earlier };
}

describe('LocalKms: key material and revocation settings follow the lifecycle', () => {
  for (const [state, expected] of Object.entries(EXPECTED) as [
    keyof typeof STATES,
    (typeof EXPECTED)[keyof typeof STATES],
  ][]) {
    it(`${state}: backup ${expected.backup}, revocation settings ${expected.config}, forced restore over it ${expected.replace}`, () => {
      const { kms, earlier } = kmsWithKeyIn(state);
      const stateBefore = kms.readKey('k').state;
      expect(stateBefore).toBe(state.split(' ')[0]);
      expect(outcome(() => kms.backup('k'))).toBe(expected.backup);
      expect(outcome(() => kms.configure('k', { decryptAfterRevocation: true }))).toBe(
        expected.config,
      );
      // Re-stating what the key already has is no change, in every state.
      expect(
        outcome(() =>
          kms.configure('k', {
            decryptAfterRevocation: kms.readKey('k').decrypt_after_revocation as boolean,
          }),
        ),
      ).toBe('ok');
      // deletion_allowed stays open so that a revoked key can still be deleted.
      expect(outcome(() => kms.configure('k', { deletionAllowed: true }))).toBe('ok');
      // A backup taken before the revocation cannot replace the key either.
      expect(outcome(() => kms.restore(earlier, { force: true }))).toBe(expected.replace);
      if (expected.replace !== 'ok') expect(kms.readKey('k').state).toBe(stateBefore);
    });
  }

  it('a revoked key keeps every setting but deletion_allowed, and the refusal names the field', () => {
    const kms = new LocalKms();
    kms.createKey('k');
    kms.setState('k', 'revoked');
    const refusals = [
      { decryptAfterRevocation: true },
      { exportable: true },
      { allowPlaintextBackup: true },
      { minDecryptionVersion: 0, minEncryptionVersion: 1 },
      { autoRotatePeriodSeconds: 7200 },
      { rotateAfterEncryptions: 10 },
      { expiresAt: '2030-01-01T00:00:00Z' },
    ];
    const messages = refusals.map((change) => {
      try {
        kms.configure('k', change);
        return 'accepted';
      } catch (err) {
        return (err as Error).message.replace(/^key k was revoked: (.*) cannot change.*$/, '$1');
      }
    });
    expect(messages).toEqual([
      'decrypt_after_revocation',
      'exportable',
      'allow_plaintext_backup',
      'min_encryption_version',
      'auto_rotate_period',
      'rotate_after_encryptions',
      'expires_at',
    ]);
    kms.configure('k', { deletionAllowed: true });
    kms.deleteKey('k');
    expect(kms.listKeys()).toEqual([]);
  });

  it('revoked material never comes back: not under another name, not after deletion and a reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-kms-'));
    try {
      const file = join(dir, 'kms.json');
      const kms = await LocalKms.open(file);
      kms.createKey('victim', { type: 'ed25519', exportable: true, allowPlaintextBackup: true });
      kms.rotate('victim');
      const backup = kms.backup('victim');
      kms.setState('victim', 'revoked');
      expect(refusal(() => kms.rotate('victim'))).toEqual({
        code: 'ERR_INVALID_KEY_STATE',
        message: 'key victim was revoked: it gains no new versions',
      });
      const revoked = {
        code: 'ERR_INVALID_KEY_STATE',
        message:
          'backup: version 1 holds key material revoked with key victim: revocation is final, a backup cannot bring it back',
      };
      expect(refusal(() => kms.restore(backup, { name: 'copy' }))).toEqual(revoked);
      kms.configure('victim', { deletionAllowed: true });
      kms.deleteKey('victim');
      expect(refusal(() => kms.restore(backup))).toEqual(revoked);
      await kms.save();
      const reopened = await LocalKms.open(file);
      expect(refusal(() => reopened.restore(backup, { name: 'later' }))).toEqual(revoked);
      expect(reopened.listKeys()).toEqual([]);
      // Another KMS never saw the revocation: the copy is a key of its own there.
      const elsewhere = new LocalKms();
      elsewhere.restore(backup);
      expect(elsewhere.listKeys()).toEqual(['victim']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('revocation survives a cancelled deletion, a save and a reopen (revoked_time is kept)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-kms-'));
    try {
      const file = join(dir, 'kms.json');
      const kms = await LocalKms.open(file, { now: () => new Date('2026-05-01T00:00:00Z') });
      kms.createKey('k', { exportable: true, allowPlaintextBackup: true });
      kms.setState('k', 'revoked');
      kms.setState('k', 'pending_deletion');
      await kms.save();
      const reopened = await LocalKms.open(file);
      expect(reopened.readKey('k')).toMatchObject({
        state: 'pending_deletion',
        revoked_time: '2026-05-01T00:00:00.000Z',
      });
      expect(outcome(() => reopened.setState('k', 'inactive'))).toBe('ERR_INVALID_KEY_STATE');
      reopened.setState('k', 'revoked');
      expect(outcome(() => reopened.configure('k', { decryptAfterRevocation: true }))).toBe(
        'ERR_INVALID_KEY_STATE',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
