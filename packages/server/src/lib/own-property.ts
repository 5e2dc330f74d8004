/**
 * Sets `key` on `target` as an own, enumerable data property — also when `key` is `__proto__`,
 * which a plain assignment (`target[key] = value`) would take as a change of the prototype, so
 * the field would vanish from the object (and from its JSON, its audit entry…). Use it wherever
 * a key comes from a request.
 *
 * @example
 * ```ts
 * const out: Record<string, unknown> = {};
 * setOwn(out, '__proto__', 'x');
 * JSON.stringify(out); // '{"__proto__":"x"}'
 * ```
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * `target[key]` only when `target` has it as its own property: a request's `__proto__`,
 * `constructor` or `toString` never reads what the prototype holds.
 *
 * @example
 * ```ts
 * ownValue({}, 'constructor'); // undefined, not Object
 * ```
 */
export function ownValue(target: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(target, key) ? target[key] : undefined;
}
