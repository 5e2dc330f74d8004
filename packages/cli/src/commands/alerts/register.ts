import { type Command, Option } from 'commander';
import type { Lazy } from '../../lazy.js';

/** `custos alerts test`: send a test alert through the channels of a configuration file. */
export function registerAlertsCommands(program: Command, lazy: Lazy): void {
  const alerts = program
    .command('alerts')
    .description("the alert channels of a server's configuration file (docs/alerts.md)");
  alerts
    .command('test')
    .description(
      'send a test alert (event "test") through the configured channels from here, without a server, reading their secrets as the server does: exit 0 every channel took it, 1 a channel failed (named, with why), 2 usage or configuration error',
    )
    .requiredOption('-c, --config <file>', "the server's JSON configuration file")
    .addOption(
      new Option('--channel <name>', 'only this channel (default: every channel)').conflicts(
        'rule',
      ),
    )
    .option('--rule <name>', 'the channels of this rule, the alert naming the rule')
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json']).default('text'))
    .action(lazy(() => import('./test.js')));
}
