import { kmsUnsupported, kmsValidation } from './kms-error.js';

/**
 * Readers for the members of a KMS request body. A refusal is a ValidationException naming
 * the member, never its value (a plaintext or a context may be secret).
 *
 * @example
 * ```ts
 * const plaintext = blobField(body.Plaintext, 'Plaintext', 4096);
 * ```
 */
export function blobField(value: unknown, field: string, maxBytes: number): Buffer {
  const bytes = optionalBlob(value, field, maxBytes);
  if (bytes === undefined) throw kmsValidation(`${field} is required`);
  return bytes;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** An optional blob member (base64 in the JSON protocol) of 1 to `maxBytes` bytes. */
export function optionalBlob(value: unknown, field: string, maxBytes: number): Buffer | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || !BASE64.test(value))
    throw kmsValidation(`${field} must be base64`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length === 0 || bytes.length > maxBytes)
    throw kmsValidation(`${field} must be 1 to ${maxBytes} bytes`);
  return bytes;
}

/** An optional string member of at most `maxLength` characters. */
export function kmsString(value: unknown, field: string, maxLength: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > maxLength)
    throw kmsValidation(`${field} must be a string of at most ${maxLength} characters`);
  return value;
}

/** An optional member that must be one of `choices`. */
export function kmsChoice<T extends string>(
  value: unknown,
  field: string,
  choices: readonly T[],
): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value))
    throw kmsValidation(`${field} must be one of ${choices.join(', ')}`);
  return value as T;
}

/** An optional integer member within `[min, max]`. */
export function kmsInt(
  value: unknown,
  field: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw kmsValidation(`${field} must be an integer from ${min} to ${max}`);
  return value;
}

/** Refuses `DryRun: true` (not served) and accepts `GrantTokens` (grants are not served: ignored). */
export function refuseDryRun(body: Record<string, unknown>): void {
  if (body.DryRun === true) throw kmsUnsupported('DryRun is not served by this server');
}
