import { CustosError } from '@custos/core/errors';

/**
 * HCL, read by HashiCorp's own parser (`@cdktf/hcl2json`: the Go `hcl/v2` library compiled to
 * WebAssembly, shipped inside the npm package; nothing is downloaded). The package compiles its
 * WebAssembly as soon as it is imported, so it is imported on the first HCL text only, once.
 */
type Hcl2Json = { parse(filename: string, contents: string): Promise<Record<string, unknown>> };

let loading: Promise<Hcl2Json> | undefined;

function hcl2json(): Promise<Hcl2Json> {
  loading ??= import('@cdktf/hcl2json') as Promise<Hcl2Json>;
  return loading;
}

/** The name the parser gives the text in its messages (`policy:1,35-36: …`). */
const SOURCE = 'policy';

/**
 * HCL text as the JSON value `hcl2json` makes of it: a block `path "a" { … }` becomes
 * `{"path": {"a": [{…}]}}` (a list per label, one entry per block: two blocks for one label
 * are two entries), attributes stay as they are written.
 *
 * A syntax error is `ERR_INVALID_REQUEST` with the parser's own diagnosis (line, column and
 * what is wrong; it does not quote the text). An expression where a literal belongs
 * (`${var.x}`, `upper("read")`, a variable) is refused: a policy holds literal values only, and
 * the parser would hand an expression back as the string `"${…}"`.
 *
 * @example
 * ```ts
 * await parseHcl('path "secret/*" { capabilities = ["read"] }');
 * // { path: { 'secret/*': [{ capabilities: ['read'] }] } }
 * ```
 */
export async function parseHcl(text: string): Promise<Record<string, unknown>> {
  const { parse } = await hcl2json();
  let value: Record<string, unknown>;
  try {
    value = await parse(SOURCE, text);
  } catch (err) {
    throw new CustosError('ERR_INVALID_REQUEST', `policy is not valid HCL: ${diagnosis(err)}`);
  }
  if (holdsExpression(value)) {
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      'policy is not valid: HCL expressions (interpolation, template directives, variables, function calls) are not allowed in a policy; write literal values',
    );
  }
  return value;
}

/** The parser's diagnostics without its wrapping (`parse config: [ … ]`). */
function diagnosis(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const inner = /^parse config: \[(.*)\]$/s.exec(message)?.[1] ?? message;
  // Diagnostics are short; a bound keeps a pathological one out of the log.
  return inner.length > 500 ? `${inner.slice(0, 500)}…` : inner;
}

/** Whether some string (a key or a value) is an expression the converter wrote out as text. */
function holdsExpression(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('${') || value.includes('%{');
  if (Array.isArray(value)) return value.some(holdsExpression);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).some(([k, v]) => holdsExpression(k) || holdsExpression(v));
  return false;
}
