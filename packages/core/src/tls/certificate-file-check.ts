import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CustosError } from '../errors/index.js';
import {
  type CertificateSummary,
  type CheckResult,
  certificateChecks,
  summarize,
} from './certificate-checks.js';
import { defaultTrustAnchors, parseCertificates, verifyChain } from './chain.js';

/** Options of {@link checkCertificateFile}. */
export interface CertificateFileCheckOptions {
  /** PEM file: the certificate, optionally followed by its intermediates. */
  readonly certFile: string;
  /** The private key that should match it. */
  readonly keyFile?: string;
  /** Trusted CA bundle (default: Node's bundled roots). */
  readonly caFile?: string;
  /** Fail when the certificate expires in fewer days (default 30). */
  readonly warnDays?: number;
  /** Default now. */
  readonly now?: Date;
}

/** The outcome of a certificate or endpoint check. */
export interface CertificateReport {
  /** False when any check failed. */
  readonly ok: boolean;
  readonly certificate: CertificateSummary;
  readonly checks: readonly CheckResult[];
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
}

/** @internal */
export function warnDaysOf(value: number | undefined): number {
  const days = value ?? 30;
  if (!Number.isSafeInteger(days) || days < 0) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'warnDays must be a whole number ≥ 0');
  }
  return days;
}

/**
 * Checks a certificate file: validity and days to expiry, the chain to a trusted CA, the
 * private key matching it, weak keys (RSA below 2048 bits, EC below 256, DSA) and weak
 * signature algorithms (MD5, SHA-1), for the leaf and every intermediate in the file. What
 * `custos cert check` prints.
 *
 * @example
 * ```ts
 * const report = checkCertificateFile({ certFile: 'cert.pem', keyFile: 'key.pem', warnDays: 21 });
 * if (!report.ok) console.error(report.checks.filter((c) => c.status === 'fail'));
 * ```
 */
export function checkCertificateFile(options: CertificateFileCheckOptions): CertificateReport {
  const now = options.now ?? new Date();
  const warnDays = warnDaysOf(options.warnDays);
  const chain = parseCertificates(read(options.certFile, 'certificate'), options.certFile);
  const anchors =
    options.caFile === undefined
      ? defaultTrustAnchors()
      : parseCertificates(read(options.caFile, 'CA bundle'), options.caFile);
  const leaf = chain[0] as (typeof chain)[number];
  const checks: CheckResult[] = [...certificateChecks(leaf, { now, warnDays })];
  chain.slice(1).forEach((intermediate, i) => {
    checks.push(
      ...certificateChecks(intermediate, { now, warnDays, label: `intermediate ${i + 1}` }),
    );
  });
  checks.push(verifyChain(chain, anchors));
  if (options.keyFile !== undefined) {
    const keyData = read(options.keyFile, 'private key');
    let matches: boolean | undefined;
    try {
      matches = leaf.checkPrivateKey(createPrivateKey(keyData));
    } catch {
      matches = undefined;
    }
    checks.push(
      matches === undefined
        ? {
            check: 'key-match',
            status: 'fail',
            detail: `${options.keyFile} is not a readable private key`,
          }
        : matches
          ? {
              check: 'key-match',
              status: 'pass',
              detail: 'the private key matches the certificate',
            }
          : {
              check: 'key-match',
              status: 'fail',
              detail: `the private key ${options.keyFile} does not match the certificate`,
            },
    );
  }
  return {
    ok: checks.every((c) => c.status !== 'fail'),
    certificate: summarize(leaf, now),
    checks,
  };
}
