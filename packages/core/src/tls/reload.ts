import type { Server as TlsServer } from 'node:tls';
import { type TlsServerOptions, tlsServerOptions } from './server-options.js';
import type { TlsSettings } from './tls-settings.js';

/** Hooks of {@link reloadTlsOnSighup}. */
export interface TlsReloadOptions {
  /** After a reload; new connections use the new certificate. */
  readonly onReload?: (options: TlsServerOptions) => void;
  /** A reload failed: the server keeps its current certificate. The error names the file. */
  readonly onError?: (error: unknown) => void;
  /** Default `SIGHUP`. */
  readonly signal?: NodeJS.Signals;
}

/** A running reloader. */
export interface TlsReloader {
  /** Re-reads and checks the files now; true when the new certificate is in use. */
  reload(): boolean;
  /** Stops listening for the signal. */
  stop(): void;
}

/**
 * Re-reads the certificate, key and CA bundle on SIGHUP and swaps them into the running server
 * with `setSecureContext`: open connections keep going, new handshakes get the new
 * certificate. Files that fail the checks of {@link tlsServerOptions} (unreadable, mismatched)
 * leave the current certificate in place and are reported to `onError`.
 *
 * @example
 * ```ts
 * const server = https.createServer(tlsServerOptions(settings), app);
 * reloadTlsOnSighup(server, settings, { onError: (err) => log.error(err) });
 * ```
 */
export function reloadTlsOnSighup(
  server: Pick<TlsServer, 'setSecureContext'>,
  settings: TlsSettings,
  options: TlsReloadOptions = {},
): TlsReloader {
  const signal = options.signal ?? 'SIGHUP';
  const reload = (): boolean => {
    let next: TlsServerOptions;
    try {
      next = tlsServerOptions(settings);
    } catch (err) {
      options.onError?.(err);
      return false;
    }
    server.setSecureContext(next);
    options.onReload?.(next);
    return true;
  };
  const onSignal = () => {
    reload();
  };
  process.on(signal, onSignal);
  return { reload, stop: () => process.off(signal, onSignal) };
}
