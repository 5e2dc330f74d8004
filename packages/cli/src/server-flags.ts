import type { Command } from 'commander';

/** The flag every command that talks to the server takes. */
export interface ServerFlags {
  allowInsecureHttp?: boolean;
}

/**
 * Adds `--allow-insecure-http` to a command that talks to the server. Kept apart from the client
 * so registering commands (`custos --help`) loads nothing but commander.
 */
export function addServerFlags(command: Command): Command {
  return command.option(
    '--allow-insecure-http',
    'allow plain http to a host other than loopback: the token crosses the network unencrypted (also CUSTOS_ALLOW_INSECURE_HTTP=1)',
  );
}
