/**
 * Where secret values come from. Every store — the process environment, dotenv files, secret
 * files, and later the custos server / HashiCorp Vault (KV v2) and AWS Secrets Manager — sits
 * behind this one small interface; caching, single-flight, stale-if-error, validation and
 * redaction are done once, above it, by `createSecrets`.
 *
 * Writing a provider: `get` returns the value or `undefined` when the store does not hold the
 * name (a miss lets the next provider of a chain answer); it throws only when the store could
 * not be asked (unreachable, unreadable) — an error is never taken as a miss. Error messages
 * must not contain values. `list` returns the names the store holds right now. `watch`, when
 * the store can push changes, calls the listener with the names that changed and returns a
 * function that stops watching.
 *
 * @example
 * ```ts
 * const fromMap = (values: Map<string, string>): SecretProvider => ({
 *   name: 'map',
 *   get: async (name) => values.get(name),
 *   list: async () => [...values.keys()],
 * });
 * ```
 */
export interface SecretProvider {
  /** Short label for messages and reports: `env`, `dotenv`, `files`, `vault:secret/app`. */
  readonly name: string;
  /**
   * True for a provider production refuses unless told otherwise: the plain process
   * environment, readable by anything that can inspect the process.
   */
  readonly refusedInProduction?: boolean;
  /** The value, or `undefined` when this store does not hold `name`. */
  get(name: string): Promise<string | undefined>;
  /** Names this store holds now. */
  list(): Promise<readonly string[]>;
  /** Optional push notification of changed names; returns the function that stops it. */
  watch?(listener: (names: readonly string[]) => void): () => void;
  /**
   * Optional: the value of `name` in the version holding a staging label other than
   * `current` (a rotation's `previous` or `pending` version), or `undefined` when the store
   * does not hold it. Only stores with versions implement it (the custos server's KV).
   */
  getStaged?(name: string, stage: NonCurrentStage): Promise<string | undefined>;
}

/** The staging labels of a rotated secret (docs/rotation.md): `current` is what `get` reads. */
export type SecretStage = 'current' | 'previous' | 'pending';

/** A staging label other than `current`. */
export type NonCurrentStage = Exclude<SecretStage, 'current'>;

/**
 * `production` turns on the production gate (weak values, development defaults and the plain
 * process environment are refused); any other value is development-like (weak values warn).
 */
export type Environment = 'production' | 'development' | 'test' | (string & {});

/**
 * The environment custos assumes when none is given: `NODE_ENV`, else `development`.
 *
 * @example
 * ```ts
 * defaultEnvironment({ NODE_ENV: 'production' }); // 'production'
 * ```
 */
export function defaultEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const fromNode = env.NODE_ENV?.trim();
  return fromNode === undefined || fromNode === '' ? 'development' : fromNode;
}

/** Receives warnings: weak values in development, stale values served, readable files. */
export type WarningListener = (message: string) => void;

/** Default warning sink: a Node.js process warning (printed once to stderr by default). */
export const emitWarning: WarningListener = (message) => {
  process.emitWarning(message, { code: 'CUSTOS_SECRETS' });
};
