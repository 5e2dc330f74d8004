import { type ChildProcess, spawn } from 'node:child_process';
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

/** The commands running now; a signal goes to each of them. */
const running = new Set<ChildProcess>();
let forwarding = false;

/**
 * Installs the handlers once and never removes them: once the command has ended they have no
 * one to forward to and do nothing, until custos exits. Removing them when the command ends
 * would leave a gap before custos exits in which a supervisor's SIGTERM (or a second Ctrl-C)
 * kills custos by the default action, and the command's exit code is lost.
 */
function forwardSignals(): void {
  if (forwarding) return;
  forwarding = true;
  for (const signal of FORWARDED) {
    process.on(signal, () => {
      for (const child of running) child.kill(signal);
    });
  }
}

/**
 * Runs `file args…` with `env`, standard streams shared, forwarding the signals above while it
 * runs. Resolves to its exit code, or 128 + the signal number when a signal ended it (the
 * shell's convention). Meant for the custos process itself: from then on, those signals no
 * longer end the process by default.
 */
export function runForwardingSignals(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  forwardSignals();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: 'inherit' });
    running.add(child);
    child.once('error', (err: NodeJS.ErrnoException) => {
      running.delete(child);
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
      running.delete(child);
      resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
}
