import type { SecretProvider } from './provider.js';

/** Options of {@link processEnv}. */
export interface ProcessEnvOptions {
  /**
   * Production refuses this provider unless this is true: say so only when a trusted launcher
   * (`custos run`, the orchestrator) has already validated what it put in the environment.
   */
  readonly allowInProduction?: boolean;
  /** The environment to read; default `process.env`, read at each call. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Reads the process environment. Convenient in development; production refuses it unless
 * `allowInProduction` is set, since anything that can inspect the process (a crash dump, a
 * child process, `/proc/<pid>/environ`) can read it. For `NAME_FILE` indirection and mounted
 * secret files, use {@link secretFiles}.
 *
 * @example
 * ```ts
 * createSecrets({ providers: [processEnv(), dotenvFiles()] });
 * ```
 */
export function processEnv(options: ProcessEnvOptions = {}): SecretProvider {
  const env = () => options.env ?? process.env;
  return {
    name: 'env',
    refusedInProduction: options.allowInProduction !== true,
    async get(name) {
      const values = env();
      return Object.hasOwn(values, name) ? values[name] : undefined;
    },
    async list() {
      return Object.keys(env());
    },
  };
}
