import { CustosError, isCustosError } from '../errors/index.js';
import type { NonCurrentStage, SecretProvider } from './provider.js';

/**
 * Combines providers with fallback: for each name, the **first provider that holds it wins**
 * and later providers are not asked. A provider that throws stops the lookup with
 * `ERR_SECRET_PROVIDER` naming it — an outage is never mistaken for a miss (which could
 * silently pick a lower-priority value). `list` is the union of all names; `watch` merges the
 * providers that can watch; `getStaged` asks, in order, the providers that keep staged versions.
 *
 * @example
 * ```ts
 * const provider = chain([secretFiles(), dotenvFiles({ mode: 'production' })]);
 * await provider.get('DB_PASSWORD'); // /run/secrets/DB_PASSWORD if present, else .env files
 * ```
 */
export function chain(providers: readonly SecretProvider[]): SecretProvider {
  const members = [...providers];
  const watchers = members.filter((p) => typeof p.watch === 'function');
  return {
    name: members.map((p) => p.name).join(' > ') || 'empty chain',
    refusedInProduction: members.some((p) => p.refusedInProduction === true),
    async get(name) {
      for (const provider of members) {
        const value = await ask(provider, name, () => provider.get(name));
        if (value !== undefined) return value;
      }
      return undefined;
    },
    ...(members.some((p) => typeof p.getStaged === 'function')
      ? {
          async getStaged(name: string, stage: NonCurrentStage) {
            for (const provider of members) {
              if (provider.getStaged === undefined) continue;
              const value = await ask(provider, name, () =>
                (provider.getStaged as NonNullable<SecretProvider['getStaged']>)(name, stage),
              );
              if (value !== undefined) return value;
            }
            return undefined;
          },
        }
      : {}),
    async list() {
      const lists = await Promise.all(
        members.map((provider) => ask(provider, 'its names', () => provider.list())),
      );
      return [...new Set(lists.flat())];
    },
    ...(watchers.length === 0
      ? {}
      : {
          watch(listener: (names: readonly string[]) => void) {
            const stops = watchers.map((p) => p.watch?.(listener) ?? (() => {}));
            return () => {
              for (const stop of stops) stop();
            };
          },
        }),
  };
}

async function ask<T>(provider: SecretProvider, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isCustosError(err)) throw err;
    const reason = err instanceof Error ? err.message : 'unknown error';
    throw new CustosError(
      'ERR_SECRET_PROVIDER',
      `provider "${provider.name}" failed to read ${what}: ${reason}`,
      { cause: err },
    );
  }
}
