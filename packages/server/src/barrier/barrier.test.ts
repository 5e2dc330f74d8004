import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { type RawEntries, rawEntries } from '../../test/raw-entries.js';

const SECRETS = { a: 'canary-barrier-a-61f0c2d9', b: 'canary-barrier-b-07e4a8b3' };
const INTEGRITY_FAULT =
  'storage integrity check failed: a stored entry was changed, moved or damaged (see the server log)';

describe.each(await storageKinds())('the barrier refuses tampered storage on %s', (kind) => {
  let s: TestServer;
  let raw: RawEntries;
  const logs: string[] = [];
  beforeAll(async () => {
    s = await startTestServer(kind, {
      logLevel: 'error',
      logDestination: { write: (line) => logs.push(line) },
    });
    raw = await rawEntries(s.storage);
  });
  afterAll(async () => {
    await raw.close();
    await s.close();
  });

  const write = (key: string, value: string) =>
    s.request('POST', `secret/data/${key}`, { body: { data: { value } } });

  /** `custos_integrity_failures_total{source="storage"}` of the server. */
  async function storageIntegrityFailures(): Promise<number> {
    const families = await s.server.context.metrics.registry.getMetricsAsJSON();
    const family = families.find((f) => f.name === 'custos_integrity_failures_total');
    return family?.values.find((v) => v.labels.source === 'storage')?.value ?? 0;
  }

  /** A refused read: 500, a fixed message, no secret; the storage path only in the log. */
  async function expectIntegrityFault(key: string, storagePath: string) {
    const before = await storageIntegrityFailures();
    const response = await s.request('GET', `secret/data/${key}`);
    expect(response.status).toBe(500);
    // The tamper signal of the metrics (docs/metrics.md).
    expect((await storageIntegrityFailures()) - before).toBe(1);
    expect(response.body).toEqual({ errors: [INTEGRITY_FAULT] });
    for (const secret of Object.values(SECRETS)) {
      expect(response.text).not.toContain(secret);
      expect(logs.join('')).not.toContain(secret);
    }
    const logged = logs
      .map((l) => JSON.parse(l))
      .filter((l) => l.err?.code === 'ERR_STORAGE_INTEGRITY');
    expect(logged.at(-1)?.err.message).toContain(storagePath);
  }

  it('refuses two stored values swapped in the database (the path is bound to each value)', async () => {
    expect((await write('swap/a', SECRETS.a)).status).toBe(200);
    expect((await write('swap/b', SECRETS.b)).status).toBe(200);
    const pathA = 'kv/secret/ver/1/swap/a';
    const pathB = 'kv/secret/ver/1/swap/b';
    const [valueA, valueB] = [await raw.get(pathA), await raw.get(pathB)];
    await raw.set(pathA, valueB);
    await raw.set(pathB, valueA);
    await expectIntegrityFault('swap/a', pathA);
    await expectIntegrityFault('swap/b', pathB);
    // Swapped back, both read again: the refusal was about the swap, nothing else.
    await raw.set(pathA, valueA);
    await raw.set(pathB, valueB);
    expect((await s.request('GET', 'secret/data/swap/a')).body.data.data.value).toBe(SECRETS.a);
    expect((await s.request('GET', 'secret/data/swap/b')).body.data.data.value).toBe(SECRETS.b);
  });

  it('refuses a flipped byte and a truncated value, and keeps serving everything else', async () => {
    await write('flip/x', SECRETS.a);
    await write('flip/y', SECRETS.b);
    const path = 'kv/secret/ver/1/flip/x';
    const original = await raw.get(path);
    const flipped = Buffer.from(original);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 0x01;
    await raw.set(path, flipped);
    await expectIntegrityFault('flip/x', path);
    await raw.set(path, original.subarray(0, 10));
    await expectIntegrityFault('flip/x', path);
    expect((await s.request('GET', 'secret/data/flip/y')).body.data.data.value).toBe(SECRETS.b);
    // The key's metadata entry is behind the barrier too: tampering there is refused as well,
    // when it is read from storage. A node serves the metadata it cached (its own write keeps
    // what it committed) until the change feed reports a write of it, as another node's write
    // would be: the tampering is reported so.
    await write('flip/z', SECRETS.b);
    const metaPath = 'kv/secret/meta/flip/z';
    await raw.set(metaPath, await raw.get('kv/secret/meta/flip/x'));
    s.server.context.barrier.changes.committed([metaPath]);
    await expectIntegrityFault('flip/z', metaPath);
  });
});
