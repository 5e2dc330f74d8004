import { createCipheriv, randomBytes } from 'node:crypto';
import { LocalKms } from '@custos/core/kms';
import { load, type ServerProcess } from '../lib/http-load.js';
import { compare, type Measurement } from '../lib/measure.js';
import type { Section, Table } from '../lib/report.js';
import { onEachStorage } from '../lib/server-storages.js';

const SECONDS = Number(process.env.CUSTOS_BENCH_HTTP_SECONDS ?? 5);
const TOKEN = 'bench-root';
const b64 = (text: string) => Buffer.from(text).toString('base64');

async function api(
  server: ServerProcess,
  path: string,
  body: unknown,
): Promise<{ data: { ciphertext: string } }> {
  const response = await fetch(`${server.url}/v1/${path}`, {
    method: 'POST',
    headers: { 'x-vault-token': TOKEN },
    body: JSON.stringify(body),
  });
  return (await response.json()) as { data: { ciphertext: string } };
}

async function measure(server: ServerProcess): Promise<Measurement[]> {
  await api(server, 'transit/keys/bench', {});
  await api(server, 'transit/keys/bench-rsa', { type: 'rsa-2048' });
  await api(server, 'transit/keys/bench-p384', { type: 'ecdsa-p384' });
  const value = b64('x'.repeat(32));
  const one = (await api(server, 'transit/encrypt/bench', { plaintext: value })).data
    .ciphertext as string;
  const batchPlain = JSON.stringify({
    batch_input: Array.from({ length: 100 }, () => ({ plaintext: value })),
  });
  const batchCipher = JSON.stringify({
    batch_input: Array.from({ length: 100 }, () => ({ ciphertext: one })),
  });
  const post = (name: string, path: string, body: string) =>
    load(
      server,
      { name, method: 'POST', path: () => path, body, token: TOKEN },
      { seconds: SECONDS },
    );
  return [
    await load(
      server,
      { name: 'no-op, bare (GET sys/health)', method: 'GET', path: () => '/v1/sys/health' },
      { seconds: SECONDS },
    ),
    await load(
      server,
      {
        name: 'no-op through auth + audit (GET auth/token/lookup-self)',
        method: 'GET',
        path: () => '/v1/auth/token/lookup-self',
        token: TOKEN,
      },
      { seconds: SECONDS },
    ),
    await post(
      'transit encrypt, 1 item',
      '/v1/transit/encrypt/bench',
      JSON.stringify({ plaintext: value }),
    ),
    await post(
      'transit decrypt, 1 item',
      '/v1/transit/decrypt/bench',
      JSON.stringify({ ciphertext: one }),
    ),
    await post(
      'transit encrypt, batch of 100 (requests/s)',
      '/v1/transit/encrypt/bench',
      batchPlain,
    ),
    await post(
      'transit decrypt, batch of 100 (requests/s)',
      '/v1/transit/decrypt/bench',
      batchCipher,
    ),
    // Signatures cost the key's arithmetic, not the route: these show how much.
    await post(
      'transit sign, rsa-2048 (PSS, SHA-256)',
      '/v1/transit/sign/bench-rsa',
      JSON.stringify({ input: value }),
    ),
    await post(
      'transit sign, ecdsa-p384 (SHA-256)',
      '/v1/transit/sign/bench-p384',
      JSON.stringify({ input: value }),
    ),
  ];
}

/** The local KMS against a bare node:crypto loop writing the same Vault-format ciphertext. */
function localKmsTable(): Table {
  const kms = new LocalKms();
  kms.createKey('bench', { exportable: true, allowPlaintextBackup: true });
  const key = randomBytes(32);
  const value = 'x'.repeat(32);
  const bare = () => {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    const body = cipher.update(value, 'utf8');
    cipher.final();
    return `vault:v1:${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64')}`;
  };
  return {
    title: 'local KMS encrypt of a 32-byte value (in-process)',
    baseline: 'bare node:crypto',
    rows: compare([
      { name: 'bare node:crypto', run: bare },
      { name: 'LocalKms.encrypt', run: () => kms.encrypt('bench', value) },
    ]),
    goals: [
      {
        description: 'local KMS encrypt ≥ 0.8× the bare loop',
        candidate: 'LocalKms.encrypt',
        against: 'bare node:crypto',
        atLeast: 0.8,
      },
    ],
  };
}

/**
 * Transit over HTTP on SQLite and PostgreSQL (autocannon, the server in its own process with an
 * audit file), beside two no-op baselines, plus the local KMS in-process.
 */
export async function transitSuite(): Promise<Section> {
  const baseline = 'no-op through auth + audit (GET auth/token/lookup-self)';
  const { runs, notes } = await onEachStorage(TOKEN, measure);
  const tables: Table[] = [
    localKmsTable(),
    ...runs.map(({ storage, result }) => ({
      title: `transit over HTTP, ${storage} storage`,
      baseline,
      rows: result,
      goals: ['encrypt', 'decrypt'].map((op) => ({
        description: `transit ${op} (1 item) ≥ 0.5× the no-op route through auth + audit, ${storage}`,
        candidate: `transit ${op}, 1 item`,
        against: baseline,
        atLeast: 0.5,
      })),
    })),
  ];
  return {
    heading: 'Transit (`transit/` and `@custos/core/kms`)',
    notes: [
      `autocannon, 16 connections, ${SECONDS} s per row, against \`custos server --dev\` in its own process with an`,
      'audit file. Two no-op routes: `sys/health` (no token, not audited) shows the bare framework; `auth/token/',
      'lookup-self` goes through the same token check and audit log as transit and does nothing else, so',
      'the ratio against it is the cost of transit itself. The goal is checked against the latter; the',
      'ratio against the bare route is in the same table. Batch rows count requests (100 items each).',
      ...notes.map((note) => `\n${note}`),
    ].join('\n'),
    tables,
  };
}
