import { CustosError } from '../errors/index.js';

/** The kinds of problem validation reports. */
export type ProblemKind =
  /** Not set anywhere (an empty value counts as not set). */
  | 'missing'
  /** Not one of the allowed values (`oneOf`). */
  | 'not-allowed'
  /** Not valid in the declared encoding (hex, base64, base64url, PEM). */
  | 'encoding'
  /** Fewer decoded bytes than `minBytes`. */
  | 'too-short'
  /** Estimated entropy under the floor. */
  | 'low-entropy'
  /** On the blacklist of common and default passwords. */
  | 'weak'
  /** A placeholder left from an example file. */
  | 'placeholder'
  /** A development or test credential in production. */
  | 'development-value'
  /** The provider could not read it, or an encrypted value could not be decrypted. */
  | 'unreadable';

/** One problem with one variable. `detail` never contains the value. */
export interface SecretProblem {
  readonly name: string;
  readonly kind: ProblemKind;
  readonly detail: string;
}

/**
 * Formats a problem as one line: `NAME: detail`.
 *
 * @example
 * ```ts
 * formatProblem({ name: 'JWT_SECRET', kind: 'too-short', detail: 'too short: 12 of 32 bytes' });
 * ```
 */
export function formatProblem(problem: SecretProblem): string {
  return `${problem.name}: ${problem.detail}`;
}

/**
 * A required secret is not set in any provider (`ERR_SECRET_MISSING`).
 *
 * @example
 * ```ts
 * try { await secrets.getRequiredSecret('DB_PASSWORD'); }
 * catch (err) { if (err instanceof SecretMissing) console.error(err.secretName); }
 * ```
 */
export class SecretMissing extends CustosError {
  readonly secretName: string;

  constructor(secretName: string, providerNames: readonly string[]) {
    super(
      'ERR_SECRET_MISSING',
      `${secretName} is not set (looked in: ${providerNames.join(', ') || 'no providers'})`,
    );
    this.secretName = secretName;
  }
}

/**
 * A single secret fails its strength rules in production (`ERR_WEAK_SECRET`).
 *
 * @example
 * ```ts
 * await secrets.getRequiredSecret('JWT_SECRET', secret({ minBytes: 32 }));
 * // WeakSecret: JWT_SECRET: too short: 12 of 32 bytes [ERR_WEAK_SECRET]
 * ```
 */
export class WeakSecret extends CustosError {
  readonly problems: readonly SecretProblem[];

  constructor(problems: readonly SecretProblem[]) {
    super('ERR_WEAK_SECRET', problems.map(formatProblem).join('; '));
    this.problems = problems;
  }
}

/**
 * The configuration fails its schema (`ERR_SECRETS_INVALID`). `problems` lists every problem
 * found, one per variable and kind; the message lists them one per line. Never holds a value.
 *
 * @example
 * ```ts
 * try { await secrets.load(schema); }
 * catch (err) {
 *   if (err instanceof SecretsInvalid) for (const p of err.problems) report(p.name, p.kind);
 *   throw err;
 * }
 * ```
 */
export class SecretsInvalid extends CustosError {
  readonly problems: readonly SecretProblem[];

  constructor(problems: readonly SecretProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      'ERR_SECRETS_INVALID',
      `secrets configuration has ${count}:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`,
    );
    this.problems = problems;
  }
}
