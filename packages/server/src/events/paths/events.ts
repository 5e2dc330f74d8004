import { CustosError, PermissionDenied } from '@custos/core/errors';
import type { TokenStore } from '../../auth/token-store.js';
import { ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { Acl } from '../../policy/acl.js';
import type { SealManager } from '../../seal/seal-manager.js';
import type { ChangeEvent, ChangeEvents } from '../change-events.js';

/** What the events route uses. */
export interface EventsDeps {
  readonly events: ChangeEvents;
  readonly tokens: Pick<TokenStore, 'lookup'>;
  readonly seal: Pick<SealManager, 'requireUnsealed'>;
  /** How often a wait checks that the server is unsealed and the token live (default 1000 ms). */
  readonly recheckMs?: number;
}

/** The longest wait a client may ask for, in seconds. */
export const MAX_WAIT_SECONDS = 60;
const DEFAULT_WAIT_SECONDS = 30;

/** The path the ACL must let the caller `read` for an event to be shown to it. */
export function readPathOf(event: Pick<ChangeEvent, 'mount' | 'engine' | 'key'>): string {
  return event.engine === 'kv-2'
    ? `${event.mount}/data/${event.key}`
    : `${event.mount}/${event.key}`;
}

/**
 * The `prefix` of a wait, checked: `<mount>/<key prefix>` in the spelling events carry. A `.`
 * or `..` segment, an empty segment (but a last one: `secret/app/`), a backslash or a control
 * character is refused: events are matched by plain string prefix, so such a prefix could
 * match nothing meaningful, and it would suggest a resolution the server never does.
 */
function checkedPrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  if (prefix.length > 1024) throw invalid('prefix is at most 1024 characters');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters
  if (/[\\\u0000-\u001f\u007f#?]/.test(prefix))
    throw invalid('prefix must not hold a backslash, #, ? or control character');
  const segments = prefix.split('/');
  segments.forEach((segment, i) => {
    if (segment === '.' || segment === '..')
      throw invalid('prefix must not hold a . or .. segment');
    if (segment === '' && i !== segments.length - 1)
      throw invalid('prefix must not hold an empty segment');
  });
  return prefix;
}

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * `GET /v1/sys/events/kv?prefix=…&index=N&wait=30s`: a long-poll of the changes of secrets
 * (KV writes, deletes, metadata changes, finished rotations) under `prefix`. Answers at once
 * when there are events after `index`, else when one arrives or `wait` ends: `{ index, resync,
 * events: [{ index, path, kind, time }] }`; present the answer's `index` next time. Each event
 * is shown only when the caller's ACL lets it `read` the secret (`<mount>/data/<key>` on KV
 * version 2): a secret the token cannot read is neither named nor counted. No values, no
 * versions. The wait ends with 503 on seal, 403 once the token is revoked, and at once (with
 * what there is) when the server shuts down.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [eventsPaths({ events, tokens, seal })]);
 * ```
 */
export function eventsPaths(deps: EventsDeps): RouteGroup {
  const recheckMs = deps.recheckMs ?? 1000;
  return {
    name: 'sys/events',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/events/kv',
        fields: {
          prefix: field.string(),
          index: field.int({ default: 0 }),
          wait: field.duration({ default: DEFAULT_WAIT_SECONDS }),
        },
        handler: async (request, reply, { prefix, index, wait }) => {
          const under = checkedPrefix(prefix);
          if (wait > MAX_WAIT_SECONDS) throw invalid(`wait is at most ${MAX_WAIT_SECONDS} seconds`);
          const acl = request.custos.acl as Acl | undefined;
          const token = request.custos.token;
          if (acl === undefined || token === undefined) throw new PermissionDenied();
          const keep = (event: ChangeEvent) =>
            `${event.mount}/${event.key}`.startsWith(under) &&
            acl.allows(readPathOf(event), 'read');
          const closed = new AbortController();
          request.raw.once('close', () => closed.abort());
          const deadline = Date.now() + wait * 1000;
          for (;;) {
            const slice = Math.max(0, Math.min(recheckMs, deadline - Date.now()));
            const result = await deps.events.waitAfter(index, slice, keep, closed.signal);
            // The server may have sealed, or the token been revoked, during the wait: such a
            // wait answers no event.
            deps.seal.requireUnsealed();
            if ((await deps.tokens.lookup(token)) === undefined) throw new PermissionDenied();
            if (
              result.resync ||
              result.events.length > 0 ||
              Date.now() >= deadline ||
              closed.signal.aborted ||
              deps.events.isShutDown()
            )
              return ok(request, reply, {
                index: result.index,
                resync: result.resync,
                events: result.events.map((e) => ({
                  index: e.index,
                  path: `${e.mount}/${e.key}`,
                  kind: e.kind,
                  time: e.time,
                })),
              });
          }
        },
      }),
    ],
  };
}
