import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/custos.js', import.meta.url));
const DIR = mkdtempSync(join(tmpdir(), 'custos-epipe-'));
const SECRET = join(DIR, 'secret');
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
writeFileSync(SECRET, randomBytes(32), { mode: 0o600 });

/** Runs the CLI with its standard output closed before it writes (as `custos … | head` does). */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a reader that closes standard output early', () => {
  it.each([
    ['--help', ['--help']],
    ['a command that prints a lot', ['shamir', 'split', '-t', '2', '-n', '250', '--in', SECRET]],
  ])(
    'ends %s quietly with its own exit code, not an unhandled EPIPE',
    async (_name, args) => {
      const { code, stderr } = await runWithClosedStdout(args);
      expect(stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js/);
      expect(code).toBe(0);
    },
    30_000,
  );
});
