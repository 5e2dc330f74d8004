import { isDeepStrictEqual } from 'node:util';
import type { ParameterValues } from './policy-parse.js';

/** A rule's parameter constraints (several policies' rules for one path, merged). */
export interface ParameterConstraints {
  readonly allowed?: ParameterValues | undefined;
  readonly denied?: ParameterValues | undefined;
  readonly required: readonly string[];
}

/** Whether `constraints` constrain anything at all. */
export function constrains(constraints: ParameterConstraints): boolean {
  return (
    (constraints.allowed?.size ?? 0) > 0 ||
    (constraints.denied?.size ?? 0) > 0 ||
    constraints.required.length > 0
  );
}

/**
 * Why a request's parameters (its top-level body keys for a write, its query for a read) break
 * `constraints`, or `undefined` when they keep them. Vault's order and rules:
 * 1. each `required_parameters` name must be sent, by its lower-case name;
 * 2. no parameters at all: allowed;
 * 3. `denied_parameters`: `*` denies any parameter; a parameter whose lower-case name is listed
 *    is refused when its value matches the list (an empty list matches every value);
 * 4. `allowed_parameters`: none, or only `*`: allowed; otherwise each parameter's lower-case
 *    name must be listed (or `*` be there too), and a listed one's value must match its list.
 *
 * A value matches a list (Vault 1.21's per-element matching) when it matches one element, or
 * when it is a list, or a comma-separated string, and its elements match: all of them for
 * `allowed_parameters`, any one for `denied_parameters`; a string with a comma is allowed only
 * by its parts (or an element equal to all of it), never by a glob over the whole. A string
 * element may start and/or end
 * with `*` (`"*-prod"`, `"app-*"`, `"*mid*"`); numbers and booleans match their text too, as
 * the field readers take `5` and `"5"` alike.
 *
 * Parameter names are named in the reason (the request's own keys); values never are.
 *
 * @example
 * ```ts
 * parameterRefusal({ allowed: new Map([['ttl', ['1h']]]), required: [] }, { ttl: '2h' });
 * // 'parameter "ttl" has a value allowed_parameters does not allow'
 * ```
 */
export function parameterRefusal(
  constraints: ParameterConstraints,
  data: unknown,
): string | undefined {
  if (!constrains(constraints)) return undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return 'the request body is not a JSON object, so its parameters cannot be checked';
  }
  for (const name of constraints.required) {
    if (!Object.hasOwn(data, name)) return `required parameter "${name}" is missing`;
  }
  const entries = Object.entries(data);
  if (entries.length === 0) return undefined;
  const { allowed, denied } = constraints;
  if (denied !== undefined && denied.size > 0) {
    if (denied.has('*')) return 'denied_parameters "*" denies every parameter';
    for (const [name, value] of entries) {
      const list = denied.get(name.toLowerCase());
      if (list !== undefined && deniedValue(value, list))
        return `parameter "${name}" is denied by denied_parameters`;
    }
  }
  if (allowed === undefined || allowed.size === 0) return undefined;
  const anyName = allowed.has('*');
  if (anyName && allowed.size === 1) return undefined;
  for (const [name, value] of entries) {
    const list = allowed.get(name.toLowerCase());
    if (list === undefined) {
      if (!anyName) return `parameter "${name}" is not in allowed_parameters`;
    } else if (!allowedValue(value, list)) {
      return `parameter "${name}" has a value allowed_parameters does not allow`;
    }
  }
  return undefined;
}

function allowedValue(value: unknown, list: readonly unknown[]): boolean {
  if (list.length === 0) return true;
  // A comma-separated string is judged by its parts, unless an element names it exactly: a
  // glob must not pass a whole string with another value after a comma (`app-*` and
  // `"app-one,admin"`, which the field readers take as two values), as Vault's does.
  if (typeof value === 'string' && value.includes(',')) {
    if (list.includes(value)) return true;
  } else if (inList(value, list)) return true;
  const parts = elementsOf(value);
  // An empty list or string has no element to judge: it is not taken as allowed (Vault lets it
  // through, and an empty `policies` means "the parent's policies").
  return parts !== undefined && parts.length > 0 && parts.every((part) => inList(part, list));
}

function deniedValue(value: unknown, list: readonly unknown[]): boolean {
  if (list.length === 0 || inList(value, list)) return true;
  return (elementsOf(value) ?? []).some((part) => inList(part, list));
}

/** A list's elements, or a comma-separated string's trimmed parts; undefined for other values. */
function elementsOf(value: unknown): readonly unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') {
    return value === '' ? [] : value.split(',').map((part) => part.trim());
  }
  return undefined;
}

function inList(value: unknown, list: readonly unknown[]): boolean {
  return list.some((element) => matchesElement(value, element));
}

function matchesElement(value: unknown, element: unknown): boolean {
  if (value === null || element === null) return value === element;
  const text = scalarText(value);
  if (typeof element === 'string') return text !== undefined && globMatch(element, text);
  const elementText = scalarText(element);
  if (text !== undefined && elementText !== undefined) return text === elementText;
  return isDeepStrictEqual(value, element);
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * Vault's `GlobbedStringsMatch`: a leading and/or trailing `*` matches any text there; a pattern
 * shorter than two characters (`*` itself) matches only itself.
 */
export function globMatch(pattern: string, value: string): boolean {
  if (pattern.length < 2) return value === pattern;
  const leading = pattern.startsWith('*');
  const trailing = pattern.endsWith('*');
  if (leading && trailing) return value.includes(pattern.slice(1, -1));
  if (leading) return value.endsWith(pattern.slice(1));
  if (trailing) return value.startsWith(pattern.slice(0, -1));
  return value === pattern;
}
