import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestStorage, send, storageKinds, type TestStorage } from '../../test/harness.js';
import {
  type InitResult,
  initOverHttp,
  sealedAnswers,
  startSealedServer,
  unsealOverHttp,
} from '../../test/seal.js';
import type { RunningServer } from '../server.js';

/** A hook the test holds open until `release()`. Inactive until `arm()`. */
function gate() {
  let armed = false;
  let release = () => {};
  let opened = Promise.resolve();
  return {
    arm() {
      armed = true;
      opened = new Promise<void>((resolve) => {
        release = resolve;
      });
    },
    release: () => {
      armed = false;
      release();
    },
    hook: async () => {
      if (armed) await opened;
    },
  };
}

describe.each(await storageKinds())('seal phases on %s (production mode)', (kind) => {
  let storage: TestStorage;
  let server: RunningServer;
  let init: InitResult;
  let auditDir: string;
  let auditFile: string;
  const unsealHold = gate();
  const sealHold = gate();
  let failUnsealHook = false;

  const auditedPaths = async () =>
    (await readFile(auditFile, 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.type === 'request')
      .map((entry) => entry.request.path as string);
  const approleLogin = () =>
    send(server.url, 'POST', 'auth/approle/login', {
      body: { role_id: 'no-such-role', secret_id: 'no-such-secret' },
    });

  beforeAll(async () => {
    storage = await createTestStorage(kind);
    auditDir = await mkdtemp(join(tmpdir(), 'custos-seal-phases-'));
    auditFile = join(auditDir, 'audit.log');
    server = await startSealedServer(storage.location, {
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
    });
    // Registered after the server's own hooks (audit log first), so they run last.
    server.context.seal.onUnseal(async () => {
      if (failUnsealHook) throw new Error('unseal hook failed on purpose');
    });
    server.context.seal.onUnseal(unsealHold.hook);
    server.context.seal.onBeforeSeal(sealHold.hook);
    init = await initOverHttp(server);
  });
  // Every test starts from a sealed server with no hold armed, whatever the one before left
  // (mutation testing runs a test alone: none may need what an earlier one left behind).
  afterEach(async () => {
    failUnsealHook = false;
    unsealHold.release();
    sealHold.release();
    if (server.context.seal.phase() !== 'sealed') await server.context.seal.seal();
  });
  afterAll(async () => {
    unsealHold.release();
    sealHold.release();
    await server.close();
    await storage.cleanup();
    await rm(auditDir, { recursive: true, force: true });
  });

  it('a failing unseal hook leaves the server sealed: keys dropped, audit log closed, 503 everywhere', async () => {
    failUnsealHook = true;
    const failed = await unsealOverHttp(server, init.keys);
    failUnsealHook = false;
    expect(failed.status).toBe(500);
    expect(server.context.seal.phase()).toBe('sealed');
    expect(() => server.context.seal.keyring()).toThrow(
      expect.objectContaining({ code: 'ERR_SEALED' }),
    );
    expect(server.context.audit.active).toBe(false);
    expect((await send(server.url, 'GET', 'sys/seal-status')).body).toMatchObject({
      sealed: true,
      progress: 0,
    });
    const refused = await sealedAnswers(server, init.rootToken);
    expect(refused.checked).toBeGreaterThan(60);
    expect(refused.wrong).toEqual([]);

    // Nothing was left half-open: the same shares unseal again once the hook succeeds.
    expect((await unsealOverHttp(server, init.keys)).body.sealed).toBe(false);
    expect(server.context.seal.phase()).toBe('unsealed');
    await server.context.seal.seal();
    expect(server.context.seal.phase()).toBe('sealed');
  });

  it('admits nothing that needs the keys until every unseal hook has finished', async () => {
    unsealHold.arm();
    const unsealed = unsealOverHttp(server, init.keys);
    // The keys are open (the hooks use the barrier) but the server does not serve with them.
    // The phase turns to unsealing before the keys are combined: wait for both.
    await vi.waitFor(
      () => {
        expect(server.context.seal.phase()).toBe('unsealing');
        expect(server.context.seal.keyring().has('barrier')).toBe(true);
      },
      { timeout: 15_000 }, // a bound for a loaded machine, not a measurement
    );
    const auditedBefore = await auditedPaths();
    const refused = await sealedAnswers(server, init.rootToken);
    expect(refused.wrong).toEqual([]);
    // Unauthenticated routes too: refused, so nothing is served without an audit entry.
    const login = await approleLogin();
    expect(login.status).toBe(503);
    expect(await auditedPaths()).toEqual(auditedBefore);
    expect((await send(server.url, 'GET', 'sys/seal-status')).body.sealed).toBe(true);
    expect((await send(server.url, 'GET', 'sys/health')).status).toBe(503);

    unsealHold.release();
    expect((await unsealed).body.sealed).toBe(false);
    expect((await approleLogin()).status).toBe(400);
    expect(await auditedPaths()).toContain('auth/approle/login');
    const read = await send(server.url, 'GET', 'secret/data/nothing', { token: init.rootToken });
    expect(read.status).toBe(404);
  });

  it('admits nothing once a seal has started, while the audit log is being closed', async () => {
    expect((await unsealOverHttp(server, init.keys)).body.sealed).toBe(false);
    sealHold.arm();
    const sealed = send(server.url, 'POST', 'sys/seal', { token: init.rootToken });
    await vi.waitFor(() => expect(server.context.seal.phase()).toBe('sealing'), {
      timeout: 15_000,
    });
    expect(server.context.audit.active).toBe(false);
    const refused = await sealedAnswers(server, init.rootToken);
    expect(refused.wrong).toEqual([]);
    expect((await approleLogin()).status).toBe(503);
    expect((await send(server.url, 'GET', 'sys/seal-status')).body.sealed).toBe(true);

    sealHold.release();
    expect((await sealed).status).toBe(204);
    await vi.waitFor(() => expect(server.context.seal.phase()).toBe('sealed'), { timeout: 15_000 });
    expect(() => server.context.seal.keyring()).toThrow(
      expect.objectContaining({ code: 'ERR_SEALED' }),
    );
  });

  it('an unseal key sent while a seal finishes waits for the seal, then counts', async () => {
    expect((await unsealOverHttp(server, init.keys)).body.sealed).toBe(false);
    sealHold.arm();
    const sealed = server.context.seal.seal();
    await vi.waitFor(() => expect(server.context.seal.phase()).toBe('sealing'), {
      timeout: 15_000,
    });
    // Submitted while the phase is still `sealing` (no HTTP round trip to race the release).
    const first = server.context.seal.submitShare(Buffer.from(init.keys[0] as string, 'hex'));
    sealHold.release();
    await sealed;
    expect((await first).progress).toBe(1);
    // Not dropped as "not sealed yet": both shares were taken once the seal had finished.
    const second = await server.context.seal.submitShare(
      Buffer.from(init.keys[1] as string, 'hex'),
    );
    expect(second.sealed).toBe(false);
    expect(server.context.seal.phase()).toBe('unsealed');
    await server.context.seal.seal();
  });

  it('a seal requested during an unseal waits for it, then seals', async () => {
    unsealHold.arm();
    const unsealed = unsealOverHttp(server, init.keys);
    await vi.waitFor(() => expect(server.context.seal.phase()).toBe('unsealing'), {
      timeout: 15_000,
    });
    const sealing = server.context.seal.seal();
    unsealHold.release();
    await sealing;
    expect((await unsealed).status).toBe(200);
    expect(server.context.seal.phase()).toBe('sealed');
    expect(() => server.context.seal.keyring()).toThrow(
      expect.objectContaining({ code: 'ERR_SEALED' }),
    );
  });
});
