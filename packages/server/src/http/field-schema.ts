/**
 * Declared request fields, as Vault's `framework.Path{Fields: map[string]*FieldSchema}`: a route
 * names its fields and their types (`fields: { ttl: field.duration() }`), the route spec reads
 * them before the handler runs, and the handler receives the coerced, typed values.
 *
 * Every constructor coerces through the one reader of its type in `fields.ts`: a type is
 * accepted, and refused, the same way whether a route declares it or reads it by hand. A refusal
 * is `ERR_INVALID_REQUEST` naming the field, never the value.
 *
 * Absence: by default a field is absent as its `optional…` reader says (`undefined`, and for
 * most types `null` and `''`); `strict: true` keeps only `undefined` as absent, so `null` and
 * `''` are refused (KV, approle and token fields, which Vault decodes strictly). An absent field
 * takes its `default`, when it has one.
 *
 * @example
 * ```ts
 * route({
 *   method: 'POST',
 *   path: '/v1/transit/datakey/:type/:name',
 *   fields: { bits: field.int({ default: 256 }), context: field.base64() },
 *   handler: async (request, reply, { bits, context }) => … // bits: number
 * });
 * ```
 * @module
 */
import type { FastifyRequest } from 'fastify';
import { bodyOf } from './body-parser.js';
import {
  base64Field,
  boolField,
  boolOr,
  intField,
  jsonBool,
  optionalBase64,
  optionalBool,
  optionalDuration,
  optionalInt,
  optionalString,
  requiredString,
  stringList,
  stringMap,
  timeField,
} from './fields.js';

/** The Vault field type a schema reads (for documentation and introspection). */
export type FieldKind =
  | 'int'
  | 'bool'
  | 'string'
  | 'duration'
  | 'comma-list'
  | 'map'
  | 'base64'
  | 'time';

/** One declared field: its type, and how a raw request value becomes a typed one. */
export interface FieldSchema<T> {
  readonly kind: FieldKind;
  /** Coerces the raw value of field `name` (`undefined` when the request does not carry it). */
  readonly read: (value: unknown, name: string) => T;
}

/** A route's declared fields: name → schema. */
export type FieldSchemas = Readonly<Record<string, FieldSchema<unknown>>>;

/** The coerced values of declared fields, typed from their schemas. */
export type FieldValues<F extends FieldSchemas> = {
  readonly [K in keyof F]: F[K] extends FieldSchema<infer T> ? T : never;
};

/** The value type of a field: with a `default`, never absent. */
type Valued<O, T> = O extends { default: T } ? T : T | undefined;

type Reader<T> = (value: unknown, name: string) => T;

/** Reads with `read` unless the value is `undefined` (strict absence). */
const unlessUndefined =
  <T>(read: Reader<T>): Reader<T | undefined> =>
  (value, name) =>
    value === undefined ? undefined : read(value, name);

function schema<T>(
  kind: FieldKind,
  read: Reader<T | undefined>,
  fallback: unknown,
): FieldSchema<T> {
  return {
    kind,
    read: (value, name) => (read(value, name) ?? fallback) as T,
  };
}

/** Options of an int field. */
export interface IntOptions {
  readonly default?: number;
  readonly strict?: boolean;
  /** The refusal's text where Vault has its own wording (KV's `version must be an integer`). */
  readonly message?: string;
}

/** Options of a bool field (`json`: a JSON boolean only, no `"true"`; implies `strict`). */
export interface BoolOptions {
  readonly default?: boolean;
  readonly strict?: boolean;
  readonly json?: boolean;
}

/**
 * The field constructors, one per Vault field type.
 *
 * @example
 * ```ts
 * const fields = {
 *   num_uses: field.int({ strict: true, default: 0 }),
 *   renewable: field.bool({ strict: true, default: true }),
 *   token: field.string({ required: true }),
 *   ttl: field.duration(),
 *   policies: field.commaList(),
 *   meta: field.map(),
 * };
 * ```
 */
export const field = {
  /** A non-negative integer, a JSON number or a digit string (`intField`). */
  int<const O extends IntOptions = Record<never, never>>(
    options?: O,
  ): FieldSchema<Valued<O, number>> {
    const { strict, message } = options ?? {};
    const read: Reader<number | undefined> = strict
      ? unlessUndefined((value, name) => intField(value, name, message))
      : (value, name) => optionalInt(value, name, message);
    return schema('int', read, options?.default);
  },

  /** `true`/`false` or `"true"`/`"false"` (`boolField`; `jsonBool` with `json`). */
  bool<const O extends BoolOptions = Record<never, never>>(
    options?: O,
  ): FieldSchema<Valued<O, boolean>> {
    const { json, strict, default: fallback } = options ?? {};
    if (strict && !json && fallback !== undefined)
      return schema('bool', (value, name) => boolOr(value, name, fallback), undefined);
    const read: Reader<boolean | undefined> = json
      ? unlessUndefined(jsonBool)
      : strict
        ? unlessUndefined(boolField)
        : optionalBool;
    return schema('bool', read, fallback);
  },

  /**
   * A string; `required`: given and not empty (`missing …`, `requiredString`), else absent
   * when `undefined`.
   */
  string<const O extends { readonly required?: boolean } = Record<never, never>>(
    options?: O,
  ): FieldSchema<O extends { required: true } ? string : string | undefined> {
    return schema('string', options?.required ? requiredString : optionalString, undefined);
  },

  /** A duration in seconds (`300`, `"90s"`, `"1h30m"`), absent when `undefined`. */
  duration<const O extends { readonly default?: number } = Record<never, never>>(
    options?: O,
  ): FieldSchema<Valued<O, number>> {
    return schema('duration', optionalDuration, options?.default);
  },

  /** A list of names, an array or a comma-separated string (`stringList`); `[]` when absent. */
  commaList(): FieldSchema<string[]> {
    return schema('comma-list', stringList, []);
  },

  /** A string-to-string map, an object or its JSON text (`stringMap`); `{}` when absent. */
  map(): FieldSchema<Record<string, string>> {
    return schema('map', stringMap, {});
  },

  /** Bytes in standard base64 (`base64Field`); absent when `undefined`, `null` or `''`. */
  base64<const O extends { readonly required?: boolean } = Record<never, never>>(
    options?: O,
  ): FieldSchema<O extends { required: true } ? Buffer : Buffer | undefined> {
    return schema('base64', options?.required ? base64Field : optionalBase64, undefined);
  },

  /** An ISO 8601 time, normalised (`timeField`): `null` or `''` clear it (`null`). */
  time(): FieldSchema<string | null | undefined> {
    return { kind: 'time', read: timeField };
  },
} as const;

/** The methods whose fields come from the JSON body; the others' from the query string. */
export const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Reads a request's declared fields, in the order declared: from the JSON body for
 * POST/PUT/PATCH, from the query string for GET (LIST), HEAD and DELETE, as Vault does. Fields
 * the route does not declare are ignored (as in Vault); a route that declares none reads
 * nothing.
 *
 * @example
 * ```ts
 * readFields({ limit: field.int({ default: 100 }) }, request); // { limit: 100 }
 * ```
 */
export function readFields<F extends FieldSchemas>(
  schemas: F,
  request: Pick<FastifyRequest, 'method' | 'body' | 'query'>,
): FieldValues<F> {
  const entries = Object.entries(schemas);
  if (entries.length === 0) return {} as FieldValues<F>;
  const source = BODY_METHODS.has(request.method)
    ? bodyOf(request)
    : ((request.query ?? {}) as Readonly<Record<string, unknown>>);
  const values: Record<string, unknown> = {};
  for (const [name, declared] of entries) {
    // Own properties only: a field named like an Object method is not read off the prototype.
    values[name] = declared.read(Object.hasOwn(source, name) ? source[name] : undefined, name);
  }
  return values as FieldValues<F>;
}
