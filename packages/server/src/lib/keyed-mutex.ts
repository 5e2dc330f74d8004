/**
 * Serialises async work per key within this process. Writers of the same KV key on one node
 * wait their turn instead of colliding and retrying; writers on other nodes are still settled
 * by the storage's revision checks.
 *
 * @example
 * ```ts
 * const locks = new KeyedMutex();
 * await locks.run('app/db', () => writeVersion());
 * ```
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.catch(() => {}).then(work);
    const tail = result.catch(() => {});
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
