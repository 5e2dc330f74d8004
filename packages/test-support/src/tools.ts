/**
 * Command-line tools some tests run (git, openssl, bash, chromium). Like a service (`services.ts`): when one is
 * missing, locally the tests that need it are skipped with a notice; under CI (`CI=true`) they
 * fail, never skip.
 */
import { execFileSync } from 'node:child_process';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

/** How to ask each tool for its version: a cheap run that exits 0 when the tool works. */
const VERSION_ARGS = {
  git: ['--version'],
  openssl: ['version'],
  bash: ['--version'],
  chromium: ['--version'],
} as const;

/** A tool some tests need. */
export type TestTool = keyof typeof VERSION_ARGS;

function runs(tool: TestTool): boolean {
  try {
    execFileSync(tool, VERSION_ARGS[tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether tests that need `tool` should run. Throws under CI when the tool is missing, so the
 * run fails instead of silently skipping.
 *
 * @example
 * ```ts
 * const hasGit = requireTool('git');
 * it.runIf(hasGit)('reads .gitignore', () => { ... });
 * ```
 */
export function requireTool(tool: TestTool): boolean {
  if (runs(tool)) return true;
  const message = `${tool} is not installed (or does not run)`;
  if (inCi) throw new Error(`${message}; under CI, tests that need it must run (see .ci/run)`);
  console.warn(`${message}: skipping the tests that need it`);
  return false;
}
