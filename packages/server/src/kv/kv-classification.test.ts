import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hclPolicy, startTestServer, type TestServer } from '../../test/harness.js';

const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };
const ALLOWED = 'must be one of PHI, PII, credential, payment, internal';

// Classification is metadata validation and a list filter: no storage difference to cover.
describe('KV v2 data classification (custom_metadata.data_class)', () => {
  let s: TestServer;
  const classOf = async (path: string) =>
    (await s.request('GET', `secret/metadata/${path}`)).body.data.custom_metadata?.data_class;

  beforeAll(async () => {
    s = await startTestServer('sqlite');
    for (const [path, dataClass] of [
      ['care/patients', 'phi'],
      ['care/notes', 'PHI'],
      ['care/staff', 'Pii'],
      ['care/billing', 'payment'],
      ['care/plain', undefined],
      ['care/deep/records', 'PHI'],
    ] as const) {
      await s.request('POST', `secret/data/${path}`, { body: { data: { v: 'x' } } });
      if (dataClass !== undefined) {
        const set = await s.request('POST', `secret/metadata/${path}`, {
          body: { custom_metadata: { data_class: dataClass, owner: 'care-team' } },
        });
        expect(set.status).toBe(204);
      }
    }
  });
  afterAll(async () => {
    await s.close();
  });

  it('stores a class in any case canonically spelled, beside other metadata', async () => {
    expect(await classOf('care/patients')).toBe('PHI');
    expect(await classOf('care/staff')).toBe('PII');
    const meta = (await s.request('GET', 'secret/metadata/care/patients')).body.data;
    expect(meta.custom_metadata).toEqual({ data_class: 'PHI', owner: 'care-team' });
    // Data reads carry the same metadata.
    const read = await s.request('GET', 'secret/data/care/patients');
    expect(read.body.data.metadata.custom_metadata.data_class).toBe('PHI');
  });

  it('refuses an unknown class with a 400 naming the allowed ones, and changes nothing', async () => {
    const canary = `class-canary-${Date.now()}`;
    for (const value of [canary, ' PHI', 'PHI ', 'phi\u200b', 'secret', 'PHİ']) {
      for (const [method, headers] of [
        ['POST', {}],
        ['PATCH', MERGE_PATCH],
      ] as const) {
        const response = await s.request(method, 'secret/metadata/care/patients', {
          body: { custom_metadata: { data_class: value, owner: 'other' } },
          headers,
        });
        expect(response.status, `${method} ${JSON.stringify(value)}`).toBe(400);
        expect(response.body.errors[0]).toContain(`custom_metadata.data_class ${ALLOWED}`);
        expect(response.text).not.toContain(canary);
      }
    }
    expect(
      (await s.request('GET', 'secret/metadata/care/patients')).body.data.custom_metadata,
    ).toEqual({ data_class: 'PHI', owner: 'care-team' });
  });

  it('changes and removes a class by merge patch', async () => {
    await s.request('POST', 'secret/data/care/moving', { body: { data: { v: 'x' } } });
    const patch = (custom: Record<string, string | null>) =>
      s.request('PATCH', 'secret/metadata/care/moving', {
        body: { custom_metadata: custom },
        headers: MERGE_PATCH,
      });
    expect((await patch({ data_class: 'CREDENTIAL' })).status).toBe(204);
    expect(await classOf('care/moving')).toBe('credential');
    expect((await patch({ data_class: null })).status).toBe(204);
    expect(await classOf('care/moving')).toBeUndefined();
    await s.request('DELETE', 'secret/metadata/care/moving');
  });

  it('LIST ?data_class= keeps the keys of that class (any case) and the folders', async () => {
    for (const query of ['data_class=PHI', 'data_class=phi']) {
      const listed = await s.request('LIST', `secret/metadata/care/?${query}`);
      expect(listed.status).toBe(200);
      expect(listed.body.data.keys).toEqual(['deep/', 'notes', 'patients']);
      const viaGet = await s.request('GET', `secret/metadata/care?list=true&${query}`);
      expect(viaGet.body.data.keys).toEqual(['deep/', 'notes', 'patients']);
    }
    expect(
      (await s.request('LIST', 'secret/metadata/care/deep?data_class=PHI')).body.data.keys,
    ).toEqual(['records']);
    expect((await s.request('LIST', 'secret/metadata/care/deep?data_class=payment')).status).toBe(
      404,
    );
    expect(
      (await s.request('LIST', 'secret/metadata/care?data_class=payment')).body.data.keys,
    ).toEqual(['billing', 'deep/']);
    // Unfiltered, everything is there as before.
    expect((await s.request('LIST', 'secret/metadata/care')).body.data.keys).toContain('plain');
  });

  it('refuses an unknown or repeated data_class filter', async () => {
    const unknown = await s.request('LIST', 'secret/metadata/care?data_class=secret');
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0]).toContain(`data_class ${ALLOWED}`);
    const twice = await s.request('LIST', 'secret/metadata/care?data_class=PHI&data_class=PII');
    expect(twice.status).toBe(400);
    expect(twice.body.errors[0]).toContain('data_class must be given once');
  });

  it('judges only keys whose metadata the token may read: a class is never guessed through the filter', async () => {
    const token = await s.token({ policies: ['care-lister'], no_default_policy: true });
    await s.request('POST', 'sys/policies/acl/care-lister', {
      body: {
        policy: hclPolicy({
          'secret/metadata/care/': ['list'],
          'secret/metadata/care/notes': ['read'],
        }),
      },
    });
    const listed = await s.request('LIST', 'secret/metadata/care?data_class=PHI', { token });
    expect(listed.status).toBe(200);
    expect(listed.body.data.keys).toEqual(['deep/', 'notes']);
    const unfiltered = await s.request('LIST', 'secret/metadata/care', { token });
    expect(unfiltered.body.data.keys).toContain('patients');
  });
});
