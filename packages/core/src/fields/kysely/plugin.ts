import {
  DeleteQueryNode,
  InsertQueryNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  SelectQueryNode,
  type UnknownRow,
  UpdateQueryNode,
} from 'kysely';
import { CustosError } from '../../errors/index.js';
import { createRowCodec, type RowCodec, type TableEncryption } from '../rows.js';
import type { AnyFieldCipher, FieldCipher } from '../types.js';
import { resultColumns, tableNameOf } from './nodes.js';
import { encryptInsert, encryptUpdate } from './write-transform.js';

/** Options of {@link createFieldEncryptionPlugin}. */
export interface FieldEncryptionPluginOptions {
  /** A keyring-mode cipher: Kysely transforms queries synchronously. */
  readonly cipher: FieldCipher;
  /** The tables with encrypted columns. */
  readonly tables: readonly TableEncryption[];
}

/** How to decrypt one query's result rows. */
type ResultPlan =
  | {
      readonly kind: 'decrypt';
      readonly codec: RowCodec;
      readonly keys: 'all' | Map<string, string>;
    }
  | { readonly kind: 'refuse'; readonly codecs: readonly RowCodec[] };

/**
 * A Kysely plugin that encrypts on write and decrypts on read:
 * - `insertInto(t).values(…)`: encrypted columns are encrypted with the row's own id and
 *   tenant, and blind-index columns are filled in;
 * - `updateTable(t).set(…)`: the row id and tenant are read from `where(id, '=', …)`
 *   conditions; without them the update is refused rather than written unbound;
 * - single-table `select` and `returning`: encrypted columns are decrypted (select the id and
 *   tenant columns too). A join that returns an encrypted column is refused: decrypt those rows
 *   with `createRowCodec().decryptRow()`.
 *
 * A stored value that is not a ciphertext fails the read with `ERR_FIELD_NOT_ENCRYPTED`.
 * Where clauses are left alone: look rows up by blind index (`codec.blindIndex(…)`).
 *
 * @example
 * ```ts
 * const db = new Kysely<DB>({
 *   dialect,
 *   plugins: [createFieldEncryptionPlugin({ cipher: fc, tables: [{
 *     table: 'patients', idColumn: 'id',
 *     columns: { ssn: true, email: { blindIndex: { indexColumn: 'email_bidx', normalize: true } } },
 *   }] })],
 * });
 * await db.insertInto('patients').values({ id, ssn, email }).execute();
 * const row = await db.selectFrom('patients').selectAll().where('id', '=', id).executeTakeFirst();
 * ```
 */
export function createFieldEncryptionPlugin(options: FieldEncryptionPluginOptions): KyselyPlugin {
  if ((options?.cipher as AnyFieldCipher | undefined)?.mode !== 'keyring') {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'the Kysely plugin needs a keyring-mode field cipher (Kysely transforms queries synchronously); with a KMS, use createRowCodec',
    );
  }
  const codecs = new Map(
    options.tables.map((table) => [table.table, createRowCodec(options.cipher, table)]),
  );
  const plans = new WeakMap<QueryId, ResultPlan>();

  function planFor(
    tables: readonly (string | undefined)[],
    keys: 'all' | Map<string, string>,
  ): ResultPlan | undefined {
    const found = tables.flatMap((name) => {
      const codec = name === undefined ? undefined : codecs.get(name);
      return codec === undefined ? [] : [codec];
    });
    if (found.length === 0) return undefined;
    if (tables.length === 1) return { kind: 'decrypt', codec: found[0] as RowCodec, keys };
    return { kind: 'refuse', codecs: found };
  }

  function transform(node: RootOperationNode): { node: RootOperationNode; plan?: ResultPlan } {
    if (InsertQueryNode.is(node)) {
      const codec = codecs.get(tableNameOf(node.into) ?? '');
      const out = codec === undefined ? node : encryptInsert(node, codec);
      const plan =
        node.returning &&
        planFor([tableNameOf(node.into)], resultColumns(node.returning.selections));
      return plan ? { node: out, plan } : { node: out };
    }
    if (UpdateQueryNode.is(node)) {
      const name = tableNameOf(node.table);
      const codec = codecs.get(name ?? '');
      const out = codec === undefined ? node : encryptUpdate(node, codec);
      const plan = node.returning && planFor([name], resultColumns(node.returning.selections));
      return plan ? { node: out, plan } : { node: out };
    }
    if (DeleteQueryNode.is(node) && node.returning) {
      const plan = planFor(
        node.from.froms.map(tableNameOf),
        resultColumns(node.returning.selections),
      );
      return plan ? { node, plan } : { node };
    }
    if (SelectQueryNode.is(node)) {
      const tables = [
        ...(node.from?.froms ?? []).map(tableNameOf),
        ...(node.joins ?? []).map((join) => tableNameOf(join.table)),
      ];
      const plan = planFor(tables, resultColumns(node.selections));
      return plan ? { node, plan } : { node };
    }
    return { node };
  }

  return {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      const { node, plan } = transform(args.node);
      if (plan !== undefined) plans.set(args.queryId, plan);
      return node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      const plan = plans.get(args.queryId);
      if (plan === undefined || args.result.rows.length === 0) return args.result;
      return { ...args.result, rows: args.result.rows.map((row) => decryptResultRow(plan, row)) };
    },
  };
}

function decryptResultRow(plan: ResultPlan, row: UnknownRow): UnknownRow {
  if (plan.kind === 'refuse') {
    for (const codec of plan.codecs) {
      const column = Object.keys(codec.table.columns).find((c) => c in row);
      if (column !== undefined) {
        throw new CustosError(
          'ERR_FIELD_CONTEXT_MISSING',
          `${codec.table.table}.${column} comes from a query over several tables; decrypt those rows with createRowCodec().decryptRow()`,
        );
      }
    }
    return row;
  }
  const { codec, keys } = plan;
  if (keys === 'all') return codec.decryptRow(row);
  // Rebuild the source row (aliases back to column names), decrypt, and map back.
  const source: Record<string, unknown> = {};
  for (const [key, column] of keys) if (key in row) source[column] = row[key];
  const decrypted = codec.decryptRow(source);
  const out: Record<string, unknown> = { ...row };
  for (const [key, column] of keys) {
    if (key in row && Object.hasOwn(codec.table.columns, column)) out[key] = decrypted[column];
  }
  return out;
}
