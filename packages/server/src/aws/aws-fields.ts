import { invalidParameter } from './aws-error.js';

/**
 * Readers for the members of a Secrets Manager request body, one per type. A refusal names
 * the member, never its value (values may be secrets).
 *
 * @example
 * ```ts
 * const days = optionalInt(body.RecoveryWindowInDays, 'RecoveryWindowInDays', 7, 30);
 * ```
 */
export function optionalString(
  value: unknown,
  field: string,
  maxLength = 65536,
  minLength = 0,
): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length < minLength || value.length > maxLength)
    throw invalidParameter(`${field} must be a string of ${minLength} to ${maxLength} characters`);
  return value;
}

/** A required string member. */
export function requiredString(value: unknown, field: string, maxLength = 65536): string {
  const text = optionalString(value, field, maxLength, 1);
  if (text === undefined) throw invalidParameter(`${field} is required`);
  return text;
}

/** An optional integer member within `[min, max]`. */
export function optionalInt(
  value: unknown,
  field: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalidParameter(`${field} must be an integer from ${min} to ${max}`);
  return value;
}

/** An optional boolean member. */
export function optionalBool(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidParameter(`${field} must be a boolean`);
  return value;
}

/** An optional list of strings, each 1 to `maxLength` characters, at most `maxItems`. */
export function optionalStringList(
  value: unknown,
  field: string,
  maxItems: number,
  maxLength = 256,
): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    !Array.isArray(value) ||
    value.length > maxItems ||
    value.some((v) => typeof v !== 'string' || v.length === 0 || v.length > maxLength)
  )
    throw invalidParameter(
      `${field} must be a list of at most ${maxItems} strings of 1 to ${maxLength} characters`,
    );
  return value as string[];
}

/** AWS tags: `[{ Key, Value }]`, at most 50, keys 1–128 and values 0–256 characters. */
export function tagList(value: unknown, field = 'Tags'): { Key: string; Value: string }[] {
  if (!Array.isArray(value) || value.length > 50)
    throw invalidParameter(`${field} must be a list of at most 50 tags`);
  return value.map((tag) => {
    const t = (typeof tag === 'object' && tag !== null ? tag : {}) as Record<string, unknown>;
    return {
      Key: requiredString(t.Key, `${field}.Key`, 128),
      Value: optionalString(t.Value, `${field}.Value`, 256) ?? '',
    };
  });
}
