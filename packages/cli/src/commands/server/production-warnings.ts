/** What a production configuration needs a loud warning about. */
export interface ProductionSettings {
  readonly host: string;
  readonly tls: boolean;
  readonly auditSinks: number;
}

/** Loopback addresses: traffic to them never leaves the machine. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * The warnings `custos server --config` prints at start-up, one line each: listening beyond
 * loopback without TLS (tokens, unseal keys and secrets would cross the network in the clear)
 * and running without an audit sink (nothing would record who read what).
 *
 * @example
 * ```ts
 * productionWarnings({ host: '0.0.0.0', tls: false, auditSinks: 1 });
 * // ['WARNING: listening on 0.0.0.0 without TLS: …']
 * ```
 */
export function productionWarnings(settings: ProductionSettings): string[] {
  const warnings: string[] = [];
  if (!settings.tls && !isLoopback(settings.host)) {
    warnings.push(
      `WARNING: listening on ${settings.host} without TLS: tokens, unseal keys and secret values cross the network in the clear. Add "tls": {"cert", "key"} to the configuration, or listen on 127.0.0.1 behind a TLS-terminating proxy.`,
    );
  }
  if (settings.auditSinks === 0) {
    warnings.push(
      'WARNING: no audit sink: nothing records who read or changed what. Add "audit": [{"type": "file", "path": "audit.log"}] to the configuration.',
    );
  }
  return warnings;
}
