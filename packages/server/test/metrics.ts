import type { TestServer } from './harness.js';

/**
 * A counter's value in a test server's Prometheus exposition (0 when it has not been counted yet).
 *
 * @example
 * ```ts
 * const denied = await counterValue(s, 'custos_permission_denials_total{group="kv/data"}');
 * ```
 */
export async function counterValue(server: TestServer, name: string): Promise<number> {
  const text = (await server.request('GET', 'sys/metrics?format=prometheus')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}
