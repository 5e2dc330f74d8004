import { CustosError } from '@custos/core/errors';
import { isServerError } from '../errors.js';
import type { EntryStore } from '../storage/entry-store.js';

/**
 * An operation in progress (a rekey, a root token generation) as recorded in storage, so that
 * every server on the database sees it and only one runs at a time. It holds no secret: the
 * shares stay in the memory of the server that started it (`owner`).
 */
export interface StoredAttempt {
  readonly nonce: string;
  /** Identifies the server (the process's operation object) holding the progress. */
  readonly owner: string;
}

/**
 * The record of one kind of operation at `path` (in the clear, below the barrier like the seal
 * configuration).
 *
 * @example
 * ```ts
 * const attempts = operationAttempts<RekeyAttempt>(store, 'core/rekey-attempt', 'rekey');
 * await attempts.start({ nonce, owner, secret_shares: 5, secret_threshold: 3 });
 * ```
 */
export function operationAttempts<T extends StoredAttempt>(
  store: EntryStore,
  path: string,
  operation: string,
) {
  return {
    async read(): Promise<T | undefined> {
      const entry = await store.get(path);
      return entry === undefined
        ? undefined
        : (JSON.parse(Buffer.from(entry.value).toString('utf8')) as T);
    },
    /** Records `attempt`; refused when one is already in progress (on any server). */
    async start(attempt: T): Promise<void> {
      try {
        await store.insert(path, Buffer.from(JSON.stringify(attempt)));
      } catch (err) {
        if (isServerError(err, 'ERR_VERSION_CONFLICT'))
          throw new CustosError('ERR_INVALID_REQUEST', `${operation} already in progress`);
        throw err;
      }
    },
    async remove(): Promise<void> {
      await store.delete(path);
    },
  };
}

/**
 * The refusal of a share sent to a server that holds no progress for the operation recorded.
 *
 * @example
 * ```ts
 * throw notHeldHere('rekey', 'sys/rekey/init');
 * ```
 */
export function notHeldHere(operation: string, cancelPath: string): CustosError {
  return new CustosError(
    'ERR_INVALID_REQUEST',
    `this server holds no progress for the ${operation} in progress (it was started on another server, or before a seal or restart): send the keys to the server that started it, or cancel it (DELETE ${cancelPath}) and start again`,
  );
}
