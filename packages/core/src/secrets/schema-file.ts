import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CustosError } from '../errors/index.js';
import { isSecretsSchema, type SecretsSchema, schemaFromRules } from './schema.js';

/**
 * Loads a schema from a file, as `custos validate --schema` does:
 *
 * - a `.json` file: `{ "variables": { "JWT_SECRET": { "minBytes": 32 }, … } }`, each entry
 *   taking the options of `secret()`;
 * - a JavaScript module (`.js`, `.mjs`; `.ts` where Node can load TypeScript) whose default
 *   export, or export named `schema`, is a `defineSecrets(...)` result.
 *
 * Throws `ERR_INVALID_SCHEMA` naming what is wrong.
 *
 * @example
 * ```ts
 * const schema = await loadSchemaFile('config/secrets.schema.json');
 * await createSecrets().load(schema);
 * ```
 */
export async function loadSchemaFile(path: string): Promise<SecretsSchema> {
  const absolute = resolve(path);
  if (extname(absolute).toLowerCase() === '.json') return schemaFromJsonText(await read(absolute));
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
    throw new CustosError('ERR_INVALID_SCHEMA', `cannot import schema module ${path} (${reason})`, {
      cause: err,
    });
  }
  const candidate = module.default ?? module.schema;
  if (!isSecretsSchema(candidate)) {
    throw new CustosError(
      'ERR_INVALID_SCHEMA',
      `${path} exports no schema: export default defineSecrets({ ... }) (or export const schema)`,
    );
  }
  // Rebuilt from plain rules, so a schema made by another copy of custos works the same.
  return schemaFromRules(candidate.rules);
}

/**
 * Builds a schema from the JSON form (`{ "variables": { NAME: options } }`).
 *
 * @example
 * ```ts
 * schemaFromJson({ variables: { JWT_SECRET: { minBytes: 32 } } });
 * ```
 */
export function schemaFromJson(json: unknown): SecretsSchema {
  const variables = (json as { variables?: unknown } | null)?.variables;
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
    throw new CustosError(
      'ERR_INVALID_SCHEMA',
      'a JSON schema is an object with "variables": { "NAME": { options } }',
    );
  }
  return schemaFromRules(variables as Record<string, unknown>);
}

function schemaFromJsonText(text: string): SecretsSchema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CustosError('ERR_INVALID_SCHEMA', 'the schema file is not valid JSON');
  }
  return schemaFromJson(json);
}

async function read(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CustosError(
      'ERR_INVALID_SCHEMA',
      err.code === 'ENOENT' ? `schema file ${path} does not exist` : `cannot read ${path}`,
    );
  });
}
