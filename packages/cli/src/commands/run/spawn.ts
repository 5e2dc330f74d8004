import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { CustosError } from '@custos/core/errors';

/** Signals passed on to the child: what a supervisor or a terminal sends to stop or poke it. */
const FORWARDED: readonly NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
];

/**
 * Runs `file args…` with `env`, standard streams shared, forwarding the signals above while it
 * runs. Resolves to its exit code, or 128 + the signal number when a signal ended it (the
 * shell's convention).
 */
export function runForwardingSignals(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => {
      child.kill(signal);
    };
    const handlers = FORWARDED.map((signal) => {
      const handler = () => forward(signal);
      process.on(signal, handler);
      return () => process.off(signal, handler);
    });
    const cleanup = () => {
      for (const off of handlers) off();
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(
        new CustosError(
          'ERR_INVALID_ARGUMENT',
          err.code === 'ENOENT'
            ? `cannot run ${file}: command not found`
            : `cannot run ${file}: ${err.code ?? err.message}`,
        ),
      );
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
}
