import { CustosError } from '@custos/core/errors';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type FieldSchema, type FieldSchemas, field, readFields } from './field-schema.js';

const CANARY = 'canary-field-7f3a';

/** The refusal of `read`, asserted to be ERR_INVALID_REQUEST; its message. */
function refusal(read: () => unknown): string {
  try {
    read();
  } catch (err) {
    expect(err).toBeInstanceOf(CustosError);
    expect((err as CustosError).code).toBe('ERR_INVALID_REQUEST');
    return (err as CustosError).message;
  }
  throw new Error('expected a refusal');
}

const post = (body: unknown) => ({ method: 'POST', body, query: {} });
const get = (query: Record<string, unknown>) => ({ method: 'GET', body: undefined, query });

describe('field constructors', () => {
  it('int: a number or a digit string; null and "" are absent unless strict', () => {
    const int = field.int();
    expect(int.read(3, 'n')).toBe(3);
    expect(int.read('42', 'n')).toBe(42);
    for (const absent of [undefined, null, '']) expect(int.read(absent, 'n')).toBeUndefined();
    for (const bad of [-1, 1.5, 'x', '1e3', true, [1]])
      expect(refusal(() => int.read(bad, 'n'))).toBe('n must be a non-negative integer');
    const strict = field.int({ strict: true });
    expect(strict.read(undefined, 'n')).toBeUndefined();
    expect(refusal(() => strict.read(null, 'n'))).toBe('n must be a non-negative integer');
    expect(refusal(() => strict.read('', 'n'))).toBe('n must be a non-negative integer');
    const worded = field.int({ strict: true, message: 'version must be an integer' });
    expect(refusal(() => worded.read('v2', 'version'))).toBe('version must be an integer');
  });

  it('int with a default: the default when absent, the value when given', () => {
    expect(field.int({ default: 256 }).read(undefined, 'bits')).toBe(256);
    expect(field.int({ default: 256 }).read(null, 'bits')).toBe(256);
    expect(field.int({ default: 256 }).read('128', 'bits')).toBe(128);
    expect(field.int({ default: 0 }).read(0, 'n')).toBe(0);
    expect(refusal(() => field.int({ strict: true, default: 0 }).read(null, 'num_uses'))).toBe(
      'num_uses must be a non-negative integer',
    );
  });

  it('bool: true/false and their strings; json takes JSON booleans only', () => {
    const bool = field.bool();
    expect(bool.read(true, 'b')).toBe(true);
    expect(bool.read('false', 'b')).toBe(false);
    expect(bool.read(null, 'b')).toBeUndefined();
    for (const bad of [1, 'yes', 'TRUE', {}])
      expect(refusal(() => bool.read(bad, 'b'))).toBe('b must be true or false');
    expect(field.bool({ default: true }).read(undefined, 'b')).toBe(true);
    expect(field.bool({ default: true }).read(false, 'b')).toBe(false);
    expect(refusal(() => field.bool({ strict: true }).read(null, 'b'))).toBe(
      'b must be true or false',
    );
    const json = field.bool({ json: true });
    expect(json.read(false, 'cas_required')).toBe(false);
    expect(json.read(undefined, 'cas_required')).toBeUndefined();
    expect(refusal(() => json.read('true', 'cas_required'))).toBe('cas_required must be a boolean');
  });

  it('string: optional (a non-string refused) or required (given and not empty)', () => {
    expect(field.string().read(undefined, 'name')).toBeUndefined();
    expect(field.string().read('', 'name')).toBe('');
    expect(refusal(() => field.string().read(5, 'name'))).toBe('name must be a string');
    const required = field.string({ required: true });
    expect(required.read('s.abc', 'token')).toBe('s.abc');
    for (const bad of [undefined, null, '', 5])
      expect(refusal(() => required.read(bad, 'token'))).toBe('missing token');
  });

  it('duration: seconds, or the duration grammar; absent only when undefined', () => {
    const duration = field.duration();
    expect(duration.read(300, 'ttl')).toBe(300);
    expect(duration.read('1h30m', 'ttl')).toBe(5400);
    expect(duration.read(undefined, 'ttl')).toBeUndefined();
    expect(field.duration({ default: 60 }).read(undefined, 'ttl')).toBe(60);
    expect(refusal(() => duration.read(CANARY, 'ttl'))).toContain('ttl');
    expect(refusal(() => duration.read(null, 'ttl'))).toContain('ttl');
  });

  it('commaList, map, base64, time: as their readers', () => {
    expect(field.commaList().read(' a, b ,,', 'policies')).toEqual(['a', 'b']);
    expect(field.commaList().read(['x'], 'policies')).toEqual(['x']);
    expect(field.commaList().read(undefined, 'policies')).toEqual([]);
    expect(refusal(() => field.commaList().read(5, 'policies'))).toBe(
      'policies must be a list of strings',
    );
    expect(field.map().read({ team: 'ops' }, 'meta')).toEqual({ team: 'ops' });
    expect(field.map().read('{"team":"ops"}', 'meta')).toEqual({ team: 'ops' });
    expect(field.map().read(undefined, 'meta')).toEqual({});
    expect(refusal(() => field.map().read([CANARY], 'meta'))).toBe(
      'meta must be an object of strings',
    );
    expect(field.base64().read('AAEC', 'context')).toEqual(Buffer.from([0, 1, 2]));
    expect(field.base64().read('', 'context')).toBeUndefined();
    expect(refusal(() => field.base64().read(`${CANARY}!`, 'context'))).toBe(
      'failed to base64-decode context',
    );
    expect(refusal(() => field.base64({ required: true }).read(undefined, 'input'))).toBe(
      'failed to base64-decode input',
    );
    expect(field.time().read('2030-01-01T00:00:00Z', 'expires_at')).toBe(
      '2030-01-01T00:00:00.000Z',
    );
    expect(field.time().read('', 'expires_at')).toBeNull();
    expect(field.time().read(undefined, 'expires_at')).toBeUndefined();
    expect(refusal(() => field.time().read(CANARY, 'expires_at'))).toBe(
      'expires_at must be an ISO 8601 time',
    );
  });

  it('never echoes the refused value', () => {
    const schemas: [FieldSchema<unknown>, unknown][] = [
      [field.int(), CANARY],
      [field.bool(), CANARY],
      [field.duration(), CANARY],
      [field.base64(), `${CANARY}!`],
      [field.time(), CANARY],
      [field.map(), `{"k":"${CANARY}"`],
      [field.commaList(), { [CANARY]: 1 }],
    ];
    for (const [schema, value] of schemas) {
      const message = refusal(() => schema.read(value, 'f'));
      expect(message).toContain('f');
      expect(message).not.toContain(CANARY);
    }
  });

  it('types each value from its schema', () => {
    const values = readFields(
      {
        bits: field.int({ default: 256 }),
        version: field.int(),
        token: field.string({ required: true }),
        name: field.string(),
        force: field.bool({ default: false }),
        context: field.base64(),
        policies: field.commaList(),
        meta: field.map(),
        expires_at: field.time(),
      },
      post({ token: 't' }),
    );
    expectTypeOf(values.bits).toEqualTypeOf<number>();
    expectTypeOf(values.version).toEqualTypeOf<number | undefined>();
    expectTypeOf(values.token).toEqualTypeOf<string>();
    expectTypeOf(values.name).toEqualTypeOf<string | undefined>();
    expectTypeOf(values.force).toEqualTypeOf<boolean>();
    expectTypeOf(values.context).toEqualTypeOf<Buffer | undefined>();
    expectTypeOf(values.policies).toEqualTypeOf<string[]>();
    expectTypeOf(values.meta).toEqualTypeOf<Record<string, string>>();
    expectTypeOf(values.expires_at).toEqualTypeOf<string | null | undefined>();
    expect(values).toEqual({
      bits: 256,
      version: undefined,
      token: 't',
      name: undefined,
      force: false,
      context: undefined,
      policies: [],
      meta: {},
      expires_at: undefined,
    });
  });
});

describe('readFields', () => {
  const schemas = { limit: field.int({ default: 100 }) } as const;

  it('reads the JSON body for POST, PUT and PATCH, the query string for GET, HEAD and DELETE', () => {
    for (const method of ['POST', 'PUT', 'PATCH']) {
      expect(readFields(schemas, { method, body: { limit: 5 }, query: { limit: '7' } })).toEqual({
        limit: 5,
      });
    }
    for (const method of ['GET', 'HEAD', 'DELETE']) {
      expect(readFields(schemas, { method, body: { limit: 5 }, query: { limit: '7' } })).toEqual({
        limit: 7,
      });
    }
    expect(readFields(schemas, get({}))).toEqual({ limit: 100 });
    expect(refusal(() => readFields(schemas, get({ limit: 'all' })))).toBe(
      'limit must be a non-negative integer',
    );
  });

  it('ignores fields that are not declared, and reads only own properties', () => {
    expect(readFields(schemas, post({ limit: 1, other: 'x' }))).toEqual({ limit: 1 });
    const named = { constructor: field.string(), toString: field.string() };
    expect(readFields(named, post({}))).toEqual({ constructor: undefined, toString: undefined });
  });

  it('refuses a body that is not a JSON object, as bodyOf does', () => {
    expect(refusal(() => readFields(schemas, post([1])))).toBe(
      'request body must be a JSON object',
    );
    expect(readFields(schemas, post(null))).toEqual({ limit: 100 });
  });

  it('reads nothing for a route that declares no fields (any body passes to the handler)', () => {
    const none: FieldSchemas = {};
    expect(readFields(none, post([1]))).toEqual({});
    expect(readFields(none, post('text'))).toEqual({});
  });

  it('reads in declaration order: the first bad field is the one named', () => {
    const two = { token: field.string({ required: true }), increment: field.duration() };
    expect(refusal(() => readFields(two, post({ increment: 'soon' })))).toBe('missing token');
  });
});
