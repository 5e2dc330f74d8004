import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { startServer } from '../server.js';

const HOUR_MS = 3600_000;

/** How a key reaches each lifecycle state (`clock`: its expires_at passes). */
const STATES = {
  active: [],
  rotating: ['rotating'],
  inactive: ['inactive'],
  revoked: ['revoked'],
  expired: 'clock',
  pending_deletion: ['pending_deletion'],
  'pending_deletion-after-revocation': ['revoked', 'pending_deletion'],
} as const;
type State = keyof typeof STATES;

const OK = 200;
const REFUSED = 400;
/** Whether each state lets key material leave (export, backup, forced restore over it). */
const RELEASES: Record<State, boolean> = {
  active: true,
  rotating: true,
  inactive: true,
  revoked: false,
  expired: false,
  pending_deletion: false,
  'pending_deletion-after-revocation': false,
};
/** Whether revocation settings may still change (not once the key was revoked). */
const CONFIGURABLE: Record<State, boolean> = {
  active: true,
  rotating: true,
  inactive: true,
  revoked: false,
  expired: true,
  pending_deletion: true,
  'pending_deletion-after-revocation': false,
};
/** Whether a public key is handed out: where the key still verifies. */
const VERIFIES: Record<State, boolean> = {
  active: true,
  rotating: true,
  inactive: true,
  revoked: false,
  expired: true,
  pending_deletion: false,
  'pending_deletion-after-revocation': false,
};

describe.each(await storageKinds())('transit key material follows the lifecycle on %s', (kind) => {
  let s: TestServer;
  let nowMs = Date.parse('2026-06-01T12:00:00Z');
  /** Backups of every key taken while it was active, to try forcing over it later. */
  const earlier = new Map<string, string>();
  beforeAll(async () => {
    s = await startTestServer(kind, { transit: { now: () => new Date(nowMs) } });
    for (const state of Object.keys(STATES) as State[]) {
      for (const type of ['aes256-gcm96', 'ed25519']) {
        const name = `${type === 'ed25519' ? 'sig' : 'enc'}-${state}`;
        await s.request('POST', `transit/keys/${name}`, {
          body: {
            type,
            exportable: true,
            allow_plaintext_backup: true,
            ...(STATES[state] === 'clock'
              ? { expires_at: new Date(nowMs + HOUR_MS).toISOString() }
              : {}),
          },
        });
        earlier.set(name, (await s.request('GET', `transit/backup/${name}`)).body.data.backup);
      }
    }
    nowMs += 2 * HOUR_MS;
    for (const [state, steps] of Object.entries(STATES)) {
      if (steps === 'clock') continue;
      for (const step of steps)
        for (const prefix of ['enc', 'sig'])
          await s.request('POST', `transit/keys/${prefix}-${state}/state`, {
            body: { state: step },
          });
    }
  });
  afterAll(async () => {
    await s.close();
  });

  const stateOf = async (name: string) =>
    (await s.request('GET', `transit/keys/${name}`)).body.data.state as string;

  it.each(Object.keys(STATES) as State[])('%s', async (state) => {
    const enc = `enc-${state}`;
    const sig = `sig-${state}`;
    const shown = state.replace('-after-revocation', '');
    expect([await stateOf(enc), await stateOf(sig)]).toEqual([shown, shown]);
    const material = RELEASES[state] ? OK : REFUSED;
    const exports = {
      'encryption-key': (await s.request('GET', `transit/export/encryption-key/${enc}`)).status,
      'hmac-key': (await s.request('GET', `transit/export/hmac-key/${enc}`)).status,
      'hmac-key latest': (await s.request('GET', `transit/export/hmac-key/${enc}/latest`)).status,
      'signing-key': (await s.request('GET', `transit/export/signing-key/${sig}/1`)).status,
      'public-key': (await s.request('GET', `transit/export/public-key/${sig}`)).status,
      backup: (await s.request('GET', `transit/backup/${enc}`)).status,
      'backup of the signing key': (await s.request('GET', `transit/backup/${sig}`)).status,
    };
    expect(exports).toEqual({
      'encryption-key': material,
      'hmac-key': material,
      'hmac-key latest': material,
      'signing-key': material,
      'public-key': VERIFIES[state] ? OK : REFUSED,
      backup: material,
      'backup of the signing key': material,
    });
    if (!RELEASES[state]) {
      const refused = await s.request('GET', `transit/export/encryption-key/${enc}`);
      expect(refused.body).toEqual({
        errors: [
          `key ${enc} is ${shown}: its key material cannot be exported (active, rotating and inactive keys only)`,
        ],
      });
      expect((await s.request('GET', `transit/backup/${enc}`)).body).toEqual({
        errors: [
          `key ${enc} is ${shown}: it cannot be backed up (active, rotating and inactive keys only)`,
        ],
      });
    }

    // A backup taken while the key was active cannot bring it back by force.
    const forced = await s.request('POST', 'transit/restore', {
      body: { backup: earlier.get(enc), force: true },
    });
    expect(forced.status).toBe(RELEASES[state] ? 204 : REFUSED);
    if (!RELEASES[state]) {
      expect(forced.body.errors).toEqual([
        `key ${enc} is ${shown}: a restore cannot replace it (force replaces active, rotating and inactive keys only)`,
      ]);
      expect(await stateOf(enc)).toBe(shown);
    }

    // Revocation settings: open until the key is revoked, fixed from then on.
    const config = await s.request('POST', `transit/keys/${sig}/config`, {
      body: { decrypt_after_revocation: true },
    });
    expect(config.status).toBe(CONFIGURABLE[state] ? OK : REFUSED);
    if (!CONFIGURABLE[state]) {
      expect(config.body.errors).toEqual([
        `key ${sig} was revoked: decrypt_after_revocation cannot change (a revoked key's settings are fixed; only deletion_allowed may change)`,
      ]);
      for (const body of [
        { exportable: false, min_decryption_version: 0 },
        { auto_rotate_period: '2h' },
      ])
        expect((await s.request('POST', `transit/keys/${sig}/config`, { body })).status).toBe(
          REFUSED,
        );
      expect(
        (
          await s.request('POST', `transit/keys/${sig}/config`, {
            body: { decrypt_after_revocation: false, deletion_allowed: true },
          })
        ).status,
      ).toBe(OK);
    }
    expect((await s.request('GET', `transit/keys/${sig}`)).body.data.decrypt_after_revocation).toBe(
      CONFIGURABLE[state],
    );
  });

  it('revoked material never comes back: not by restore under another name, after deletion, or re-dressed', async () => {
    for (const type of ['aes256-gcm96', 'ecdsa-p256']) {
      const name = `victim-${type}`;
      await s.request('POST', `transit/keys/${name}`, {
        body: { type, exportable: true, allow_plaintext_backup: true },
      });
      await s.request('POST', `transit/keys/${name}/rotate`, { body: {} });
      const backup = (await s.request('GET', `transit/backup/${name}`)).body.data.backup as string;
      await s.request('POST', `transit/keys/${name}/state`, { body: { state: 'revoked' } });
      expect(
        (await s.request('POST', `transit/keys/${name}/rotate`, { body: {} })).body.errors,
      ).toEqual([`key ${name} was revoked: it gains no new versions`]);
      const refusal = `backup: version 1 holds key material revoked with key ${name}: revocation is final, a backup cannot bring it back`;
      const restoreAs = async (body: Record<string, unknown>) =>
        (await s.request('POST', 'transit/restore', { body })).body.errors;
      expect(await restoreAs({ backup, name: `${name}-copy` })).toEqual([refusal]);
      await s.request('POST', `transit/keys/${name}/config`, { body: { deletion_allowed: true } });
      expect((await s.request('DELETE', `transit/keys/${name}`)).status).toBe(204);
      expect(await restoreAs({ backup })).toEqual([refusal]);
      expect(await restoreAs({ backup, name: name.toUpperCase() })).toEqual([refusal]);
      // Only the newest version from the backup, or fresh HMAC keys beside the old key: still
      // the revoked material.
      const json = JSON.parse(Buffer.from(backup, 'base64').toString());
      const fresh = Buffer.alloc(32, 7).toString('base64');
      const redressed = {
        ...json,
        policy: {
          ...json.policy,
          name: 'redressed',
          min_available_version: 2,
          min_decryption_version: 2,
        },
        versions: [{ ...json.versions[1], hmac_key: fresh }],
      };
      expect(
        await restoreAs({ backup: Buffer.from(JSON.stringify(redressed)).toString('base64') }),
      ).toEqual([refusal.replace('version 1', 'version 2')]);
      const keys = (await s.request('GET', 'transit/keys?list=true')).body.data.keys as string[];
      expect(keys.filter((k) => k.toLowerCase().includes('victim') || k === 'redressed')).toEqual(
        [],
      );
    }
  });

  it('a revoked key cannot be revived through a cancelled deletion, and stays unusable', async () => {
    const name = 'enc-pending_deletion-after-revocation';
    const cancel = await s.request('POST', `transit/keys/${name}/state`, {
      body: { state: 'inactive' },
    });
    expect(cancel).toMatchObject({
      status: REFUSED,
      body: {
        errors: [
          'a key cannot go from pending_deletion to inactive (allowed from pending_deletion: revoked); the key was revoked, and revocation is final: cancelling its deletion returns it to revoked',
        ],
      },
    });
    const back = await s.request('POST', `transit/keys/${name}/state`, {
      body: { state: 'revoked' },
    });
    expect(back.body.data).toMatchObject({ state: 'revoked', revoked_time: expect.any(String) });
    for (const state of ['active', 'inactive', 'rotating'])
      expect(
        (await s.request('POST', `transit/keys/${name}/state`, { body: { state } })).status,
      ).toBe(REFUSED);
    // Neither a use nor a case variant of the name reaches the material.
    const ct = 'vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    for (const [path, body] of [
      [`transit/encrypt/${name}`, { plaintext: 'eA==' }],
      [`transit/encrypt/${name}`, { batch_input: [{ plaintext: 'eA==' }] }],
      [`transit/rewrap/${name}`, { batch_input: [{ ciphertext: ct }] }],
      [`transit/datakey/plaintext/${name}`, {}],
      [`transit/hmac/${name}`, { input: 'eA==' }],
      [`transit/sign/sig-revoked`, { input: 'eA==' }],
    ] as const) {
      const used = await s.request('POST', path, { body });
      expect({ path, status: used.status }).toEqual({ path, status: REFUSED });
      expect(JSON.stringify(used.body)).toMatch(/is revoked: it cannot (encrypt|decrypt)/);
    }
    for (const variant of [name.toUpperCase(), 'ENC-revoked', 'Enc-Revoked']) {
      const exported = await s.request('GET', `transit/export/encryption-key/${variant}`);
      expect([400, 404]).toContain(exported.status);
      expect(exported.body?.data).toBeUndefined();
    }
  });
});

describe.runIf((await storageKinds()).includes('postgres'))(
  'revocation against a forced restore on another node (one PostgreSQL)',
  () => {
    it('a revocation that succeeded is never overwritten by a restore racing it', async () => {
      const a = await startTestServer('postgres');
      const b = await startServer({ storage: a.storage.location, port: 0, logLevel: 'silent' });
      try {
        await send(b.url, 'POST', 'sys/unseal', { body: { key: a.server.unsealKey } });
        const outcomes: string[] = [];
        for (let i = 0; i < 12; i++) {
          const name = `raced-${i}`;
          await a.request('POST', `transit/keys/${name}`, {
            body: { exportable: true, allow_plaintext_backup: true },
          });
          const backup = (await a.request('GET', `transit/backup/${name}`)).body.data.backup;
          const [revoke, restore] = await Promise.all([
            a.request('POST', `transit/keys/${name}/state`, { body: { state: 'revoked' } }),
            send(b.url, 'POST', 'transit/restore', {
              token: 'root',
              body: { backup, force: true },
            }),
          ]);
          const state = (await a.request('GET', `transit/keys/${name}`)).body.data.state;
          outcomes.push(`${revoke.status} ${restore.status} ${state}`);
        }
        // Whichever commits first, a revocation that was answered 200 holds.
        for (const outcome of outcomes) expect(outcome).toMatch(/^200 (204|400) revoked$/);
      } finally {
        await b.close();
        await a.close();
      }
    });
  },
);
