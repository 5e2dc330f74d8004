import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { MAX_DATA_KEY_LENGTH } from './kv-data-keys.js';

const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };

describe.each(await storageKinds())(
  'KV v2 settings, metadata creation and limits on %s',
  (kind) => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind);
    });
    afterAll(async () => {
      await s.close();
    });

    it('secret/config refuses every wrongly typed field with 400 naming it, and changes nothing', async () => {
      const before = (await s.request('GET', 'secret/config')).body.data;
      for (const [body, message] of [
        [{ cas_required: 'yes' }, 'cas_required must be a boolean'],
        [{ cas_required: 1 }, 'cas_required must be a boolean'],
        [{ cas_required: null }, 'cas_required must be a boolean'],
        [{ max_versions: 'ten' }, 'max_versions must be a non-negative integer'],
        [{ max_versions: -1 }, 'max_versions must be a non-negative integer'],
        [{ max_versions: 2.5 }, 'max_versions must be a non-negative integer'],
        [{ delete_version_after: 'soon' }, /^delete_version_after must be/],
        [{ delete_version_after: { h: 1 } }, /^delete_version_after must be/],
        // One bad field refuses the whole request, also beside good ones.
        [{ max_versions: 3, cas_required: 'true' }, 'cas_required must be a boolean'],
      ] as const) {
        const response = await s.request('POST', 'secret/config', { body });
        expect(response.status, JSON.stringify(body)).toBe(400);
        expect(response.body.errors[0]).toMatch(message);
      }
      expect((await s.request('GET', 'secret/config')).body.data).toEqual(before);
    });

    it('secret/config prints delete_version_after as metadata does (Vault: "1h0m0s")', async () => {
      expect(
        (await s.request('POST', 'secret/config', { body: { delete_version_after: 3600 } })).status,
      ).toBe(204);
      expect((await s.request('GET', 'secret/config')).body.data.delete_version_after).toBe(
        '1h0m0s',
      );
      await s.request('POST', 'secret/config', { body: { delete_version_after: '90m' } });
      expect((await s.request('GET', 'secret/config')).body.data.delete_version_after).toBe(
        '1h30m0s',
      );
      await s.request('POST', 'secret/config', { body: { delete_version_after: 0 } });
      expect((await s.request('GET', 'secret/config')).body.data.delete_version_after).toBe('0s');
    });

    it('POST secret/metadata/:path with an empty body creates the metadata, at version 0', async () => {
      expect((await s.request('GET', 'secret/metadata/empty/created')).status).toBe(404);
      expect((await s.request('POST', 'secret/metadata/empty/created', { body: {} })).status).toBe(
        204,
      );
      const meta = await s.request('GET', 'secret/metadata/empty/created');
      expect(meta.status).toBe(200);
      expect(meta.body.data).toMatchObject({
        current_version: 0,
        oldest_version: 0,
        max_versions: 0,
        cas_required: false,
        custom_metadata: null,
        versions: {},
      });
      expect((await s.request('GET', 'secret/metadata/empty/?list=true')).body.data.keys).toEqual([
        'created',
      ]);
      // No version yet: a data read is a plain 404; the first write (cas 0) is version 1.
      expect(await s.request('GET', 'secret/data/empty/created')).toMatchObject({
        status: 404,
        body: { errors: [] },
      });
      const first = await s.request('POST', 'secret/data/empty/created', {
        body: { data: { a: 1 }, options: { cas: 0 } },
      });
      expect(first.body.data.version).toBe(1);
    });

    it(`refuses a key inside data longer than ${MAX_DATA_KEY_LENGTH} characters, at any depth, without echoing it`, async () => {
      const longest = 'k'.repeat(MAX_DATA_KEY_LENGTH);
      const tooLong = 'q'.repeat(MAX_DATA_KEY_LENGTH + 1);
      expect(
        (await s.request('POST', 'secret/data/keys/ok', { body: { data: { [longest]: 'v' } } }))
          .status,
      ).toBe(200);
      for (const data of [
        { [tooLong]: 'v' },
        { nested: { deeper: { [tooLong]: 'v' } } },
        { list: [{ fine: 1 }, { [tooLong]: 'v' }] },
      ]) {
        const response = await s.request('POST', 'secret/data/keys/bad', { body: { data } });
        expect(response.status).toBe(400);
        expect(response.body.errors[0]).toMatch(
          new RegExp(`data key of ${MAX_DATA_KEY_LENGTH + 1} characters .*at most`),
        );
        expect(response.text).not.toContain(tooLong);
      }
      const patched = await s.request('PATCH', 'secret/data/keys/ok', {
        body: { data: { [tooLong]: 'v' } },
        headers: MERGE_PATCH,
      });
      expect(patched.status).toBe(400);
      expect((await s.request('GET', 'secret/metadata/keys/bad')).status).toBe(404);
      expect((await s.request('GET', 'secret/data/keys/ok')).body.data.metadata.version).toBe(1);
    });
  },
);
