import { DATA_CLASSES, type DataClass, dataClassOf } from '@custos/core/classification';
import { CustosError } from '@custos/core/errors';

const usage = (why: string) => new CustosError('ERR_INVALID_ARGUMENT', `--data-class ${why}`);

/**
 * The class of each column from `--data-class` values: `<class>` for every column, or
 * `<column>=<class>` for one (it wins over the former). A class is matched without regard to
 * case and kept canonically spelled; anything else is a usage error naming the five classes,
 * never repeating the value given.
 */
export function columnClasses(
  values: readonly string[],
  columns: readonly string[],
): Map<string, DataClass> {
  const parse = (value: string): DataClass => {
    const found = dataClassOf(value);
    if (found === undefined) {
      throw usage(`must be one of ${DATA_CLASSES.join(', ')} (any case), or <column>=<class>`);
    }
    return found;
  };
  let every: DataClass | undefined;
  const one = new Map<string, DataClass>();
  for (const value of values) {
    const at = value.indexOf('=');
    if (at < 0) {
      if (every !== undefined) throw usage('without a column is given twice');
      every = parse(value);
      continue;
    }
    const column = value.slice(0, at);
    if (!columns.includes(column)) throw usage('names a column that --columns does not list');
    if (one.has(column)) throw usage('names the same column twice');
    one.set(column, parse(value.slice(at + 1)));
  }
  const classes = new Map<string, DataClass>();
  for (const column of columns) {
    const dataClass = one.get(column) ?? every;
    if (dataClass !== undefined) classes.set(column, dataClass);
  }
  return classes;
}
