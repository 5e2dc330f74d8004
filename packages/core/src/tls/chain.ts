import { X509Certificate } from 'node:crypto';
import { CustosError } from '../errors/index.js';
import type { CheckResult } from './certificate-checks.js';
import { nodeTls } from './node-tls.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Every certificate of a PEM bundle (or the one DER certificate). Throws `ERR_INVALID_ARGUMENT`
 * naming `what` when there is none.
 * @internal
 */
export function parseCertificates(data: Buffer, what: string): X509Certificate[] {
  const blocks = data.toString('latin1').match(PEM_CERTIFICATE);
  try {
    return blocks === null
      ? [new X509Certificate(data)]
      : blocks.map((b) => new X509Certificate(b));
  } catch {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `${what} holds no readable certificate (PEM or DER)`,
    );
  }
}

let systemRoots: X509Certificate[] | undefined;

/** Node's bundled root CAs, parsed once. @internal */
export function defaultTrustAnchors(): X509Certificate[] {
  systemRoots ??= nodeTls.rootCertificates.map((pem) => new X509Certificate(pem));
  return systemRoots;
}

/**
 * Walks from the leaf to a trust anchor through the other certificates given, checking each
 * signature and that every issuer is a CA.
 * @internal
 */
export function verifyChain(
  chain: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
): CheckResult {
  const isAnchor = (c: X509Certificate) =>
    anchors.some((a) => a.fingerprint256 === c.fingerprint256);
  const pool = [...chain.slice(1), ...anchors];
  let current = chain[0] as X509Certificate;
  for (let depth = 0; depth < 10; depth++) {
    if (isAnchor(current)) {
      return {
        check: 'chain',
        status: 'pass',
        detail: `trusted: chains to ${current.subject.replaceAll('\n', ', ')}`,
      };
    }
    const child = current;
    const issuer = pool.find(
      (c) =>
        c.fingerprint256 !== child.fingerprint256 &&
        child.checkIssued(c) &&
        child.verify(c.publicKey),
    );
    if (issuer === undefined) {
      const detail = child.checkIssued(child)
        ? 'self-signed, and not in the trusted CA bundle'
        : `the issuer ${child.issuer.replaceAll('\n', ', ')} is missing or its signature does not verify`;
      return { check: 'chain', status: 'fail', detail };
    }
    if (!issuer.ca) {
      return {
        check: 'chain',
        status: 'fail',
        detail: `${issuer.subject.replaceAll('\n', ', ')} signs certificates but is not a CA`,
      };
    }
    current = issuer;
  }
  return { check: 'chain', status: 'fail', detail: 'the chain is longer than 10 certificates' };
}
