import { CustosError, isCustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { type OutputFlags, outputFormat, table } from '../../vault/format.js';
import { secretPath } from './secret-path.js';

type Options = ServerFlags &
  OutputFlags & {
    dryRun?: boolean;
    force?: boolean;
    reason?: string;
    all?: boolean;
    type?: string;
  };

/** One secret's outcome, as printed. */
interface Outcome {
  secret: string;
  result: string;
  detail: string;
}

const usage = (message: string) => new CustosError('ERR_INVALID_ARGUMENT', message);

/**
 * `custos rotate`: rotates each named secret (or, with `--all --type`, every secret whose
 * policy uses that rotator) through `sys/rotate-secret`, and prints what each came to. Exit 0
 * when every rotation succeeded (or was planned, or was not due), 1 when one rolled back or
 * failed, 2 for a usage or configuration error (no policy, no permission, a bad argument).
 */
export async function run(secrets: string[], options: Options): Promise<number> {
  const format = outputFormat(options);
  if (options.all === true) {
    if (secrets.length > 0) throw usage('give secrets or --all, not both');
    if (options.type === undefined) throw usage('--all needs --type <rotator>');
    if (options.force !== true && options.dryRun !== true)
      throw usage('--all rotates now: give --force (with --reason) or --dry-run');
  } else {
    if (secrets.length === 0) throw usage('name the secrets to rotate, or use --all --type');
    if (options.type !== undefined) throw usage('--type goes with --all');
  }
  if (options.force === true && (options.reason === undefined || options.reason.trim() === ''))
    throw usage('--force needs --reason "…" (it is recorded in the history and the audit log)');
  const paths = secrets.map(secretPath); // refuse a bad argument before anything runs
  const client = serverClient(options);
  if (options.all === true) {
    const listed = await client.request('LIST', 'sys/rotation', { allowStatus: [404] });
    const keys =
      listed.status === 404 ? [] : ((listed.body as { data: { keys: string[] } }).data.keys ?? []);
    for (const key of keys) {
      const policy = await client.request('GET', `sys/rotation/${secretPath(key)}`);
      if ((policy.body as { data: { rotator: string } }).data.rotator === options.type)
        paths.push(secretPath(key));
    }
    if (paths.length === 0) warn(`no secret has a rotation policy with rotator ${options.type}`);
  }
  const outcomes: Outcome[] = [];
  let failed = false;
  let refused = false;
  for (const path of paths) {
    const secret = decodeURIComponent(path);
    try {
      const { body } = await client.request('POST', `sys/rotate-secret/${path}`, {
        body: {
          ...(options.force === true ? { force: true } : {}),
          ...(options.dryRun === true ? { dry_run: true } : {}),
          ...(options.reason === undefined ? {} : { reason: options.reason }),
        },
      });
      const data = (body as { data: Record<string, unknown> }).data;
      const result = String(data.result);
      if (result === 'rolled_back' || result === 'failed') failed = true;
      outcomes.push({
        secret,
        result,
        detail:
          result === 'not_due'
            ? `next due ${String(data.next_due)}`
            : result === 'succeeded'
              ? `version ${String(data.new_version)}${data.retire_after ? `, previous valid until ${String(data.retire_after)}` : ''}`
              : result === 'planned'
                ? `would rotate version ${String(data.from_version)} with ${String((data.plan as { rotator: string }).rotator)}`
                : result === 'approval_required'
                  ? `waits for ${String(data.approvals_required)} approvals until ${String(data.expires_time)}: custos rotation approve ${String(data.request_id)}`
                  : String(data.error ?? ''),
      });
    } catch (err) {
      refused = true;
      outcomes.push({
        secret,
        result: 'error',
        detail: isCustosError(err) || err instanceof Error ? err.message : 'the request failed',
      });
    }
  }
  if (format === 'json') print(JSON.stringify(outcomes, null, 2));
  else if (outcomes.length > 0) {
    for (const line of table(
      ['Secret', 'Result', 'Detail'],
      outcomes.map((o) => [o.secret, o.result, o.detail]),
    ))
      print(line);
    const count = (result: string) => outcomes.filter((o) => o.result === result).length;
    print();
    print(
      `${count('succeeded')} succeeded, ${count('rolled_back')} rolled back, ${count('failed')} failed, ${count('planned')} planned, ${count('not_due')} not due, ${count('approval_required')} awaiting approval, ${count('error')} refused`,
    );
  }
  if (refused) return ExitCode.error;
  return failed ? ExitCode.finding : ExitCode.ok;
}
