import type { X509Certificate } from 'node:crypto';

/** Signature algorithms by the DER bytes of their OID (hex). */
const ALGORITHMS: Readonly<Record<string, { name: string; weak: boolean }>> = {
  '2a864886f70d010104': { name: 'md5WithRSAEncryption', weak: true },
  '2a864886f70d010105': { name: 'sha1WithRSAEncryption', weak: true },
  '2a8648ce380403': { name: 'dsa-with-sha1', weak: true },
  '2a8648ce3d0401': { name: 'ecdsa-with-SHA1', weak: true },
  '2a864886f70d01010b': { name: 'sha256WithRSAEncryption', weak: false },
  '2a864886f70d01010c': { name: 'sha384WithRSAEncryption', weak: false },
  '2a864886f70d01010d': { name: 'sha512WithRSAEncryption', weak: false },
  '2a864886f70d01010a': { name: 'rsassa-pss', weak: false },
  '2a8648ce3d040302': { name: 'ecdsa-with-SHA256', weak: false },
  '2a8648ce3d040303': { name: 'ecdsa-with-SHA384', weak: false },
  '2a8648ce3d040304': { name: 'ecdsa-with-SHA512', weak: false },
  '2b6570': { name: 'Ed25519', weak: false },
  '2b6571': { name: 'Ed448', weak: false },
};

/** Reads one DER header at `at`: where its content starts and how long it is. */
function header(der: Buffer, at: number): { tag: number; start: number; length: number } {
  const tag = der[at] as number;
  const first = der[at + 1] as number;
  if (first < 0x80) return { tag, start: at + 2, length: first };
  const bytes = first & 0x7f;
  if (bytes === 0 || bytes > 4) throw new Error('unsupported DER length');
  let length = 0;
  for (let i = 0; i < bytes; i++) length = length * 256 + (der[at + 2 + i] as number);
  return { tag, start: at + 2 + bytes, length };
}

/**
 * The algorithm a certificate is signed with, read from its DER (Node 20's `X509Certificate`
 * does not expose it): `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, … }`.
 * `weak` for MD5 and SHA-1 signatures, which can be forged.
 * @internal
 */
export function signatureAlgorithmOf(cert: X509Certificate): { name: string; weak: boolean } {
  try {
    const der = cert.raw;
    const outer = header(der, 0);
    const tbs = header(der, outer.start);
    const algorithm = header(der, tbs.start + tbs.length);
    const oid = header(der, algorithm.start);
    if (outer.tag !== 0x30 || tbs.tag !== 0x30 || algorithm.tag !== 0x30 || oid.tag !== 0x06) {
      return { name: 'unknown', weak: false };
    }
    const hex = der.subarray(oid.start, oid.start + oid.length).toString('hex');
    return ALGORITHMS[hex] ?? { name: `OID ${hex}`, weak: false };
  } catch {
    return { name: 'unknown', weak: false };
  }
}
