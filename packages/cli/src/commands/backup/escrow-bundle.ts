import { CustosError } from '@custos/core/errors';

/** One file in an escrow bundle: its name on restore, what it is, its text. */
export interface EscrowEntry {
  readonly name: string;
  readonly kind: 'keyring' | 'jwt-keyset' | 'kms' | 'transit-backup' | 'file';
  readonly content: string;
}

/** What `custos backup escrow export` encrypts: every key file a restore needs, in the clear. */
export interface EscrowBundle {
  readonly custos: 'escrow';
  readonly formatVersion: 1;
  readonly createdAt: string;
  readonly entries: readonly EscrowEntry[];
}

const KINDS: readonly string[] = ['keyring', 'jwt-keyset', 'kms', 'transit-backup', 'file'];
/** A plain file name: no directory, no leading dot, nothing a shell or a path would read twice. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function checkEntryName(name: string): void {
  if (!NAME.test(name)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `escrow entry name ${JSON.stringify(name.slice(0, 64))} is not a plain file name (letters, digits, . _ -; no directory, no leading dot)`,
    );
  }
}

export function serializeEscrow(entries: readonly EscrowEntry[]): string {
  const names = new Set<string>();
  for (const entry of entries) {
    checkEntryName(entry.name);
    if (names.has(entry.name)) {
      throw new CustosError('ERR_INVALID_ARGUMENT', `two escrow entries are named ${entry.name}`);
    }
    names.add(entry.name);
  }
  const bundle: EscrowBundle = {
    custos: 'escrow',
    formatVersion: 1,
    createdAt: new Date().toISOString(),
    entries,
  };
  return JSON.stringify(bundle);
}

/** Parses a decrypted bundle, refusing anything but plain, distinct names and known kinds. */
export function parseEscrow(text: string): EscrowBundle {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CustosError('ERR_MALFORMED_CIPHERTEXT', 'the backup is not a custos escrow bundle');
  }
  const bundle = raw as Partial<EscrowBundle> | null;
  if (
    bundle === null ||
    typeof bundle !== 'object' ||
    bundle.custos !== 'escrow' ||
    bundle.formatVersion !== 1 ||
    !Array.isArray(bundle.entries)
  ) {
    throw new CustosError('ERR_MALFORMED_CIPHERTEXT', 'the backup is not a custos escrow bundle');
  }
  const names = new Set<string>();
  for (const entry of bundle.entries as unknown[]) {
    const e = entry as Partial<EscrowEntry> | null;
    if (
      e === null ||
      typeof e !== 'object' ||
      typeof e.name !== 'string' ||
      typeof e.content !== 'string' ||
      typeof e.kind !== 'string' ||
      !KINDS.includes(e.kind)
    ) {
      throw new CustosError('ERR_MALFORMED_CIPHERTEXT', 'an escrow entry is malformed');
    }
    checkEntryName(e.name);
    if (names.has(e.name)) {
      throw new CustosError('ERR_MALFORMED_CIPHERTEXT', `two escrow entries are named ${e.name}`);
    }
    names.add(e.name);
  }
  return bundle as EscrowBundle;
}
