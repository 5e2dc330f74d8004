import { CustosError } from '@custos/core/errors';
import { visit } from 'jsonc-parser';
import { parseHcl } from './hcl.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * The document a policy's text holds, read as Vault reads it: Vault's JSON form when the text
 * starts with `{`, HCL otherwise (what `vault policy write` users write). Either way the result
 * is a plain JSON value for {@link policyFromDocument}.
 *
 * In JSON a key given twice in one object is refused: `JSON.parse` would keep only the last one,
 * so `{"path": {"a": {"capabilities": ["deny"]}, "a": {…}}}` would lose its `deny` (Vault keeps
 * both and merges them, so deny wins). In HCL two blocks for one path are both kept and merged.
 *
 * @example
 * ```ts
 * await policyDocumentOf('path "secret/*" { capabilities = ["read"] }');
 * await policyDocumentOf('{"path": {"secret/*": {"capabilities": ["read"]}}}');
 * ```
 */
export async function policyDocumentOf(text: string): Promise<unknown> {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return parseHcl(text);
  let document: unknown;
  try {
    document = JSON.parse(trimmed);
  } catch {
    // The parser's message quotes the text: say only what is wrong.
    throw invalid('policy is not valid JSON (a policy starting with "{" is read as JSON)');
  }
  if (hasDuplicateKey(trimmed)) {
    throw invalid('policy is not valid: a JSON object has the same key twice');
  }
  return document;
}

/** Whether some object in (valid) JSON text has a key twice. */
function hasDuplicateKey(text: string): boolean {
  const open: Set<string>[] = [];
  let duplicate = false;
  visit(text, {
    onObjectBegin: () => {
      open.push(new Set());
    },
    onObjectEnd: () => {
      open.pop();
    },
    onObjectProperty: (property) => {
      const keys = open.at(-1);
      if (keys === undefined) return;
      if (keys.has(property)) duplicate = true;
      keys.add(property);
    },
  });
  return duplicate;
}
