import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos, type DevServer, startDevServer } from '../../../test/cli.js';

describe('custos aws access-key create', () => {
  let server: DevServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startDevServer('dev-root');
    env = { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: 'dev-root' };
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('prints {access_key_id, secret_access_key} once with --format json', async () => {
    const result = await custos(
      [
        'aws',
        'access-key',
        'create',
        '--policies',
        'default,app',
        '--ttl',
        '720h',
        '--format',
        'json',
      ],
      { env },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(Object.keys(printed)).toEqual(['access_key_id', 'secret_access_key']);
    expect(printed.access_key_id).toMatch(/^AKCU[A-Z2-7]{16}$/);
    expect(printed.secret_access_key).toMatch(/^[A-Za-z0-9+/]{40}$/);
  });

  it('shows the key, its policies and expiry as a table, and refuses a missing --policies', async () => {
    const table = await custos(['aws', 'access-key', 'create', '--policies', 'default'], { env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^access_key_id\s+AKCU[A-Z2-7]{16}$/m);
    expect(table.stdout).toMatch(/^policies\s+\[default\]$/m);
    const missing = await custos(['aws', 'access-key', 'create'], { env });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--policies/);
  });
});
