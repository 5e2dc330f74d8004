import { readFile } from 'node:fs/promises';
import { parse } from 'dotenv';
import { CustosError } from '../errors/index.js';
import type { ExampleVariable } from './infer.js';
import type { Condition, SecretRuleOptions } from './rules.js';
import type { ValueEncoding } from './strength.js';

const VARIABLE_LINE = /^\s*(?:export\s+)?([\w.-]+)\s*(?:=|:\s)/;
const DIRECTIVE = /#\s*custos:(.*)$/;
const ENCODINGS = new Set(['hex', 'base64', 'base64url', 'pem', 'any']);

/**
 * Reads an example file (`.env.example`): the names come from dotenv's parser, and a
 * `# custos:` comment — at the end of the variable's line, or alone on the line before it —
 * refines the rule. Directives, separated by commas:
 *
 * - `optional`; `required when EMAIL_ENABLED=true`; `required when STORAGE_TYPE=ipfs|both`
 *   (several conditions joined with ` and `);
 * - `public` (a plain setting, not a secret) or `secret` (a secret whatever its name);
 * - `min 32` (bytes); `hex`, `base64`, `base64url`, `pem`; `one of ipfs|arweave|both`.
 *
 * @example
 * ```ts
 * // SMTP_PASS=your_smtp_password  # custos: required when EMAIL_ENABLED=true
 * const variables = await readExampleFile('.env.example');
 * const schema = inferSchema(variables);
 * ```
 */
export async function readExampleFile(path: string): Promise<ExampleVariable[]> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      err.code === 'ENOENT' ? `example file ${path} does not exist` : `cannot read ${path}`,
    );
  });
  return parseExample(text, path);
}

/** {@link readExampleFile} on text already read. @internal */
export function parseExample(text: string, where: string): ExampleVariable[] {
  const names = Object.keys(parse(text));
  const directives = new Map<string, SecretRuleOptions>();
  let pending: SecretRuleOptions | undefined;
  text.split(/\r?\n/).forEach((line, index) => {
    const at = `${where}:${index + 1}`;
    const variable = VARIABLE_LINE.exec(line);
    const directive = DIRECTIVE.exec(line);
    if (variable === null) {
      if (directive !== null && /^\s*#/.test(line)) pending = parseDirectives(directive[1], at);
      return;
    }
    const own = directive === null ? undefined : parseDirectives(directive[1], at);
    if (pending !== undefined || own !== undefined) {
      directives.set(variable[1] as string, { ...pending, ...own });
    }
    pending = undefined;
  });
  return names.map((name) => {
    const options = directives.get(name);
    return options === undefined ? { name } : { name, options };
  });
}

function parseDirectives(text: string | undefined, at: string): SecretRuleOptions {
  const options: Record<string, unknown> = {};
  for (const raw of (text ?? '').split(',')) {
    const directive = raw.trim();
    if (directive === '') continue;
    const lower = directive.toLowerCase();
    const required = /^required when (.+)$/i.exec(directive);
    const min = /^min (\d+)(?: bytes)?$/i.exec(directive);
    const oneOf = /^one of (.+)$/i.exec(directive);
    if (lower === 'optional') options.optional = true;
    else if (lower === 'public') options.sensitive = false;
    else if (lower === 'secret') options.sensitive = true;
    else if (ENCODINGS.has(lower)) options.encoding = lower as ValueEncoding;
    else if (min !== null) options.minBytes = Number(min[1]);
    else if (oneOf !== null) options.oneOf = (oneOf[1] as string).split('|').map((v) => v.trim());
    else if (required !== null) options.requiredWhen = parseCondition(required[1] as string, at);
    else {
      throw new CustosError(
        'ERR_INVALID_SCHEMA',
        `${at}: unknown custos directive "${directive}" (known: optional, public, secret, required when NAME=value, min N, hex, base64, base64url, pem, one of a|b)`,
      );
    }
  }
  return options as SecretRuleOptions;
}

function parseCondition(text: string, at: string): Condition {
  const condition: Record<string, readonly string[]> = {};
  for (const part of text.split(/\s+and\s+/i)) {
    const match = /^\s*([\w.-]+)\s*=\s*(.+?)\s*$/.exec(part);
    if (match === null) {
      throw new CustosError(
        'ERR_INVALID_SCHEMA',
        `${at}: "required when" takes NAME=value or NAME=a|b, joined with "and"`,
      );
    }
    condition[match[1] as string] = (match[2] as string).split('|').map((v) => v.trim());
  }
  return condition;
}
