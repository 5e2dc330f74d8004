/**
 * The request boundary (boundary.ts): what a sealed server answers, where the token is read
 * from, what each refusal counts, what the audit log records of an admitted or refused request
 * (and of which routes nothing), and when a wrap TTL is judged.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKey, sendSigned, signRequest, type TestAccessKey } from '../../test/aws.js';
import {
  createTestStorage,
  send,
  startTestServer,
  type TestServer,
  type TestStorage,
} from '../../test/harness.js';
import { counterValue } from '../../test/metrics.js';
import {
  type InitResult,
  initOverHttp,
  sealedAnswers,
  startSealedServer,
  unsealOverHttp,
} from '../../test/seal.js';
import type { RunningServer } from '../server.js';
import { MAX_ANONYMOUS_JSON_VALUES } from './body-parser.js';
import { tokenOf } from './boundary.js';

interface AuditEntry {
  readonly type: string;
  readonly auth?: Record<string, unknown> | null;
  readonly request: {
    readonly id: string;
    readonly operation: string;
    readonly path: string;
    readonly remote_address: string;
    readonly client_token: string;
    readonly data: unknown;
  };
  readonly response?: { readonly status: number; readonly errors?: unknown; data?: unknown };
}

/** The audit log's request and response entries (checkpoints and the like left out). */
async function auditEntries(file: string): Promise<AuditEntry[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditEntry)
    .filter((e) => e.type === 'request' || e.type === 'response');
}

const HMAC = /^hmac-sha256:[0-9a-f]{64}$/;

describe('the boundary of a sealed server', () => {
  let storage: TestStorage;
  let server: RunningServer;
  let dir: string;
  let auditFile: string;
  let init: InitResult;

  beforeAll(async () => {
    storage = await createTestStorage('sqlite');
    dir = await mkdtemp(join(tmpdir(), 'custos-boundary-sealed-'));
    auditFile = join(dir, 'audit.log');
    server = await startSealedServer(storage.location, {
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
    });
    init = await initOverHttp(server);
  });
  afterAll(async () => {
    await server.close();
    await storage.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses every route not open while sealed with 503 "Vault is sealed", before reading any token', async () => {
    for (const token of [init.rootToken, '']) {
      const { checked, wrong } = await sealedAnswers(server, token);
      expect(wrong).toEqual([]);
      expect(checked).toBeGreaterThan(60);
    }
  });

  it('answers the routes open while sealed, without a token, and audits none of them (the log is behind the barrier)', async () => {
    const status = await send(server.url, 'GET', 'sys/seal-status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ sealed: true, initialized: true, t: 2, n: 3 });
    const health = await send(server.url, 'GET', 'sys/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ initialized: true, sealed: true });
    const first = await send(server.url, 'POST', 'sys/unseal', { body: { key: init.keys[0] } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ sealed: true, progress: 1 });
    // The dashboard's files are no API request: served sealed, without a token.
    const ui = await fetch(`${server.url}/ui`, { redirect: 'manual' });
    expect(ui.status).toBe(308);
    expect(ui.headers.get('location')).toBe('/ui/');
    expect(await auditEntries(auditFile)).toEqual([]);
  });

  it('once unsealed, audits an open route (sys/seal-status) but never sys/health', async () => {
    // From no share given, whether the test before gave one or not (it may run alone).
    await send(server.url, 'POST', 'sys/unseal', { body: { reset: true } });
    const unsealed = await unsealOverHttp(server, init.keys);
    expect(unsealed.body.sealed).toBe(false);
    expect((await send(server.url, 'GET', 'sys/health')).status).toBe(200);
    const status = await send(server.url, 'GET', 'sys/seal-status');
    expect(status.body.sealed).toBe(false);
    const entries = await auditEntries(auditFile);
    expect(entries.map((e) => [e.type, e.request.path, e.request.operation])).toEqual([
      ['request', 'sys/seal-status', 'read'],
      ['response', 'sys/seal-status', 'read'],
    ]);
    expect(entries[0]?.request).toMatchObject({
      remote_address: '127.0.0.1',
      client_token: '',
      data: null,
    });
    expect(entries[0]?.auth).toBeNull();
    expect(entries[1]?.response?.status).toBe(200);
  });
});

describe('the boundary of an unsealed server', () => {
  let s: TestServer;
  let dir: string;
  let auditFile: string;
  let hash: (input: string) => Promise<string>;
  let reader: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-boundary-'));
    auditFile = join(dir, 'audit.log');
    s = await startTestServer('sqlite', {
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
    });
    hash = async (input) =>
      (await s.request('POST', 'sys/audit-hash/file', { body: { input } })).body.data.hash;
    await s.policy('boundary-reader', { 'secret/data/boundary/*': ['read'] });
    reader = await s.token({ policies: ['boundary-reader'], no_default_policy: true });
    await s.request('POST', 'secret/data/boundary/kept', { body: { data: { v: 'one' } } });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const lookupSelf = (headers: Record<string, string>) =>
    send(s.url, 'GET', 'auth/token/lookup-self', { headers });

  it('reads the token from X-Vault-Token, else from "Authorization: Bearer" in any case with any spaces', async () => {
    for (const headers of [
      { 'x-vault-token': 'root' },
      { authorization: 'Bearer root' },
      { authorization: 'bearer   root' },
      { authorization: 'BEARER root' },
      { 'x-vault-token': '', authorization: 'Bearer root' },
    ]) {
      const answer = await lookupSelf(headers);
      expect(answer.status, JSON.stringify(headers)).toBe(200);
      expect(answer.body.data.id).toBe('root');
    }
  });

  it('takes X-Vault-Token over Authorization, and no other Authorization scheme or spelling', async () => {
    for (const headers of [
      { 'x-vault-token': 'cst.wrong', authorization: 'Bearer root' },
      { authorization: 'Basic root' },
      { authorization: 'Bearerroot' },
      { authorization: 'Bearer' },
      { authorization: 'xBearer root' },
      { authorization: 'Token Bearer root' },
    ]) {
      const answer = await lookupSelf(headers);
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(answer.body).toEqual({ errors: ['permission denied'] });
    }
    // Read as no token at all (audited and counted as missing), not as an unknown one.
    for (const authorization of ['Basic root', 'Bearerroot', 'xBearer root', 'Token Bearer root'])
      expect(tokenOf({ headers: { authorization } } as unknown as FastifyRequest)).toBeUndefined();
    expect(tokenOf({ headers: { authorization: 'bearer \t root' } } as never)).toBe('root');
  });

  it('refuses to start with a trusted proxy that is not a CIDR block, naming the setting', async () => {
    await expect(startTestServer('sqlite', { trustedProxies: ['proxy.internal'] })).rejects.toThrow(
      'trustedProxies: entry 1 is not a CIDR block',
    );
  });

  it('counts a missing token, a bad token and a refusal by policy apart, and nothing for an admitted request', async () => {
    const counters = async () => ({
      missing: await counterValue(s, 'custos_auth_failures_total{reason="missing_token"}'),
      bad: await counterValue(s, 'custos_auth_failures_total{reason="bad_token"}'),
      denied: await counterValue(s, 'custos_permission_denials_total{group="kv/data"}'),
    });
    const before = await counters();
    const path = 'secret/data/boundary/kept';
    expect((await send(s.url, 'GET', path)).status).toBe(403);
    expect((await send(s.url, 'GET', path, { token: '' })).status).toBe(403);
    expect((await send(s.url, 'GET', path, { token: 'cst.wrong' })).status).toBe(403);
    expect((await send(s.url, 'DELETE', path, { token: reader })).status).toBe(403);
    expect((await send(s.url, 'GET', path, { token: reader })).status).toBe(200);
    expect(await counters()).toEqual({
      missing: before.missing + 2,
      bad: before.bad + 1,
      denied: before.denied + 1,
    });
  });

  it("audits an admitted write: its operation, path, caller address, token and body (HMAC'd), and the token's policies", async () => {
    const path = 'secret/data/boundary/written';
    expect((await s.request('POST', path, { body: { data: { v: 'written-value' } } })).status).toBe(
      200,
    );
    const entries = (await auditEntries(auditFile)).filter((e) => e.request.path === path);
    expect(entries.map((e) => [e.type, e.request.operation])).toEqual([
      ['request', 'create'],
      ['response', 'create'],
    ]);
    const [request, response] = entries;
    expect(request?.request).toEqual({
      id: expect.any(String),
      operation: 'create',
      path,
      remote_address: '127.0.0.1',
      client_token: await hash('root'),
      data: { data: { v: await hash('written-value') } },
    });
    expect(request?.auth).toMatchObject({ client_token: await hash('root'), policies: ['root'] });
    expect(response?.request.id).toBe(request?.request.id);
    expect(response?.response?.status).toBe(200);
  });

  it("audits a refused request with the token it carried (HMAC'd) and its refusal", async () => {
    const path = 'secret/data/boundary/refused';
    expect((await send(s.url, 'GET', path, { token: 'cst.refused' })).status).toBe(403);
    expect((await send(s.url, 'GET', path)).status).toBe(403);
    const entries = (await auditEntries(auditFile)).filter((e) => e.request.path === path);
    expect(entries.map((e) => [e.type, e.request.client_token, e.response?.status])).toEqual([
      ['request', await hash('cst.refused'), undefined],
      ['response', await hash('cst.refused'), 403],
      ['request', '', undefined],
      ['response', '', 403],
    ]);
    expect(entries[0]?.auth).toEqual({ client_token: await hash('cst.refused') });
    expect(entries[2]?.auth).toBeNull();
    expect(entries[1]?.response?.errors).toEqual(['permission denied']);
    expect(entries.every((e) => e.request.operation === 'read' && e.request.data === null)).toBe(
      true,
    );
  });

  it('judges X-Vault-Wrap-TTL after admission: a refused request stays refused, an admitted one is wrapped', async () => {
    const path = 'secret/data/boundary/kept';
    const wrapTtl = (ttl: string) => ({ 'x-vault-wrap-ttl': ttl });
    const malformed = await send(s.url, 'GET', path, { token: 'root', headers: wrapTtl('0s') });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ errors: ['X-Vault-Wrap-TTL must be from 1s to 768h'] });
    const anonymous = await send(s.url, 'GET', path, { headers: wrapTtl('0s') });
    expect(anonymous.status).toBe(403);
    expect(anonymous.body).toEqual({ errors: ['permission denied'] });
    const open = await send(s.url, 'GET', 'sys/seal-status', { headers: wrapTtl('0s') });
    expect(open.status).toBe(400);
    expect(open.body).toEqual({ errors: ['X-Vault-Wrap-TTL must be from 1s to 768h'] });

    const wrapped = await send(s.url, 'GET', path, { token: reader, headers: wrapTtl('90s') });
    expect(wrapped.status).toBe(200);
    expect(wrapped.body.data).toBeNull();
    expect(wrapped.body.wrap_info).toMatchObject({ ttl: 90, token: expect.any(String) });
    const unwrapped = await send(s.url, 'POST', 'sys/wrapping/unwrap', {
      token: wrapped.body.wrap_info.token,
      body: {},
    });
    expect(unwrapped.body.data.data).toEqual({ v: 'one' });
    // Only a 200 is wrapped: a missing secret answers its 404 as it is.
    const missing = await send(s.url, 'GET', 'secret/data/boundary/none', {
      token: reader,
      headers: wrapTtl('90s'),
    });
    expect(missing.status).toBe(404);
    expect(missing.body.wrap_info).toBeUndefined();
    // A deleted version answers 404 with its metadata in an envelope: still not wrapped.
    await s.request('POST', 'secret/data/boundary/deleted', { body: { data: { v: 'gone' } } });
    expect((await s.request('DELETE', 'secret/data/boundary/deleted')).status).toBe(204);
    const deleted = await send(s.url, 'GET', 'secret/data/boundary/deleted', {
      token: reader,
      headers: wrapTtl('90s'),
    });
    expect(deleted.status).toBe(404);
    expect(deleted.body.wrap_info).toBeNull();
    expect(deleted.body.data).toMatchObject({ data: null, metadata: { version: 1 } });
    const audited = (await auditEntries(auditFile)).filter(
      (e) => e.type === 'response' && e.request.path === path && e.request.client_token !== '',
    );
    expect(audited.at(-1)?.response).toMatchObject({
      status: 200,
      wrap_info: { ttl: 90, token: expect.stringMatching(HMAC) },
    });
  });
});

describe('the boundary of a signed request (the Secrets Manager API)', () => {
  let s: TestServer;
  let dir: string;
  let auditFile: string;
  let rw: TestAccessKey;
  let publicOnly: TestAccessKey;
  let hash: (input: string) => Promise<string>;
  const get = { SecretId: 'target' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-boundary-signed-'));
    auditFile = join(dir, 'audit.log');
    s = await startTestServer('sqlite', {
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
    });
    hash = async (input) =>
      (await s.request('POST', 'sys/audit-hash/file', { body: { input } })).body.data.hash;
    await s.policy('signed-rw', { 'secret/*': ['create', 'read', 'update', 'delete', 'list'] });
    await s.policy('signed-public', { 'secret/data/public/*': ['read'] });
    rw = await accessKey(s, ['signed-rw']);
    publicOnly = await accessKey(s, ['signed-public']);
    const created = await sendSigned(
      await signRequest(s, rw, 'CreateSecret', { Name: 'target', SecretString: 'signed-value' }),
    );
    expect(created.status).toBe(200);
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const counters = async () => ({
    badSignature: await counterValue(s, 'custos_auth_failures_total{reason="bad_signature"}'),
    denied: await counterValue(s, 'custos_permission_denials_total{group="aws/secretsmanager"}'),
  });
  const entriesFor = async (accessor: string) =>
    (await auditEntries(auditFile)).filter((e) => e.request.client_token === accessor);

  it('admits a request its key may make, judged on the KV path it reads, and audits the caller', async () => {
    const ok = await sendSigned(await signRequest(s, rw, 'GetSecretValue', get));
    expect(ok.status).toBe(200);
    expect(ok.body.SecretString).toBe('signed-value');
    const mine = (await entriesFor(await hash(rw.accessKeyId))).filter(
      (e) => e.request.path === 'secret/data/target',
    );
    // The CreateSecret of beforeAll was judged (and audited) as what it does, not as a read.
    expect(mine.map((e) => e.request.operation)).toEqual(['create', 'create', 'read', 'read']);
    const [request, response] = mine.slice(-2);
    expect(request).toMatchObject({
      type: 'request',
      request: { operation: 'read', path: 'secret/data/target', remote_address: '127.0.0.1' },
      auth: {
        accessor: await hash(rw.accessKeyId),
        display_name: 'aws-access-key',
        policies: ['signed-rw'],
      },
    });
    expect(response).toMatchObject({ type: 'response', response: { status: 200 } });
    // What the API answered (auditBody), its strings HMAC'd.
    expect(response?.response?.data).toMatchObject({
      Name: await hash('target'),
      SecretString: await hash('signed-value'),
    });
  });

  it('refuses a key whose policies do not reach the path, counted and audited as a denial', async () => {
    const before = await counters();
    const refused = await sendSigned(await signRequest(s, publicOnly, 'GetSecretValue', get));
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ __type: 'AccessDeniedException', message: 'permission denied' });
    expect(await counters()).toEqual({ ...before, denied: before.denied + 1 });
    const [request, response] = (await entriesFor(await hash(publicOnly.accessKeyId))).slice(-2);
    expect(request?.request).toMatchObject({ operation: 'read', path: 'secret/data/target' });
    expect(response?.response).toMatchObject({
      status: 400,
      errors: ['AccessDeniedException: permission denied'],
    });
  });

  it('refuses a bad signature before judging the request, counted as one; a malformed request only once signed', async () => {
    const before = await counters();
    const signed = await signRequest(s, rw, 'GetSecretValue', get);
    const tampered = await sendSigned({ ...signed, body: JSON.stringify({ SecretId: 'other' }) });
    expect(tampered.status).toBe(403);
    expect(tampered.body.__type).toBe('InvalidSignatureException');
    // A query string: malformed, but the signature (over "/") is checked first.
    const badAndMalformed = await sendSigned({
      ...signed,
      url: `${signed.url}?x=1`,
      body: JSON.stringify({ SecretId: 'other' }),
    });
    expect(badAndMalformed.status).toBe(403);
    expect(badAndMalformed.body.__type).toBe('InvalidSignatureException');
    const malformed = await sendSigned({ ...signed, url: `${signed.url}?x=1` });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({
      __type: 'InvalidRequestException',
      message: 'the AWS APIs are served at / exactly, without a query string',
    });
    expect(await counters()).toEqual({ ...before, badSignature: before.badSignature + 2 });
    // The refusals are audited too, without a caller, under the API's own path and the key they
    // claim (HMAC'd): nothing the unsigned body says, not even the secret it names as the path
    // (found by an outside probe: a canary in SecretId reached the log as the path).
    const entries = await auditEntries(auditFile);
    const anonymous = entries.filter((e) => e.type === 'response' && e.response?.status === 403);
    const claimed = await hash(rw.accessKeyId);
    expect(anonymous.map((e) => [e.request.path, e.request.client_token, e.request.data])).toEqual([
      ['aws/secretsmanager', claimed, null],
      ['aws/secretsmanager', claimed, null],
    ]);
    expect(entries.some((e) => e.request.path === 'secret/data/other')).toBe(false);
    // The malformed request, signed: its caller audited, under the API's own path too.
    const [request, response] = (await entriesFor(claimed)).slice(-2);
    expect(request?.request).toMatchObject({ path: 'aws/secretsmanager', operation: 'read' });
    expect(response?.response).toMatchObject({
      status: 400,
      errors: [
        'InvalidRequestException: the AWS APIs are served at / exactly, without a query string',
      ],
    });
  });

  it('judges a KMS request on the key its alias names, resolved once the caller is known', async () => {
    await s.policy('kms-admin', {
      'transit/*': ['create', 'read', 'update', 'list'],
      'aws/kms/*': ['create', 'read', 'update', 'list'],
    });
    await s.policy('kms-key-a', { 'transit/encrypt/key-a': ['update'] });
    for (const name of ['key-a', 'key-b'])
      expect((await s.request('POST', `transit/keys/${name}`)).status).toBe(200);
    const admin = await accessKey(s, ['kms-admin']);
    const user = await accessKey(s, ['kms-key-a']);
    const kms = async (key: TestAccessKey, operation: string, body: unknown) =>
      sendSigned(await signRequest(s, key, operation, body, new Date(), false, 'kms'));
    for (const [alias, target] of [
      ['alias/to-a', 'key-a'],
      ['alias/to-b', 'key-b'],
    ])
      expect(
        (await kms(admin, 'CreateAlias', { AliasName: alias, TargetKeyId: target })).status,
      ).toBe(200);
    const Plaintext = Buffer.from('kms plaintext').toString('base64');
    const allowed = await kms(user, 'Encrypt', { KeyId: 'alias/to-a', Plaintext });
    expect(allowed.status).toBe(200);
    expect(allowed.body.KeyId).toMatch(/key\/key-a$/);
    const refused = await kms(user, 'Encrypt', { KeyId: 'alias/to-b', Plaintext });
    expect(refused.body.__type).toBe('AccessDeniedException');
  });

  it('parses a held body (more values than an anonymous caller may send) once the signature holds, then judges it', async () => {
    await s.policy('kms-held', { 'transit/*': ['create', 'read', 'update', 'list'] });
    expect((await s.request('POST', 'transit/keys/key-held')).status).toBe(200);
    const key = await accessKey(s, ['kms-held']);
    const EncryptionContext = Object.fromEntries(
      Array.from({ length: MAX_ANONYMOUS_JSON_VALUES }, (_, i) => [`c${i}`, `v${i}`]),
    );
    const encrypted = await sendSigned(
      await signRequest(
        s,
        key,
        'Encrypt',
        { KeyId: 'key-held', Plaintext: Buffer.from('held').toString('base64'), EncryptionContext },
        new Date(),
        false,
        'kms',
      ),
    );
    expect(encrypted.status).toBe(200);
    expect(encrypted.body.KeyId).toMatch(/key\/key-held$/);
    const [request, response] = (await entriesFor(await hash(key.accessKeyId))).slice(-2);
    expect(request?.request).toMatchObject({
      path: 'transit/encrypt/key-held',
      operation: 'update',
    });
    expect(response?.response?.status).toBe(200);
  });

  it('refuses every signed request while sealed, with 503', async () => {
    const signed = await signRequest(s, rw, 'GetSecretValue', get);
    expect((await s.request('POST', 'sys/seal')).status).toBe(204);
    const sealed = await sendSigned(signed);
    expect(sealed.status).toBe(503);
    expect(sealed.body).toEqual({ __type: 'ServiceUnavailable', message: 'Vault is sealed' });
  });
});
