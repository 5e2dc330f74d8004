import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { checkpointMessage, GENESIS_HASH, lineHash } from './audit-chain.js';

/** The result of verifying one audit file. */
export interface AuditVerification {
  /** True when no problem was found. */
  readonly ok: boolean;
  /** Every problem, with the line number (1-based) where it shows. */
  readonly problems: string[];
  /** Facts that are not problems (a chain continuing an earlier file, an unsigned tail). */
  readonly notes: string[];
  readonly entries: number;
  readonly firstSeq: number | undefined;
  readonly lastSeq: number | undefined;
  /** Sequence number of the last valid checkpoint (everything up to it is signed). */
  readonly lastCheckpointSeq: number | undefined;
}

/** Options for {@link verifyAuditLog}. */
export interface VerifyOptions {
  /**
   * The server's checkpoint public key (SPKI PEM or DER base64). Without it, the keys announced
   * in the file's `open` entries are used, which proves integrity against editing but not
   * against someone who rewrites the whole file with a key of their own.
   */
  readonly publicKey?: string;
  /**
   * The latest checkpoint the server recorded for this sink: the file must contain it, which
   * catches a file cut short after a checkpoint.
   */
  readonly expectedCheckpoint?: { readonly seq: number; readonly hash: string };
}

interface Line {
  readonly number: number;
  readonly text: string;
}

/**
 * Verifies an audit log: consecutive sequence numbers, every `prev` equal to the hash of the
 * line before, every checkpoint signature valid, the file not cut mid-line, and (when given)
 * the server's latest checkpoint present.
 *
 * @example
 * ```ts
 * const report = verifyAuditLog(await readFile('audit.log', 'utf8'), { publicKey: pem });
 * if (!report.ok) console.error(report.problems.join('\n'));
 * ```
 */
export function verifyAuditLog(text: string, options: VerifyOptions = {}): AuditVerification {
  const problems: string[] = [];
  const notes: string[] = [];
  const trusted = options.publicKey === undefined ? undefined : parsePublicKey(options.publicKey);
  const announced = new Map<string, KeyObject>();
  const lines: Line[] = text
    .split('\n')
    .map((t, i) => ({ number: i + 1, text: t }))
    .filter((l) => l.text.length > 0);
  if (text.length > 0 && !text.endsWith('\n')) {
    problems.push(`line ${lines.at(-1)?.number}: incomplete line (the file was cut mid-entry)`);
  }

  let firstSeq: number | undefined;
  let lastSeq: number | undefined;
  let lastCheckpointSeq: number | undefined;
  let prevHash: string | undefined;
  let foundExpected = false;

  for (const { number, text: line } of lines) {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      problems.push(`line ${number}: not valid JSON (edited or damaged)`);
      prevHash = lineHash(line);
      continue;
    }
    const seq = entry.seq;
    if (typeof seq !== 'number' || typeof entry.prev !== 'string') {
      problems.push(`line ${number}: missing seq or prev (not a custos audit entry, or edited)`);
      prevHash = lineHash(line);
      continue;
    }
    if (lastSeq === undefined) {
      firstSeq = seq;
      if (entry.prev !== GENESIS_HASH) {
        notes.push(
          `the chain starts at seq ${seq}, continuing an earlier file; its first link is not checkable here`,
        );
      }
    } else {
      if (seq > lastSeq + 1) {
        problems.push(`line ${number}: entries ${lastSeq + 1}..${seq - 1} are missing (removed)`);
      } else if (seq <= lastSeq) {
        problems.push(`line ${number}: seq ${seq} after ${lastSeq} (reordered or duplicated)`);
      }
      if (entry.prev !== prevHash) {
        problems.push(
          `line ${number}: does not chain to the line before it (an entry before it was edited, removed or inserted)`,
        );
      }
    }
    if (
      entry.type === 'open' &&
      typeof entry.key_id === 'string' &&
      typeof entry.public_key === 'string'
    ) {
      const key = parsePublicKey(entry.public_key);
      if (key !== undefined) announced.set(entry.key_id, key);
    }
    if (entry.type === 'checkpoint') {
      const key = trusted ?? announced.get(String(entry.key_id));
      const message = checkpointMessage(
        String(entry.sink),
        seq,
        String(entry.prev),
        String(entry.time),
      );
      if (key === undefined) {
        problems.push(`line ${number}: checkpoint signed by unknown key ${String(entry.key_id)}`);
      } else if (!verifySignature(message, key, entry.signature)) {
        problems.push(
          `line ${number}: checkpoint signature is invalid (the checkpoint or the chain before it was changed)`,
        );
      } else {
        lastCheckpointSeq = seq;
      }
      if (
        options.expectedCheckpoint?.seq === seq &&
        options.expectedCheckpoint.hash === lineHash(line)
      ) {
        foundExpected = true;
      }
    }
    lastSeq = seq;
    prevHash = lineHash(line);
  }

  if (options.expectedCheckpoint !== undefined && !foundExpected) {
    problems.push(
      `the server's latest checkpoint (seq ${options.expectedCheckpoint.seq}) is not in the file: entries were cut from its end, or the file was replaced`,
    );
  }
  if (trusted === undefined && announced.size > 0) {
    notes.push(
      'signatures were checked against the keys announced in the file; pass the server public key to rule out a rewritten file',
    );
  }
  if (lastSeq !== undefined && lastSeq !== lastCheckpointSeq) {
    const from = lastCheckpointSeq === undefined ? firstSeq : lastCheckpointSeq + 1;
    notes.push(
      `entries ${from}..${lastSeq} follow the last checkpoint and are chained but not yet signed`,
    );
  }
  return {
    ok: problems.length === 0,
    problems,
    notes,
    entries: lines.length,
    firstSeq,
    lastSeq,
    lastCheckpointSeq,
  };
}

function parsePublicKey(text: string): KeyObject | undefined {
  try {
    return text.includes('-----BEGIN')
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

function verifySignature(message: Buffer, key: KeyObject, signature: unknown): boolean {
  if (typeof signature !== 'string') return false;
  try {
    return verify(null, message, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
