import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { stringMap } from '../http/fields.js';
import {
  mergeCustomMetadata,
  mergePatch,
  parseCustomMetadata,
  subkeysOf,
} from '../kv/kv-metadata.js';
import { HMAC_PREFIX } from './hmac-values.js';

/** Keys that name Object.prototype's own machinery: a plain assignment mishandles each. */
const SPECIAL = ['__proto__', 'constructor', 'prototype'];
/** A JSON object holding every special key (and one plain one), written as text: an object literal would set its prototype instead. */
const specialJson = (value: (key: string) => string) =>
  `{${[...SPECIAL, 'a'].map((k) => `"${k}":${value(k)}`).join(',')}}`;

const own = (value: unknown) => Object.keys(value as object).sort();
/** The own field `__proto__` of a parsed JSON object (reading `.__proto__` is the accessor). */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON
const protoField = (value: unknown): any =>
  Object.getOwnPropertyDescriptor(value as object, '__proto__')?.value;
const isHmac = (value: unknown) => typeof value === 'string' && value.startsWith(HMAC_PREFIX);

describe('request keys named __proto__, constructor or prototype stay keys', () => {
  let s: TestServer;
  let dir: string;
  let auditFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-own-keys-'));
    auditFile = join(dir, 'audit.log');
    s = await startTestServer('sqlite', {
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
    });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The audit entries (request and response) of the request with `id`. */
  const auditEntries = async (id: string) =>
    (await readFile(auditFile, 'utf8'))
      .split('\n')
      .filter((line) => line.includes(`"${id}"`))
      // biome-ignore lint/suspicious/noExplicitAny: audit entries are arbitrary JSON
      .map((line) => JSON.parse(line) as any);

  const expected = [...SPECIAL, 'a'].sort();

  it("KV data: stored, served, and in the audit entries with every value HMAC'd", async () => {
    const body = `{"data":${specialJson((k) => (k === '__proto__' ? '{"x":"v"}' : `"${k}-value"`))}}`;
    const written = await s.request('POST', 'secret/data/special', { raw: body });
    expect(written.status).toBe(200);
    const read = await s.request('GET', 'secret/data/special');
    expect(own(read.body.data.data)).toEqual(expected);
    expect(protoField(read.body.data.data)).toEqual({ x: 'v' });

    const [request] = await auditEntries(written.body.request_id);
    const data = request.request.data.data;
    expect(own(data)).toEqual(expected);
    expect(own(protoField(data))).toEqual(['x']);
    expect(isHmac(protoField(data).x)).toBe(true);
    for (const k of ['constructor', 'prototype', 'a']) expect(isHmac(data[k])).toBe(true);

    const served = (await auditEntries(read.body.request_id)).find((e) => e.type === 'response');
    expect(own(served.response.data.data)).toEqual(expected);
    expect(isHmac(protoField(served.response.data.data).x)).toBe(true);

    // A merge patch reaches the same fields, and subkeys lists them.
    const patch = await s.request('PATCH', 'secret/data/special', {
      raw: '{"data":{"__proto__":{"y":"w"},"constructor":null}}',
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patch.status).toBe(200);
    const patched = (await s.request('GET', 'secret/data/special')).body.data.data;
    expect(own(patched)).toEqual(['__proto__', 'a', 'prototype']);
    expect(protoField(patched)).toEqual({ x: 'v', y: 'w' });
    const subkeys = (await s.request('GET', 'secret/subkeys/special')).body.data.subkeys;
    expect(own(subkeys)).toEqual(['__proto__', 'a', 'prototype']);
  });

  it('KV custom_metadata: set, patched and served', async () => {
    const set = await s.request('POST', 'secret/metadata/special-meta', {
      raw: `{"custom_metadata":${specialJson((k) => `"${k}-meta"`)}}`,
    });
    expect(set.status).toBe(204);
    const meta = async () =>
      (await s.request('GET', 'secret/metadata/special-meta')).body.data.custom_metadata;
    expect(own(await meta())).toEqual(expected);
    const patched = await s.request('PATCH', 'secret/metadata/special-meta', {
      raw: '{"custom_metadata":{"__proto__":null,"constructor":"changed"}}',
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status).toBe(204);
    expect(await meta()).toEqual({
      constructor: 'changed',
      prototype: 'prototype-meta',
      a: 'a-meta',
    });
  });

  it("token meta: kept, served, and HMAC'd in the audit entries of the token's requests", async () => {
    const created = await s.request('POST', 'auth/token/create', {
      raw: `{"policies":["default"],"meta":${specialJson((k) => `"${k}-token"`)}}`,
    });
    const token = created.body.auth.client_token as string;
    expect(own(created.body.auth.metadata)).toEqual(expected);
    const looked = await s.request('GET', 'auth/token/lookup-self', { token });
    expect(own(looked.body.data.meta)).toEqual(expected);
    const [entry] = await auditEntries(looked.body.request_id);
    expect(own(entry.auth.metadata)).toEqual(expected);
    for (const k of expected) expect(isHmac(entry.auth.metadata[k])).toBe(true);
  });

  it('sys/capabilities-self answers for a path named __proto__', async () => {
    const answer = await s.request('POST', 'sys/capabilities-self', {
      body: { paths: ['__proto__', 'constructor'] },
    });
    expect(Object.hasOwn(answer.body.data, '__proto__')).toBe(true);
    expect(protoField(answer.body.data)).toEqual(['root']);
    expect(answer.body.data.constructor).toEqual(['root']);
  });

  it('the helpers that copy request keys keep them as own properties', () => {
    const parsed = JSON.parse(specialJson((k) => `"${k}"`)) as Record<string, unknown>;
    expect(own(stringMap(parsed, 'meta'))).toEqual(expected);
    expect(own(stringMap(JSON.stringify(parsed), 'meta'))).toEqual(expected);
    expect(own(parseCustomMetadata(parsed, false))).toEqual(expected);
    expect(own(mergeCustomMetadata({ a: '1' }, parseCustomMetadata(parsed, true)))).toEqual(
      expected,
    );
    expect(own(mergePatch({}, parsed))).toEqual(expected);
    expect(own(subkeysOf(parsed, 0))).toEqual(expected);
    // Reading a key the target lacks never reaches the prototype (constructor is a function there).
    expect(mergePatch({}, JSON.parse('{"constructor":{"a":"b"}}'))).toEqual({
      constructor: { a: 'b' },
    });
  });
});
