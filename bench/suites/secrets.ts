import { randomBytes } from 'node:crypto';
import { createScrubber } from '@custos/core/redaction';
import { createSecrets, type SecretProvider, secret } from '@custos/core/secrets';
import { compare } from '../lib/measure.js';
import type { Section } from '../lib/report.js';

const BURST = 1000;
const BURST_ROUNDS = 20;
/**
 * The absolute goal, "well under 1 µs", read as at most a quarter of it. The report's
 * goals are ratios (comparable across machines); this one is not, so it is a line of its own.
 */
const CACHED_READ_GOAL_NS = 250;

/** A provider answering from memory after a macrotask, as a remote store would, counting calls. */
function countingProvider(values: Map<string, string>) {
  let calls = 0;
  const provider: SecretProvider = {
    name: 'counting',
    get: (name) =>
      new Promise((resolve) => {
        calls++;
        setImmediate(() => resolve(values.get(name)));
      }),
    list: async () => [...values.keys()],
  };
  return { provider, calls: () => calls };
}

/**
 * The secrets SDK's hot path and its single-flight:
 * - a cached `getRequiredSecret` (without and with a rule) against a bare `Map` lookup and a
 *   `process.env` read, the things applications do instead;
 * - 1,000 concurrent `getRequiredSecret` calls on a cold cache, counting provider calls.
 */
export async function secretsSuite(): Promise<Section> {
  const value = randomBytes(32).toString('base64url');
  const map = new Map([['JWT_SECRET', value]]);
  process.env.CUSTOS_BENCH_JWT_SECRET = value;
  const { provider } = countingProvider(map);
  const secrets = createSecrets({
    providers: [provider],
    environment: 'production',
    scrubber: createScrubber(),
  });
  const rule = secret({ minBytes: 32 });
  await secrets.getRequiredSecret('JWT_SECRET');
  await secrets.getRequiredSecret('JWT_SECRET', rule);

  const rows = compare([
    { name: 'Map.get', run: () => map.get('JWT_SECRET') },
    {
      name: 'custos getRequiredSecret (cached)',
      run: () => secrets.getRequiredSecret('JWT_SECRET'),
    },
    {
      name: 'custos getRequiredSecret with a rule (cached)',
      run: () => secrets.getRequiredSecret('JWT_SECRET', rule),
    },
    { name: 'process.env read', run: () => process.env.CUSTOS_BENCH_JWT_SECRET },
  ]);
  delete process.env.CUSTOS_BENCH_JWT_SECRET;

  const counts: number[] = [];
  for (let round = 0; round < BURST_ROUNDS; round++) {
    const counting = countingProvider(map);
    const cold = createSecrets({
      providers: [counting.provider],
      environment: 'production',
      scrubber: createScrubber(),
    });
    await Promise.all(Array.from({ length: BURST }, () => cold.getRequiredSecret('JWT_SECRET')));
    counts.push(counting.calls());
  }
  if (counts.some((count) => count !== 1)) {
    throw new Error(`single-flight broken: provider calls per burst ${counts.join(', ')}`);
  }
  const custos = rows.find((r) => r.name === 'custos getRequiredSecret (cached)');
  const nanoseconds = custos === undefined ? Number.NaN : 1e9 / custos.opsPerSecond;
  const absoluteMet = nanoseconds <= CACHED_READ_GOAL_NS;
  const absoluteLine =
    `Absolute goal (not a ratio: this machine only): ${absoluteMet ? 'met' : 'NOT MET'}: ` +
    `cached getRequiredSecret well under 1 µs — ${nanoseconds.toFixed(0)} ns per call ` +
    `(goal ≤ ${CACHED_READ_GOAL_NS} ns)`;
  // Printed where run.ts prints the ratio goals, and kept in the section below.
  process.stderr.write(`  ${absoluteLine}\n`);

  return {
    heading: 'Secrets SDK (`@custos/core/secrets`)',
    notes: [
      'A cached `getRequiredSecret` returns the very promise it resolved before (no allocation);',
      'with a rule it also checks a WeakSet that the value already passed it. Baselines: a bare',
      '`Map.get`, and reading `process.env` (what the seeds do).',
      '',
      `- ${absoluteLine}`,
      '',
      `Single-flight: ${BURST.toLocaleString('en')} concurrent \`getRequiredSecret\` calls on a cold cache, ` +
        `${BURST_ROUNDS} rounds: provider calls per burst ${[...new Set(counts)].join(', ')} ` +
        '(exactly one each time; the suite fails otherwise).',
    ].join('\n'),
    tables: [
      {
        title: 'cached read of one secret',
        baseline: 'Map.get',
        rows,
        goals: [
          {
            description: 'cached getRequiredSecret within 3× of a Map lookup',
            candidate: 'custos getRequiredSecret (cached)',
            against: 'Map.get',
            atLeast: 0.33,
          },
          {
            description: 'cached getRequiredSecret faster than reading process.env',
            candidate: 'custos getRequiredSecret (cached)',
            against: 'process.env read',
            atLeast: 1,
          },
        ],
      },
    ],
  };
}
