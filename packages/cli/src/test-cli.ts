/**
 * Runs the real `custos` binary as a user would, for the CLI's end-to-end tests. Excluded from
 * the build (`test-*.ts`).
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real `custos` binary. */
export const bin = fileURLToPath(new URL('../bin/custos.js', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where and how to run: `env` is all the child sees besides PATH (no stray CUSTOS_ADDR/VAULT_TOKEN). */
export interface CliOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin (which is closed either way). */
  readonly stdin?: string;
}

const environment = (env: NodeJS.ProcessEnv | undefined) => ({ PATH: process.env.PATH, ...env });

/** Runs `custos args…` and collects its exit code and output. */
export function custos(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { ...(options.cwd ? { cwd: options.cwd } : {}), env: environment(options.env) },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.stdin);
  });
}

/** Starts `custos args…` and returns the child (servers, signal tests). */
export function startCustos(args: readonly string[], options: Omit<CliOptions, 'stdin'> = {}) {
  return spawn(process.execPath, [bin, ...args], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: environment(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
