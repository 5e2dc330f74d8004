import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { type OutputFlags, outputFormat } from '../../vault/format.js';

type Options = ServerFlags &
  OutputFlags & {
    tokenAccessor: string;
    path: string;
    operation: string;
    parameters?: string;
    sudo?: boolean;
  };

interface ExplainedRule {
  pattern: string;
  capabilities: string[];
  policies: { name: string; capabilities: string[] }[];
  allowed_parameters?: Record<string, unknown[]>;
  denied_parameters?: Record<string, unknown[]>;
  required_parameters?: string[];
}

interface Explanation {
  allowed: boolean;
  reason: string;
  path: string;
  operation: string;
  policies: string[];
  rule: ExplainedRule | null;
  other_rules: ExplainedRule[];
}

/**
 * `custos policy explain`: which policy and rule allow or deny an operation of a token (named by
 * its accessor) on a path, and why (`sys/policies/explain`, which needs sudo). Exit 0 when the
 * operation is allowed, 1 when it is denied.
 */
export async function run(options: Options): Promise<number> {
  const format = outputFormat(options);
  let parameters: unknown;
  if (options.parameters !== undefined) {
    try {
      parameters = JSON.parse(options.parameters);
    } catch {
      throw new CustosError('ERR_INVALID_ARGUMENT', '--parameters must be a JSON object');
    }
  }
  const { body } = await serverClient(options).request('POST', 'sys/policies/explain', {
    body: {
      accessor: options.tokenAccessor,
      path: options.path,
      operation: options.operation,
      ...(parameters === undefined ? {} : { parameters }),
      ...(options.sudo === true ? { sudo: true } : {}),
    },
  });
  const data = (body as { data: Explanation }).data;
  if (format === 'json') print(JSON.stringify(data, null, 2));
  else for (const line of explanationLines(data)) print(line);
  return data.allowed ? ExitCode.ok : ExitCode.finding;
}

function explanationLines(data: Explanation): string[] {
  const lines = [
    `${data.allowed ? 'allowed' : 'denied'}: ${data.operation} on ${data.path}`,
    `why: ${data.reason}`,
    `token policies: ${data.policies.join(', ')}`,
  ];
  if (data.rule !== null) lines.push('deciding rule:', ...ruleLines(data.rule));
  if (data.other_rules.length > 0) {
    lines.push('less specific rules that also match:');
    for (const rule of data.other_rules) lines.push(...ruleLines(rule));
  }
  return lines;
}

function ruleLines(rule: ExplainedRule): string[] {
  const lines = [`  path "${rule.pattern}": ${rule.capabilities.join(', ')}`];
  for (const part of rule.policies)
    lines.push(`    from policy ${part.name}: ${part.capabilities.join(', ')}`);
  for (const field of ['allowed_parameters', 'denied_parameters', 'required_parameters'] as const)
    if (rule[field] !== undefined) lines.push(`    ${field}: ${JSON.stringify(rule[field])}`);
  return lines;
}
