import { createRequire } from 'node:module';
import type * as Tls from 'node:tls';

/**
 * `node:tls`, loaded with `require`. An ES import of it builds its module namespace, which
 * reads every export, and `rootCertificates` is a getter that then copies Node's ~145 root
 * certificates into strings: ~290 KB of heap held for the life of a process that may never
 * use them (a server without TLS; issue #16, idle memory). Through this object they are read
 * only where a trust anchor is needed.
 *
 * @example
 * ```ts
 * import { nodeTls } from './node-tls.js';
 * const socket = nodeTls.connect({ host, port, servername: host });
 * ```
 * @internal
 */
export const nodeTls: typeof Tls = createRequire(import.meta.url)('node:tls');
