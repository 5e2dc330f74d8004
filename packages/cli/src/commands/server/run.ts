import type { Server as TlsServer } from 'node:tls';
import { CustosError } from '@custos/core/errors';
import { reloadTlsOnSighup, type TlsSettings, tlsServerOptions } from '@custos/core/tls';
import type { ServerTlsConfig } from '@custos/server';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';
import { limitHeapGrowth } from './heap-growth.js';
import { productionWarnings } from './production-warnings.js';

interface Options {
  dev: boolean;
  devRootTokenId?: string;
  listen: string;
  storage?: string;
  auditFile?: string;
  config?: string;
}

export async function run(options: Options): Promise<number> {
  limitHeapGrowth();
  const server = await import('@custos/server');
  if (options.dev === (options.config !== undefined)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'choose one: --dev, or --config <file> for production',
    );
  }
  let running: Awaited<ReturnType<typeof server.startServer>>;
  let stopReload = () => {};
  if (options.dev) {
    const { host, port } = server.parseListen(options.listen);
    running = await server.startServer({
      dev: options.devRootTokenId === undefined ? {} : { rootTokenId: options.devRootTokenId },
      host,
      port,
      storage: options.storage ?? ':memory:',
      logLevel: 'warn',
      ...(options.auditFile === undefined
        ? {}
        : { audit: [{ type: 'file' as const, path: options.auditFile }] }),
    });
    warn(
      'WARNING: dev mode. The server is unsealed, keeps its data in memory unless --storage is given,',
    );
    warn('and prints its root token. Never run dev mode in production.');
    print(`Listening on:  ${running.url}`);
    print(`Dashboard:     ${running.url}/ui/`);
    if (running.unsealKey !== undefined) print(`Unseal key:    ${running.unsealKey}`);
    if (running.rootToken !== undefined) print(`Root token:    ${running.rootToken}`);
    print(`\n    export CUSTOS_ADDR='${running.url}'   # VAULT_ADDR works too`);
  } else {
    const config = await server.readServerConfig(options.config as string);
    const { host, port } = server.parseListen(config.listen);
    const tlsSettings = config.tls === undefined ? undefined : serverTlsSettings(config.tls);
    // Read and checked now: a bad pair, cipher list or version stops the start (ERR_TLS_CONFIG).
    const tls = tlsSettings === undefined ? undefined : tlsServerOptions(tlsSettings);
    running = await server.startServer({
      host,
      port,
      storage: config.storage,
      audit: config.audit,
      maxRequestBytes: config.maxRequestBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      ...(config.aws === undefined ? {} : { aws: config.aws }),
      auditTimeoutMs: config.auditTimeoutMs,
      logLevel: config.logLevel,
      trustedProxies: config.trustedProxies,
      allowedHosts: config.allowedHosts,
      shutdownGraceMs: config.shutdownGraceMs,
      ...(config.seal === undefined ? {} : { seal: config.seal }),
      ...(config.telemetry === undefined ? {} : { telemetry: config.telemetry }),
      ...(config.rotation === undefined ? {} : { rotation: config.rotation }),
      ...(config.alerts === undefined ? {} : { alerts: config.alerts }),
      ...(config.ui ? {} : { ui: false as const }),
      ...(tls ? { tls } : {}),
    });
    for (const line of productionWarnings({
      host,
      tls: tls !== undefined,
      auditSinks: config.audit.length,
    })) {
      warn(line);
    }
    if (tlsSettings !== undefined) {
      // SIGHUP re-reads the certificate and key (open connections keep theirs).
      const reloader = reloadTlsOnSighup(running.app.server as unknown as TlsServer, tlsSettings, {
        onReload: (next) => {
          running.context.metrics.setCertificate(next.cert);
          print('TLS certificate reloaded');
        },
        onError: (err) => warn(`TLS certificate not reloaded: ${(err as Error).message}`),
      });
      stopReload = () => reloader.stop();
    }
    const status = running.context.seal.status();
    print(
      `custos ${server.serverVersion} listening on ${running.url} (${running.context.storage.description})`,
    );
    print(
      status.initialized
        ? 'sealed: unseal with `custos operator unseal`'
        : 'not initialised: run `custos operator init`',
    );
  }
  await new Promise<void>((resolve) => {
    // The first SIGTERM or SIGINT shuts down gracefully (in-flight requests finish, the audit
    // log is closed); a second one exits at once.
    let stopping = false;
    const stop = () => {
      if (stopping) {
        warn('second signal: exiting without waiting for the requests in flight');
        process.exit(ExitCode.error);
      }
      stopping = true;
      print('shutting down: finishing the requests in flight (send the signal again to force)');
      stopReload();
      void running.close().finally(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', () => void running.context.audit.reopen());
  });
  return ExitCode.ok;
}

function serverTlsSettings(tls: ServerTlsConfig): TlsSettings {
  return {
    certPath: tls.cert,
    keyPath: tls.key,
    ...(tls.ca === undefined ? {} : { caPath: tls.ca }),
    ...(tls.minVersion === undefined ? {} : { minVersion: tls.minVersion }),
    ...(tls.ciphers === undefined ? {} : { ciphers: tls.ciphers }),
    ...(tls.clientCertificates === undefined ? {} : { clientCertificates: tls.clientCertificates }),
  };
}
