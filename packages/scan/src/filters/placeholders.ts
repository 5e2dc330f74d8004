/**
 * Values that stand in for a secret instead of being one: documentation placeholders, template
 * and environment references, and the example keys providers publish.
 */

const PLACEHOLDER_WORDS =
  /example|sample|dummy|placeholder|changeme|change_me|change-me|replace|redacted|insert|fixme|todo|foobar|lorem|notreal|not_real|not-a-real|fake|mock/i;
const EXACT_PLACEHOLDERS = new Set([
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'api_key',
  'null',
  'nil',
  'none',
  'undefined',
  'true',
  'false',
  'test',
  'testing',
  'admin',
  'root',
  'pass',
  'string',
  'value',
  'empty',
  'default',
  'required',
  'optional',
  'secretkey',
  'secret_key',
  'mypassword',
  'mysecret',
]);

// Keys providers print in their own documentation for everyone to copy (AWS's end in EXAMPLE and
// are caught by the word): Stripe's test-mode key from its API reference.
const DOCUMENTED_EXAMPLES = new Set(['sk_test_4eC39HqLyjWDarjtT1zdp7dc']);

/**
 * Whether `value` is a placeholder: `your_…_here`, runs of `x`/`*`/`.`, `<…>`, words such as
 * "example" or "changeme" (this covers AWS's documented `…EXAMPLE` keys), keyboard sequences.
 *
 * @example
 * ```ts
 * isPlaceholder('your_api_key_here'); // true
 * isPlaceholder('AKIAIOSFODNN7EXAMPLE'); // true
 * ```
 */
export function isPlaceholder(value: string): boolean {
  const lower = value.toLowerCase();
  if (EXACT_PLACEHOLDERS.has(lower) || DOCUMENTED_EXAMPLES.has(value)) return true;
  if (/^your[\s_-]|[\s_-]here$/.test(lower)) return true;
  if (/x{4,}|\*{3,}|\.{3}|…|#{4}|(.)\1{5,}/i.test(value)) return true;
  if (/^<.*>$|^\[.*\]$|^\(.*\)$/.test(value)) return true;
  if (/1234567|abcdefg|qwerty|asdfgh|0123456/.test(lower)) return true;
  return PLACEHOLDER_WORDS.test(value);
}

/**
 * Whether `value` refers to a secret kept elsewhere instead of holding one: `${…}`, `{{ … }}`,
 * `$VAR`, `%VAR%`, `process.env.X`, `os.environ[…]`, `os.getenv(…)`, `ENV[…]`, Terraform
 * `var.x`.
 *
 * @example
 * ```ts
 * isReference('${DB_PASSWORD}'); // true
 * ```
 */
export function isReference(value: string): boolean {
  if (/\$\{|\{\{|\}\}|#\{|%\(|\$\(/.test(value)) return true;
  if (/^\$[A-Za-z_]|^%[A-Za-z_]\w*%$/.test(value)) return true;
  return /process\.env|import\.meta\.env|os\.environ|getenv|\benv\[|\benv\(|environment\.|system\.getenv|^(?:var|local|data|module|secrets|vars)\.[a-z_]/i.test(
    value,
  );
}
