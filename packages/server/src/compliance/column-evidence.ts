import type { DataClass } from '@custos/core/classification';
import type { ColumnEvidence } from './column-status.js';

/** A claim about one column, in the shape of the report's evidence items. */
export interface ColumnClaim {
  readonly claim: string;
  readonly supports?: boolean;
  readonly recheck: string;
  readonly dataClass?: DataClass;
}

/** A column in the report's `dataClasses` (and `unclassifiedColumns`). */
export interface ColumnSummary {
  /** `table.column`. */
  readonly column: string;
  /** `encrypted` (all current), `rotation-incomplete`, `unprotected` (plaintext or failing), `unchecked`. */
  readonly state: ColumnState;
  readonly plaintext: number;
  readonly failing: number;
  readonly oldVersion: number;
  readonly takenAt: string;
}

/** How a column stands. */
export type ColumnState = 'encrypted' | 'rotation-incomplete' | 'unprotected' | 'unchecked';

/** Classes whose columns are judged: all but `internal`. */
const REGULATED: ReadonlySet<DataClass> = new Set(['PHI', 'PII', 'credential', 'payment']);

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The command that takes the column's status again (the database and keys are the user's). */
export function columnRecheck(c: ColumnEvidence): string {
  return [
    'custos encryption status --db <db>',
    `--table ${c.table} --columns ${c.column}`,
    ...(c.tenantColumn === undefined ? [] : [`--tenant-column ${c.tenantColumn}`]),
    ...(c.dataClass === undefined ? [] : [`--data-class ${c.dataClass}`]),
    '--keyring <file> --require-current',
  ].join(' ');
}

/** How `c` stands: plaintext or failing values first, then old versions, then what was not checked. */
export function columnState(c: ColumnEvidence): ColumnState {
  if (c.plaintext > 0 || c.failing > 0) return 'unprotected';
  if (c.old > 0) return 'rotation-incomplete';
  if (c.unjudged > 0 || !c.decryptChecked) return 'unchecked';
  return 'encrypted';
}

function describe(c: ColumnEvidence, state: ColumnState): string {
  const counts = `${plural(c.plaintext, 'plaintext value')}, ${plural(c.failing, 'value')} failing to decrypt, ${plural(c.old, 'value')} under an old key version`;
  switch (state) {
    case 'unprotected':
      return counts;
    case 'rotation-incomplete':
      return `${plural(c.old, 'value')} under an old key version (rotation incomplete: custos reencrypt)`;
    case 'unchecked':
      return c.unjudged > 0
        ? `key versions not judged (${plural(c.unjudged, 'value')}: the status was taken without keys)`
        : 'every value under the current key version, but decryption was not checked (--no-decrypt)';
    case 'encrypted':
      return `all ${plural(c.current, 'value')} encrypted under the current key version and decrypting`;
  }
}

/**
 * The claims of the columns given (`--encryption-status`), for §164.312(a)(2)(iv) and so CC6.1:
 * a regulated column (PHI, PII, credential, payment) with plaintext or failing values fails,
 * one with values under an old key version (or not fully checked) leaves the control partial,
 * one all current and decrypting supports it. An `internal` column is a fact. A column without
 * a class is listed as unclassified and leaves the control partial: whether it must be
 * protected is not known.
 */
export function columnEvidence(columns: readonly ColumnEvidence[]): {
  evidence: ColumnClaim[];
  unsure: boolean;
} {
  const evidence: ColumnClaim[] = [];
  let unsure = false;
  for (const c of columns) {
    const state = columnState(c);
    const name = `${c.table}.${c.column}`;
    const when = ` (status of ${c.takenAt}, ${c.file})`;
    const recheck = columnRecheck(c);
    if (c.dataClass === undefined) {
      unsure = true;
      evidence.push({
        claim: `unclassified column ${name}: ${describe(c, state)}; give it a class (--data-class)${when}`,
        recheck,
      });
    } else if (!REGULATED.has(c.dataClass)) {
      evidence.push({
        claim: `${c.dataClass} column ${name}: ${describe(c, state)}${when}`,
        recheck,
        dataClass: c.dataClass,
      });
    } else {
      if (state === 'rotation-incomplete' || state === 'unchecked') unsure = true;
      evidence.push({
        claim: `${c.dataClass} column ${name}: ${describe(c, state)}${when}`,
        ...(state === 'unprotected' ? { supports: false } : {}),
        ...(state === 'encrypted' ? { supports: true } : {}),
        recheck,
        dataClass: c.dataClass,
      });
    }
  }
  return { evidence, unsure };
}

/** `c` as the report's `dataClasses` list it. */
export function columnSummary(c: ColumnEvidence): ColumnSummary {
  return {
    column: `${c.table}.${c.column}`,
    state: columnState(c),
    plaintext: c.plaintext,
    failing: c.failing,
    oldVersion: c.old,
    takenAt: c.takenAt,
  };
}
