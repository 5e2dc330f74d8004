/**
 * What a finding shows of its secret: at most its first four characters (and never more than a
 * quarter of it), then `…`.
 *
 * @example
 * ```ts
 * redactSecret('ghp_abcdefghijklmnopqrstuvwxyz0123456789'); // "ghp_…"
 * ```
 */
export function redactSecret(secret: string): string {
  return `${secret.slice(0, Math.min(4, Math.floor(secret.length / 4)))}…`;
}
