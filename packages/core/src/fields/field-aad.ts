/**
 * The associated data of a field value, `encodeAssociatedData({ purpose, table, column, row?,
 * tenant? })` byte for byte (see `../crypto/FORMAT.md`), built from cached pieces: only the
 * row's entry is written per value. Encoding the record from scratch costs about as much as
 * the AES-GCM call it protects.
 */
import { getOrCreate } from './get-or-create.js';

const RECORD_MARKER = 0xad;
const MAX_CACHED = 4096;
const ROW_NAME = Buffer.from('row', 'latin1');

interface Pieces {
  /** Marker, column and purpose entries (everything that sorts before `row`), then the row
   * entry's first byte (its name's length). */
  readonly head: Buffer;
  /** Table and tenant entries: everything after `row`. */
  readonly tail: Buffer;
  /** The whole record without a row. */
  readonly whole: Buffer;
}

interface ColumnPieces {
  noTenant: Pieces | undefined;
  readonly byTenant: Map<string, Pieces>;
}

// purpose → table → column: lookups by the caller's own strings, no key string built per call.
const cache = new Map<string, Map<string, Map<string, ColumnPieces>>>();
let cachedCount = 0;

/** One entry: name length (1 byte), value length (4 bytes BE), name, value. */
function entry(name: string, value: string): Buffer {
  const valueLength = Buffer.byteLength(value, 'utf8');
  const out = Buffer.allocUnsafe(5 + name.length + valueLength);
  out[0] = name.length;
  out.writeUInt32BE(valueLength, 1);
  out.write(name, 5, 'latin1');
  out.write(value, 5 + name.length, 'utf8');
  return out;
}

function build(purpose: string, table: string, column: string, tenant: string | undefined) {
  const head = Buffer.concat([
    Buffer.of(RECORD_MARKER),
    entry('column', column),
    entry('purpose', purpose),
  ]);
  const tail =
    tenant === undefined
      ? entry('table', table)
      : Buffer.concat([entry('table', table), entry('tenant', tenant)]);
  return {
    head: Buffer.concat([head, Buffer.of(ROW_NAME.length)]),
    tail,
    whole: Buffer.concat([head, tail]),
  };
}

function piecesFor(purpose: string, table: string, column: string, tenant: string | undefined) {
  const tables = getOrCreate(cache, purpose, () => new Map());
  const columns = getOrCreate(tables, table, () => new Map());
  const node = getOrCreate(columns, column, () => ({
    noTenant: undefined as Pieces | undefined,
    byTenant: new Map<string, Pieces>(),
  }));
  let pieces = tenant === undefined ? node.noTenant : node.byTenant.get(tenant);
  if (pieces === undefined) {
    if (++cachedCount > MAX_CACHED) {
      cache.clear();
      cachedCount = 0;
    }
    pieces = build(purpose, table, column, tenant);
    if (tenant === undefined) node.noTenant = pieces;
    else node.byTenant.set(tenant, pieces);
  }
  return pieces;
}

/**
 * Encodes the field record. Fields sort as column, purpose, row, table, tenant, so the row's
 * entry sits between a cached head and tail.
 */
export function encodeFieldAad(
  purpose: string,
  table: string,
  column: string,
  row: string | undefined,
  tenant: string | undefined,
): Buffer {
  const { head, tail, whole } = piecesFor(purpose, table, column, tenant);
  if (row === undefined) return whole;
  // Per value: the row's length and bytes between the cached pieces. TypedArray `set` and a
  // plain loop for ASCII ids avoid Buffer's argument checks, which cost more than the copies.
  const rowLength = Buffer.byteLength(row, 'utf8');
  const out = Buffer.allocUnsafe(head.length + 4 + ROW_NAME.length + rowLength + tail.length);
  out.set(head, 0);
  let at = head.length;
  out.writeUInt32BE(rowLength, at);
  out.set(ROW_NAME, at + 4);
  at += 4 + ROW_NAME.length;
  if (rowLength === row.length) {
    for (let i = 0; i < rowLength; i++) out[at + i] = row.charCodeAt(i);
  } else {
    out.write(row, at, 'utf8');
  }
  out.set(tail, at + rowLength);
  return out;
}
