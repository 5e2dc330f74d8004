import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { isIP } from 'node:net';
import type { ConnectionOptions, PeerCertificate, TLSSocket } from 'node:tls';
import { CustosError } from '../errors/index.js';
import {
  type CertificateSummary,
  type CheckResult,
  certificateChecks,
  summarize,
} from './certificate-checks.js';
import { warnDaysOf } from './certificate-file-check.js';
import { nodeTls } from './node-tls.js';

/** Options of {@link checkTlsEndpoint}. */
export interface TlsEndpointCheckOptions {
  readonly host: string;
  readonly port: number;
  /** The name to ask for (SNI) and match the certificate against; default `host`. */
  readonly servername?: string;
  /** Trusted CA bundle (default: Node's bundled roots). */
  readonly caFile?: string;
  /** Fail when the certificate expires in fewer days (default 30). */
  readonly warnDays?: number;
  /** Per connection (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** Default now. */
  readonly now?: Date;
}

/** What {@link checkTlsEndpoint} found. */
export interface TlsEndpointReport {
  /** False when any check failed. */
  readonly ok: boolean;
  readonly host: string;
  readonly port: number;
  readonly servername: string;
  /** Whether the server completes a handshake at each version. */
  readonly protocols: Readonly<Record<TlsVersion, boolean>>;
  /** The version and cipher of a handshake at the best version the server offers. */
  readonly negotiated?: { readonly protocol: string; readonly cipher: string };
  readonly certificate?: CertificateSummary;
  readonly checks: readonly CheckResult[];
}

type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
const VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
// The probe must be able to speak what it looks for: old versions, weak keys and signatures.
const PROBE_CIPHERS = 'DEFAULT@SECLEVEL=0';

interface Handshake {
  readonly socket: TLSSocket;
  readonly ocsp: Buffer | undefined;
}

function handshake(options: ConnectionOptions, timeoutMs: number): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let ocsp: Buffer | undefined;
    const socket = nodeTls.connect({
      ...options,
      ciphers: PROBE_CIPHERS,
      rejectUnauthorized: false,
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('timed out')));
    // Node emits null when the server staples nothing.
    socket.once('OCSPResponse', (response: Buffer | null) => {
      ocsp = response ?? undefined;
    });
    socket.once('secureConnect', () => resolve({ socket, ocsp }));
    socket.once('error', reject);
  });
}

function peerChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let current: PeerCertificate | undefined = socket.getPeerCertificate(true);
  while (current?.raw !== undefined && chain.length < 10) {
    const cert = new X509Certificate(current.raw);
    if (chain.some((c) => c.fingerprint256 === cert.fingerprint256)) break;
    chain.push(cert);
    current = (current as PeerCertificate & { issuerCertificate?: PeerCertificate })
      .issuerCertificate;
  }
  return chain;
}

function hstsCheck(options: ConnectionOptions, timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: options.host,
        port: options.port,
        ...(options.servername === undefined ? {} : { servername: options.servername }),
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        method: 'GET',
        path: '/',
        rejectUnauthorized: false,
        ciphers: PROBE_CIPHERS,
        minVersion: 'TLSv1',
        agent: false,
        timeout: timeoutMs,
        headers: { host: options.servername ?? options.host },
      },
      (response) => {
        response.resume();
        const header = response.headers['strict-transport-security'];
        resolve(
          typeof header === 'string' && /max-age=\d+/i.test(header)
            ? { check: 'hsts', status: 'pass', detail: `Strict-Transport-Security: ${header}` }
            : {
                check: 'hsts',
                status: 'fail',
                detail: 'HTTP answers over TLS without a Strict-Transport-Security header',
              },
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () =>
      resolve({
        check: 'hsts',
        status: 'info',
        detail: 'no HTTP answer over TLS: HSTS not checked',
      }),
    );
    req.end();
  });
}

/**
 * Checks a TLS endpoint: the protocol versions it completes a handshake at (TLS 1.0 or 1.1
 * offered fails), the negotiated cipher, the chain against the trusted CAs, the certificate
 * matching the host name, days to expiry, weak keys and signatures, OCSP stapling (reported),
 * and — when it answers HTTP — the HSTS header. What `custos tls check` prints. Only the
 * given host is contacted.
 *
 * @example
 * ```ts
 * const report = await checkTlsEndpoint({ host: 'example.com', port: 443, warnDays: 21 });
 * if (!report.ok) process.exitCode = 1;
 * ```
 */
export async function checkTlsEndpoint(
  options: TlsEndpointCheckOptions,
): Promise<TlsEndpointReport> {
  const { host, port } = options;
  if (
    typeof host !== 'string' ||
    host === '' ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535
  ) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'host must be a host name or address and port 1 to 65535',
    );
  }
  const now = options.now ?? new Date();
  const warnDays = warnDaysOf(options.warnDays);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const servername = options.servername ?? host;
  let ca: Buffer | undefined;
  if (options.caFile !== undefined) {
    try {
      ca = readFileSync(options.caFile);
    } catch (err) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `cannot read the CA bundle ${options.caFile}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      );
    }
  }
  const base: ConnectionOptions = {
    host,
    port,
    // SNI carries names only, never addresses.
    ...(isIP(servername) === 0 ? { servername } : {}),
    ...(ca === undefined ? {} : { ca }),
  };

  const protocols = {} as Record<TlsVersion, boolean>;
  for (const version of VERSIONS) {
    try {
      const { socket } = await handshake(
        { ...base, minVersion: version, maxVersion: version },
        timeoutMs,
      );
      protocols[version] = true;
      socket.destroy();
    } catch {
      protocols[version] = false;
    }
  }
  const checks: CheckResult[] = [];
  const old = VERSIONS.filter((v) => (v === 'TLSv1' || v === 'TLSv1.1') && protocols[v]);
  checks.push(
    old.length > 0
      ? {
          check: 'protocols',
          status: 'fail',
          detail: `offers ${old.join(' and ')}, which are broken (RFC 8996)`,
        }
      : protocols['TLSv1.2'] || protocols['TLSv1.3']
        ? {
            check: 'protocols',
            status: 'pass',
            detail: `offers ${VERSIONS.filter((v) => protocols[v]).join(', ')}`,
          }
        : {
            check: 'protocols',
            status: 'fail',
            detail: 'no TLS handshake succeeded at any version',
          },
  );

  let main: Handshake;
  try {
    main = await handshake(
      // tls.connect hands requestOCSP to the TLSSocket it creates; its types leave it out.
      // The name is judged by the hostname check below: `authorized` then speaks of the chain only.
      {
        ...base,
        minVersion: 'TLSv1',
        requestOCSP: true,
        checkServerIdentity: () => undefined,
      } as ConnectionOptions,
      timeoutMs,
    );
  } catch (err) {
    checks.push({
      check: 'connect',
      status: 'fail',
      detail: `no TLS connection to ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    });
    return { ok: false, host, port, servername, protocols, checks };
  }
  const { socket } = main;
  const negotiated = {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: socket.getCipher().name,
  };
  const authorized = socket.authorized;
  const authorizationError = String(socket.authorizationError ?? '');
  const chain = peerChain(socket);
  socket.destroy();
  checks.push({
    check: 'cipher',
    status: 'info',
    detail: `${negotiated.protocol} ${negotiated.cipher}`,
  });

  const leaf = chain[0];
  if (leaf === undefined) {
    checks.push({ check: 'chain', status: 'fail', detail: 'the server sent no certificate' });
    return { ok: false, host, port, servername, protocols, negotiated, checks };
  }
  checks.push(
    authorized
      ? { check: 'chain', status: 'pass', detail: 'the chain verifies against the trusted CAs' }
      : {
          check: 'chain',
          status: 'fail',
          detail: `the chain does not verify: ${authorizationError}`,
        },
  );
  const matches =
    isIP(servername) === 0
      ? leaf.checkHost(servername) !== undefined
      : leaf.checkIP(servername) !== undefined;
  checks.push(
    matches
      ? { check: 'hostname', status: 'pass', detail: `the certificate covers ${servername}` }
      : {
          check: 'hostname',
          status: 'fail',
          detail: `the certificate does not cover ${servername} (${leaf.subjectAltName ?? leaf.subject.replaceAll('\n', ', ')})`,
        },
  );
  checks.push(...certificateChecks(leaf, { now, warnDays }));
  checks.push(
    main.ocsp === undefined
      ? { check: 'ocsp-stapling', status: 'info', detail: 'no OCSP response stapled' }
      : {
          check: 'ocsp-stapling',
          status: 'pass',
          detail: `OCSP response stapled (${main.ocsp.length} bytes)`,
        },
  );
  checks.push(await hstsCheck(base, timeoutMs));
  return {
    ok: checks.every((c) => c.status !== 'fail'),
    host,
    port,
    servername,
    protocols,
    negotiated,
    certificate: summarize(leaf, now),
    checks,
  };
}
