import type { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './main.js';
import { createProgram } from './program.js';

const VAULT_GROUPS = ['policy', 'token', 'auth', 'secrets', 'approle'];
const VAULT_COMMANDS = ['read', 'write', 'list', 'delete', 'patch'];

/** Every runnable command under `command`, as the words a user types. */
function leaves(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) =>
    sub.commands.length === 0 ? [[...prefix, sub.name()]] : leaves(sub, [...prefix, sub.name()]),
  );
}

describe('--help of the commands for Vault users', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const program = createProgram(() => {});
  const commands = leaves(program).filter(
    ([first]) => VAULT_GROUPS.includes(first ?? '') || VAULT_COMMANDS.includes(first ?? ''),
  );

  it('covers every group and generic command', () => {
    expect(new Set(commands.map(([first]) => first))).toEqual(
      new Set([...VAULT_GROUPS, ...VAULT_COMMANDS]),
    );
    expect(commands.length).toBeGreaterThan(25);
  });

  it.each(commands.map((words) => [words.join(' '), words]))(
    'custos %s --help prints a one-line description and exits 0',
    async (_name, words) => {
      let printed = '';
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
        printed += String(chunk);
        return true;
      });
      expect(await main([...words, '--help'])).toBe(0);
      const [, description] = printed.split('\n\n');
      expect(description).toMatch(/^[^\n]{10,}$/);
      expect(printed).toMatch(/--allow-insecure-http/);
    },
  );
});
