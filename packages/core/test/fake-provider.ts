import type { SecretProvider } from '../src/secrets/provider.js';

/** A provider over a Map that counts calls and can be made to fail, for tests. */
export interface FakeProvider extends SecretProvider {
  readonly values: Map<string, string>;
  /** Calls of `get`, by name. */
  readonly calls: Map<string, number>;
  /** When set, `get` throws it. */
  failWith: Error | undefined;
  /** When set, `get` waits for this promise first (to hold calls in flight). */
  gate: Promise<void> | undefined;
  /** Pushes a change notification to the watcher, if any. */
  notify(names: readonly string[]): void;
}

export function fakeProvider(initial: Record<string, string> = {}, name = 'fake'): FakeProvider {
  let listener: ((names: readonly string[]) => void) | undefined;
  const provider: FakeProvider = {
    name,
    values: new Map(Object.entries(initial)),
    calls: new Map(),
    failWith: undefined,
    gate: undefined,
    async get(key) {
      provider.calls.set(key, (provider.calls.get(key) ?? 0) + 1);
      if (provider.gate !== undefined) await provider.gate;
      if (provider.failWith !== undefined) throw provider.failWith;
      return provider.values.get(key);
    },
    async list() {
      return [...provider.values.keys()];
    },
    watch(onChange) {
      listener = onChange;
      return () => {
        listener = undefined;
      };
    },
    notify(names) {
      listener?.(names);
    },
  };
  return provider;
}
