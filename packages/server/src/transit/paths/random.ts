import { randomBytes } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { optionalInt } from '../../http/fields.js';
import { type RouteGroup, route } from '../../http/route-spec.js';

/**
 * `transit/random[/:bytes]`: random bytes (1 to 131072), base64 or hex.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [randomPaths()]);
 * ```
 */
export function randomPaths(): RouteGroup {
  return {
    name: 'transit/random',
    routes: [
      route({
        method: 'POST',
        path: ['/v1/:mount/random', '/v1/:mount/random/:bytes'],
        handler: async (request, reply) => {
          // Kept by hand: a `bytes` in the path wins over (and hides) the body's; `format` is a
          // choice.
          const body = bodyOf(request);
          const count = optionalInt(request.params.bytes ?? body.bytes, 'bytes') ?? 32;
          if (count < 1 || count > 128 * 1024)
            throw new CustosError('ERR_INVALID_REQUEST', 'bytes must be from 1 to 131072');
          const format = body.format ?? 'base64';
          if (format !== 'base64' && format !== 'hex')
            throw new CustosError('ERR_INVALID_REQUEST', 'format must be base64 or hex');
          return ok(request, reply, { random_bytes: randomBytes(count).toString(format) });
        },
      }),
    ],
  };
}
