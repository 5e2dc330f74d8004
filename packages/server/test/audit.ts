/**
 * Test support for the audit chain: a signing identity and an in-memory sink.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { CheckpointSigner } from '../src/audit/audit-chain.js';
import type { AuditSink, SinkHistory } from '../src/audit/sinks.js';

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

/**
 * An in-memory sink: the "file" is an array of lines (`undefined`: no file at all). Give the
 * same array to another sink to play a restart on the same file.
 */
export function memorySink(lines: string[] = []): AuditSink & { lines: string[] } {
  return {
    name: 'file',
    lines,
    write: async (text) => {
      lines.push(...text.split('\n')); // one write may carry several lines
    },
    history: async () => memoryHistory(lines),
    startsFile: async () => lines.length === 0,
    close: async () => {},
  };
}

/** The history of a file holding `lines` (as a file sink reads it back). */
export function memoryHistory(lines: readonly string[]): SinkHistory {
  return {
    kind: 'regular',
    size: fileText(lines).length,
    backward: async function* () {
      for (let i = lines.length - 1; i >= 0; i--) yield lines[i] as string;
    },
    first: async () => lines[0],
  };
}

/** The sink's lines as a file's text. */
export const fileText = (lines: readonly string[]) =>
  lines.length === 0 ? '' : `${lines.join('\n')}\n`;
