/**
 * Test support for the audit chain: a signing identity and an in-memory sink. Excluded from
 * the build (`test-*.ts`).
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { CheckpointSigner } from './audit-chain.js';
import type { AuditSink } from './sinks.js';

/** A fresh Ed25519 checkpoint signer, with its public key as PEM for the verifier. */
export function signer(): CheckpointSigner & { pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    keyId: createHash('sha256').update(der).digest('hex').slice(0, 16),
    privateKey,
    publicKey: der.toString('base64'),
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** An in-memory sink: the "file" is an array of lines. */
export function memorySink(lines: string[] = []): AuditSink & { lines: string[] } {
  return {
    name: 'file',
    lines,
    write: async (text) => {
      lines.push(...text.split('\n')); // one write may carry several lines
    },
    lastLine: async () =>
      lines.length === 0 ? undefined : { line: lines.at(-1) as string, torn: false },
    close: async () => {},
  };
}

/** The sink's lines as a file's text. */
export const fileText = (lines: readonly string[]) =>
  lines.length === 0 ? '' : `${lines.join('\n')}\n`;
