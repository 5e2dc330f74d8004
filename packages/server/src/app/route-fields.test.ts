import { CustosError } from '@custos/core/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { BODY_METHODS, type FieldKind, readFields } from '../http/field-schema.js';
import type { DeclaredRoute } from '../http/route-spec.js';
import { routeGroups } from './route-groups.js';

/** A value every schema of the kind accepts (a query string carries it as text). */
const SAMPLE: Record<FieldKind, unknown> = {
  int: 3,
  bool: true,
  string: 'text',
  duration: '90s',
  'comma-list': 'a,b',
  map: { team: 'ops' },
  base64: 'AAEC',
  time: '2030-01-01T00:00:00Z',
};

/** A value no schema of the kind accepts. */
const WRONG: Record<FieldKind, unknown> = {
  int: 'many',
  bool: 'maybe',
  string: 5,
  duration: 'soon',
  'comma-list': 5,
  map: 5,
  base64: '!!',
  time: 'someday',
};

/** The request a route is sent with `values` as its fields (body or query, by method). */
function requestWith(method: string, values: Record<string, unknown>) {
  if (BODY_METHODS.has(method)) return { method, body: values, query: {} };
  const query = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
  return { method, body: undefined, query };
}

const methodsOf = (route: DeclaredRoute) =>
  typeof route.method === 'string' ? [route.method] : [...route.method];

describe('the declared fields of every route group', () => {
  let s: TestServer;
  let declared: { group: string; route: DeclaredRoute }[];
  beforeAll(async () => {
    s = await startTestServer('sqlite');
    declared = routeGroups(s.server.context).flatMap((group) =>
      group.routes
        .filter((route) => Object.keys(route.fields).length > 0)
        .map((route) => ({ group: group.name, route })),
    );
  });
  afterAll(async () => {
    await s.close();
  });

  it('parse a representative request: each field takes a value of its type', () => {
    expect([...new Set(declared.map((d) => d.group.split('/')[0]))]).toEqual(
      expect.arrayContaining(['auth', 'kv', 'transit']),
    );
    for (const { group, route } of declared) {
      const schemas = Object.entries(route.fields);
      const sample = Object.fromEntries(schemas.map(([name, f]) => [name, SAMPLE[f.kind]]));
      for (const method of methodsOf(route)) {
        const values = readFields(route.fields, requestWith(method, sample));
        for (const [name] of schemas) {
          expect(values[name], `${group} ${method} ${name}`).not.toBeUndefined();
        }
      }
    }
  });

  it('refuse a value of the wrong type, naming the field', () => {
    for (const { group, route } of declared) {
      for (const [name, schema] of Object.entries(route.fields)) {
        for (const method of methodsOf(route)) {
          // A query string carries only text: every value is a string there.
          if (schema.kind === 'string' && !BODY_METHODS.has(method)) continue;
          const request = requestWith(method, { [name]: WRONG[schema.kind] });
          let refusal: unknown;
          try {
            readFields(route.fields, request);
          } catch (err) {
            refusal = err;
          }
          expect(refusal, `${group} ${method} ${name}`).toBeInstanceOf(CustosError);
          expect((refusal as CustosError).code).toBe('ERR_INVALID_REQUEST');
          // Either this field is named, or a required one given nothing ("missing …").
          expect((refusal as CustosError).message).toMatch(new RegExp(`${name}|^missing [a-z_]+$`));
        }
      }
    }
  });

  it('are read from the query string of a GET and the body of a POST, over HTTP', async () => {
    await s.request('POST', 'transit/keys/fields', { body: {} });
    expect(await s.request('GET', 'transit/keys/fields/usage?limit=all')).toMatchObject({
      status: 400,
      body: { errors: ['limit must be a non-negative integer'] },
    });
    expect((await s.request('GET', 'transit/keys/fields/usage?limit=1')).status).toBe(200);
    const created = await s.request('POST', 'auth/token/create', {
      body: { num_uses: '2', ttl: '1h', meta: { team: 'ops' }, renewable: 'false' },
    });
    expect(created.status).toBe(200);
    const token = created.body.auth.client_token as string;
    const looked = await s.request('POST', 'auth/token/lookup', { body: { token } });
    expect(looked.body.data).toMatchObject({
      num_uses: 2,
      renewable: false,
      meta: { team: 'ops' },
    });
    expect(
      await s.request('POST', 'auth/token/create', { body: { num_uses: 'two' } }),
    ).toMatchObject({ status: 400, body: { errors: ['num_uses must be a non-negative integer'] } });
  });

  it("log a key operation's refused field as a failed use of the key", async () => {
    await s.request('POST', 'transit/keys/refused', { body: {} });
    expect(
      await s.request('POST', 'transit/datakey/plaintext/refused', { body: { bits: 'many' } }),
    ).toMatchObject({ status: 400, body: { errors: ['bits must be a non-negative integer'] } });
    const usage = (await s.request('GET', 'transit/keys/refused/usage')).body.data.usage as {
      operation: string;
      success: boolean;
    }[];
    expect(usage.map((u) => [u.operation, u.success])).toEqual([['datakey-plaintext', false]]);
  });
});
