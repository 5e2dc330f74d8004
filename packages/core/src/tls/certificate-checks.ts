import type { X509Certificate } from 'node:crypto';
import { signatureAlgorithmOf } from './signature-algorithm.js';

/** The outcome of one check. */
export interface CheckResult {
  /** What was checked: `validity`, `expiry`, `chain`, `key-match`, `key-size`, `signature`, … */
  readonly check: string;
  /** `fail` makes the whole check fail (exit 1 in the CLI); `warn` and `info` do not. */
  readonly status: 'pass' | 'warn' | 'fail' | 'info';
  readonly detail: string;
}

/** What a certificate is, as reported. */
export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAltName: string | undefined;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly daysToExpiry: number;
  readonly keyType: string;
  readonly keyBits: number | undefined;
  readonly signatureAlgorithm: string;
  readonly fingerprint256: string;
}

const DAY_MS = 86_400_000;

/** @internal */
export function summarize(cert: X509Certificate, now: Date): CertificateSummary {
  const details = cert.publicKey.asymmetricKeyDetails;
  return {
    subject: cert.subject.replaceAll('\n', ', '),
    issuer: cert.issuer.replaceAll('\n', ', '),
    subjectAltName: cert.subjectAltName,
    serialNumber: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    daysToExpiry: Math.floor((Date.parse(cert.validTo) - now.getTime()) / DAY_MS),
    keyType: cert.publicKey.asymmetricKeyType ?? 'unknown',
    keyBits: details?.modulusLength ?? curveBits(details?.namedCurve),
    signatureAlgorithm: signatureAlgorithmOf(cert).name,
    fingerprint256: cert.fingerprint256,
  };
}

function curveBits(curve: string | undefined): number | undefined {
  if (curve === undefined) return undefined;
  const bits = /(\d{3})/.exec(curve)?.[1];
  return bits === undefined ? undefined : Number(bits);
}

/**
 * The checks every certificate gets: validity window, days to expiry against `warnDays`, key
 * size (RSA and DSA below 2048 bits, EC below 256 fail) and signature algorithm (MD5, SHA-1 fail).
 * @internal
 */
export function certificateChecks(
  cert: X509Certificate,
  options: { now: Date; warnDays: number; label?: string },
): CheckResult[] {
  const { now, warnDays } = options;
  const label = options.label === undefined ? '' : `${options.label}: `;
  const summary = summarize(cert, now);
  const results: CheckResult[] = [];
  if (Date.parse(cert.validFrom) > now.getTime()) {
    results.push({
      check: 'validity',
      status: 'fail',
      detail: `${label}not valid before ${summary.notBefore}`,
    });
  } else if (Date.parse(cert.validTo) <= now.getTime()) {
    results.push({
      check: 'validity',
      status: 'fail',
      detail: `${label}expired on ${summary.notAfter}`,
    });
  } else {
    results.push({
      check: 'validity',
      status: 'pass',
      detail: `${label}valid from ${summary.notBefore} to ${summary.notAfter}`,
    });
    results.push(
      summary.daysToExpiry < warnDays
        ? {
            check: 'expiry',
            status: 'fail',
            detail: `${label}expires in ${summary.daysToExpiry} days (under ${warnDays})`,
          }
        : {
            check: 'expiry',
            status: 'pass',
            detail: `${label}expires in ${summary.daysToExpiry} days`,
          },
    );
  }
  const { keyType, keyBits } = summary;
  const minimum =
    keyType === 'rsa' || keyType === 'rsa-pss' || keyType === 'dsa'
      ? 2048
      : keyType === 'ec'
        ? 256
        : 0;
  results.push(
    keyType === 'dsa' || (keyBits !== undefined && keyBits < minimum)
      ? {
          check: 'key-size',
          status: 'fail',
          detail: `${label}${keyType} ${keyBits ?? '?'}-bit key is too weak (at least ${minimum} bits${keyType === 'dsa' ? ', and not DSA' : ''})`,
        }
      : {
          check: 'key-size',
          status: 'pass',
          detail: `${label}${keyType}${keyBits === undefined ? '' : ` ${keyBits}-bit`} key`,
        },
  );
  const signature = signatureAlgorithmOf(cert);
  // A root is trusted for itself, not for its signature: only the others' signatures matter.
  const selfSigned = cert.checkIssued(cert);
  results.push(
    signature.weak && !selfSigned
      ? {
          check: 'signature',
          status: 'fail',
          detail: `${label}signed with ${signature.name}, which can be forged`,
        }
      : { check: 'signature', status: 'pass', detail: `${label}signed with ${signature.name}` },
  );
  return results;
}
