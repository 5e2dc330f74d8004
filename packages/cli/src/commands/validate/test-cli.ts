import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real `custos` binary, as a user runs it. */
export const bin = fileURLToPath(new URL('../../../bin/custos.js', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `custos args…` in `cwd` with exactly `env` (plus PATH), and collects its output. */
export function custos(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: options.cwd, env: { PATH: process.env.PATH, ...options.env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Starts `custos args…` and returns the child, for signal tests. */
export function startCustos(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
) {
  return spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
