import { type Compilable, CompiledQuery } from 'kysely';

const SENTINEL = '\u0000custos-parameter:';

/**
 * Compiles a Kysely query once, with named placeholders, and returns a function that binds new
 * values to the same SQL. The query builder (and the dialect's SQL) runs once at start instead
 * of on every request; constants in the query (such as `revision + 1`) stay as compiled.
 *
 * @example
 * ```ts
 * const byPath = prepareQuery((p) => db.selectFrom('custos_entries').selectAll().where('path', '=', p('path')));
 * await db.executeQuery(byPath({ path: 'a/b' }));
 * ```
 */
export function prepareQuery<Name extends string>(
  build: (parameter: (name: Name) => string) => Compilable<unknown>,
): (values: Readonly<Record<Name, unknown>>) => CompiledQuery {
  const compiled = build((name) => SENTINEL + name).compile();
  const slots = compiled.parameters.map((value) =>
    typeof value === 'string' && value.startsWith(SENTINEL)
      ? { name: value.slice(SENTINEL.length) as Name }
      : { constant: value },
  );
  return (values) =>
    CompiledQuery.raw(
      compiled.sql,
      slots.map((slot) => ('name' in slot ? values[slot.name] : slot.constant)),
    );
}
