/**
 * Runs the real `custos` binary as a user would, for the CLI's end-to-end tests.
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
  return runScript(bin, args, options);
}

/** Runs `node script args…` as {@link custos} runs the binary (another entry of the CLI, say). */
export function runScript(
  script: string,
  args: readonly string[],
  options: CliOptions = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [script, ...args],
      { ...(options.cwd ? { cwd: options.cwd } : {}), env: environment(options.env) },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.stdin);
  });
}

/** How to start a long-running `custos`: {@link CliOptions}, and what Node runs. */
export interface StartOptions extends Omit<CliOptions, 'stdin'> {
  /** The script Node runs (default: the real binary; another entry of the CLI, say). */
  readonly script?: string;
  /** Node's own flags, before the script (`--import`, say). */
  readonly nodeFlags?: readonly string[];
}

/** Starts `custos args…` and returns the child (servers, signal tests). */
export function startCustos(args: readonly string[], options: StartOptions = {}) {
  return spawn(process.execPath, [...(options.nodeFlags ?? []), options.script ?? bin, ...args], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: environment(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A `custos server --dev` child process and its address. */
export interface DevServer {
  readonly url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `custos server --dev` (in memory, unsealed, `transit/` mounted) on a random loopback
 * port with `rootToken`, and resolves once it prints its address and root token.
 */
export function startDevServer(rootToken: string, options: StartOptions = {}): Promise<DevServer> {
  const child = startCustos(
    ['server', '--dev', '--dev-root-token-id', rootToken, '--listen', '127.0.0.1:0'],
    options,
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /Listening on:\s+(https?:\/\/\S+)/.exec(output);
      if (match && /Root token/.test(output)) {
        resolve({
          url: match[1] as string,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`custos server exited with ${code}: ${output}`)));
  });
}
