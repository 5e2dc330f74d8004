import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessKey,
  failure,
  sendSigned,
  signRequest,
  smClient,
  type TestAccessKey,
} from '../../test/aws.js';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const CANARY = 'canary-aws-value-6d1e8f2a9b3c';
const CANARY_PUT = 'canary-aws-put-0a9b8c7d6e5f';
const MINUTE = 60_000;

describe.each(await storageKinds())(
  'Secrets Manager API authentication and audit on %s',
  (kind) => {
    let s: TestServer;
    let key: TestAccessKey;
    let dir: string;
    let auditFile: string;
    const logs: string[] = [];
    let offsetMs = 0;
    const serverNow = () => Date.now() + offsetMs;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'custos-aws-'));
      auditFile = join(dir, 'audit.log');
      s = await startTestServer(kind, {
        clock: serverNow,
        logLevel: 'debug',
        logDestination: { write: (line) => logs.push(line) },
        audit: [{ type: 'file', path: auditFile, name: 'file' }],
      });
      await s.policy('aws-rw', { 'secret/*': ['create', 'read', 'update', 'delete', 'list'] });
      await s.policy('aws-public-only', { 'secret/data/public/*': ['read'] });
      key = await accessKey(s, ['aws-rw']);
      await smClient(s, key).send(
        new CreateSecretCommand({ Name: 'target', SecretString: CANARY }),
      );
    });
    afterAll(async () => {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    });

    const get = { SecretId: 'target' };

    it("accepts a request signed by AWS's own signer (the control for the attacks below)", async () => {
      const ok = await sendSigned(await signRequest(s, key, 'GetSecretValue', get));
      expect(ok.status).toBe(200);
      expect(ok.body.SecretString).toBe(CANARY);
    });

    it('refuses a signature made with the wrong secret access key', async () => {
      // Another last character (replacing it with a fixed one kept the key 1 time in 64).
      const last = key.secretAccessKey.at(-1) === 'A' ? 'B' : 'A';
      const wrong = { ...key, secretAccessKey: `${key.secretAccessKey.slice(0, -1)}${last}` };
      const answer = await sendSigned(await signRequest(s, wrong, 'GetSecretValue', get));
      expect(answer.status).toBe(403);
      expect(answer.body.__type).toBe('InvalidSignatureException');
      expect(await failure(smClient(s, wrong).send(new GetSecretValueCommand(get)))).toMatchObject({
        name: 'InvalidSignatureException',
        status: 403,
      });
    });

    it('refuses a request whose body was changed after signing', async () => {
      // Without a body hash header: the signature itself covers the body.
      const signed = await signRequest(s, key, 'GetSecretValue', get);
      expect(signed.headers['x-amz-content-sha256']).toBeUndefined();
      const answer = await sendSigned({ ...signed, body: JSON.stringify({ SecretId: 'other' }) });
      expect(answer).toMatchObject({ status: 403, body: { __type: 'InvalidSignatureException' } });
      // With one (signed): a body that differs from it is refused too, also when re-hashed.
      const hashed = await signRequest(s, key, 'GetSecretValue', get, new Date(), true);
      expect(hashed.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect((await sendSigned(hashed)).status).toBe(200);
      const changed = JSON.stringify({ SecretId: 'other' });
      const rehashed = createHash('sha256').update(changed).digest('hex');
      for (const headers of [
        hashed.headers,
        { ...hashed.headers, 'x-amz-content-sha256': rehashed },
      ]) {
        const refused = await sendSigned({ ...hashed, headers, body: changed });
        expect(refused).toMatchObject({
          status: 403,
          body: { __type: 'InvalidSignatureException' },
        });
      }
    });

    it('refuses a request whose signed header was changed (the operation)', async () => {
      const signed = await signRequest(s, key, 'GetSecretValue', get);
      const answer = await sendSigned({
        ...signed,
        headers: { ...signed.headers, 'x-amz-target': 'secretsmanager.DeleteSecret' },
      });
      expect(answer).toMatchObject({ status: 403, body: { __type: 'InvalidSignatureException' } });
      expect((await sendSigned(await signRequest(s, key, 'GetSecretValue', get))).status).toBe(200);
    });

    it('refuses a request signed more than 5 minutes from the server clock, either way', async () => {
      for (const skew of [-6 * MINUTE, 6 * MINUTE]) {
        const signed = await signRequest(
          s,
          key,
          'GetSecretValue',
          get,
          new Date(serverNow() + skew),
        );
        const answer = await sendSigned(signed);
        expect(answer.status).toBe(403);
        expect(answer.body).toMatchObject({ __type: 'InvalidSignatureException' });
        expect(answer.body.message).toMatch(/Signature expired/);
      }
    });

    it('refuses a signed request replayed once its window has passed', async () => {
      const signed = await signRequest(s, key, 'GetSecretValue', get, new Date(serverNow()));
      expect((await sendSigned(signed)).status).toBe(200);
      offsetMs += 6 * MINUTE;
      try {
        const replay = await sendSigned(signed);
        expect(replay).toMatchObject({
          status: 403,
          body: { __type: 'InvalidSignatureException' },
        });
      } finally {
        offsetMs -= 6 * MINUTE;
      }
    });

    it('refuses an unknown access key id, and a key past its ttl', async () => {
      const unknown = { accessKeyId: 'AKCUAAAAAAAAAAAAAAAA', secretAccessKey: key.secretAccessKey };
      const answer = await sendSigned(await signRequest(s, unknown, 'GetSecretValue', get));
      expect(answer).toMatchObject({
        status: 403,
        body: { __type: 'UnrecognizedClientException' },
      });
      const shortLived = await accessKey(s, ['aws-rw'], '1h');
      expect(
        (await sendSigned(await signRequest(s, shortLived, 'GetSecretValue', get))).status,
      ).toBe(200);
      offsetMs += 2 * 60 * MINUTE;
      try {
        const expired = await sendSigned(
          await signRequest(s, shortLived, 'GetSecretValue', get, new Date(serverNow())),
        );
        expect(expired).toMatchObject({
          status: 403,
          body: { __type: 'UnrecognizedClientException' },
        });
      } finally {
        offsetMs -= 2 * 60 * MINUTE;
      }
    });

    it('refuses a revoked key', async () => {
      const revoked = await accessKey(s, ['aws-rw']);
      expect((await sendSigned(await signRequest(s, revoked, 'GetSecretValue', get))).status).toBe(
        200,
      );
      expect((await s.request('DELETE', `aws/access-key/${revoked.accessKeyId}`)).status).toBe(204);
      const answer = await sendSigned(await signRequest(s, revoked, 'GetSecretValue', get));
      expect(answer).toMatchObject({
        status: 403,
        body: { __type: 'UnrecognizedClientException' },
      });
    });

    it("refuses what the key's policies do not allow on the mapped KV path (AccessDeniedException)", async () => {
      const narrow = smClient(s, await accessKey(s, ['aws-public-only']));
      expect(await failure(narrow.send(new GetSecretValueCommand(get)))).toEqual({
        name: 'AccessDeniedException',
        status: 400,
      });
      expect(
        await failure(
          narrow.send(new PutSecretValueCommand({ SecretId: 'public/x', SecretString: 'y' })),
        ),
      ).toEqual({ name: 'AccessDeniedException', status: 400 });
      // The same policy, through the Vault API: one policy governs both.
      await s.request('POST', 'secret/data/public/x', { body: { data: { SecretString: 'pub' } } });
      expect(
        (await narrow.send(new GetSecretValueCommand({ SecretId: 'public/x' }))).SecretString,
      ).toBe('pub');
    });

    it('refuses where the deciding rule constrains parameters: the AWS API cannot bypass them', async () => {
      // The same capabilities as aws-rw, but the rule limits what a Vault write may send. An
      // AWS request's fields are not Vault's parameters, so such a rule refuses it outright.
      const hcl = [
        'path "secret/data/guarded/*" {',
        '  capabilities = ["create", "read", "update"]',
        '  denied_parameters = { "data" = [] }',
        '}',
        'path "secret/data/open/*" {',
        '  capabilities = ["create", "read", "update"]',
        '}',
      ].join('\n');
      expect(
        (await s.request('POST', 'sys/policies/acl/aws-guarded', { body: { policy: hcl } })).status,
      ).toBe(204);
      const guarded = smClient(s, await accessKey(s, ['aws-guarded']));
      expect(
        await failure(
          guarded.send(new CreateSecretCommand({ Name: 'guarded/a', SecretString: 'x' })),
        ),
      ).toEqual({ name: 'AccessDeniedException', status: 400 });
      await s.request('POST', 'secret/data/guarded/b', { body: { data: { SecretString: 'v' } } });
      expect(
        await failure(guarded.send(new GetSecretValueCommand({ SecretId: 'guarded/b' }))),
      ).toEqual({ name: 'AccessDeniedException', status: 400 });
      // Where no constraint applies, the same key works.
      await guarded.send(new CreateSecretCommand({ Name: 'open/a', SecretString: 'x' }));
      expect(
        (await guarded.send(new GetSecretValueCommand({ SecretId: 'open/a' }))).SecretString,
      ).toBe('x');
    });

    it("audits each request, refused ones too, with values HMAC'd: no canary in the audit file or logs", async () => {
      const sm = smClient(s, key);
      await sm.send(new PutSecretValueCommand({ SecretId: 'target', SecretString: CANARY_PUT }));
      await sm.send(new GetSecretValueCommand(get));
      const lines = (await readFile(auditFile, 'utf8')).split('\n').filter((l) => l !== '');
      const entries = lines.map((l) => JSON.parse(l));
      const awsRequests = entries.filter(
        (e) => e.type === 'request' && e.request?.path === 'secret/data/target',
      );
      expect(awsRequests.length).toBeGreaterThan(5);
      expect(awsRequests.some((e) => e.request.operation === 'update')).toBe(true);
      const text = lines.join('\n');
      const logText = logs.join('\n');
      for (const canary of [CANARY, CANARY_PUT, key.secretAccessKey]) {
        expect(text.includes(canary)).toBe(false);
        expect(logText.includes(canary)).toBe(false);
      }
      // The refused attempts were recorded, before anything else happened.
      expect(
        entries.some(
          (e) =>
            e.type === 'response' &&
            JSON.stringify(e.response?.errors ?? []).includes('InvalidSignatureException'),
        ),
      ).toBe(true);
    });

    it('is one route: POST / exactly, no query, no PUT, no other spelling; the Vault API unchanged', async () => {
      const signed = await signRequest(s, key, 'GetSecretValue', get);
      const withQuery = await sendSigned({ ...signed, url: `${s.url}/?x=1` });
      expect(withQuery).toMatchObject({ status: 400, body: { __type: 'InvalidRequestException' } });
      for (const url of [`${s.url}//`, `${s.url}/%2F`, `${s.url}/%20`]) {
        const other = await sendSigned({ ...signed, url });
        expect(other.status, url).toBe(400);
        expect(other.text, url).not.toContain(CANARY);
      }
      const put = await fetch(signed.url, {
        method: 'PUT',
        headers: signed.headers,
        body: signed.body,
      });
      expect(put.status).toBe(400);
      expect(await put.text()).not.toContain(CANARY);
      // A Vault request sent with AWS's content type is read as the Vault request it is.
      const write = await s.request('POST', 'secret/data/vault-side', {
        body: { data: { a: 'b' } },
        headers: { 'content-type': 'application/x-amz-json-1.1' },
      });
      expect(write.status).toBe(200);
      expect((await s.request('GET', 'secret/data/vault-side')).body.data.data).toEqual({ a: 'b' });
    });

    it('answers nothing about a request before its signature is checked', async () => {
      const unsigned = await fetch(`${s.url}/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'secretsmanager.NoSuchOperation',
        },
        body: '{"SecretId": 5}',
      });
      expect(unsigned.status).toBe(403);
      expect(await unsigned.json()).toMatchObject({
        __type: 'MissingAuthenticationTokenException',
      });
      const unknownOp = await sendSigned(await signRequest(s, key, 'NoSuchOperation', get));
      expect(unknownOp).toMatchObject({
        status: 400,
        body: { __type: 'UnknownOperationException' },
      });
      const badField = await sendSigned(
        await signRequest(s, key, 'GetSecretValue', { SecretId: 5 }),
      );
      expect(badField).toMatchObject({
        status: 400,
        body: { __type: 'InvalidParameterException' },
      });
    });

    it('deletes a secret for good once its recovery window has passed', async () => {
      const at = () => new Date(serverNow());
      await sendSigned(
        await signRequest(s, key, 'CreateSecret', { Name: 'expiring', SecretString: 'e' }, at()),
      );
      const del = { SecretId: 'expiring', RecoveryWindowInDays: 7 };
      expect((await sendSigned(await signRequest(s, key, 'DeleteSecret', del, at()))).status).toBe(
        200,
      );
      offsetMs += 6 * 24 * 60 * MINUTE;
      try {
        const marked = await sendSigned(
          await signRequest(s, key, 'GetSecretValue', { SecretId: 'expiring' }, at()),
        );
        expect(marked.body.__type).toBe('InvalidRequestException');
        expect((await s.request('GET', 'secret/data/expiring')).status).toBe(200);
        offsetMs += 2 * 24 * 60 * MINUTE;
        const gone = await sendSigned(
          await signRequest(s, key, 'DescribeSecret', { SecretId: 'expiring' }, at()),
        );
        expect(gone.body.__type).toBe('ResourceNotFoundException');
        expect((await s.request('GET', 'secret/metadata/expiring')).status).toBe(404);
      } finally {
        offsetMs -= 8 * 24 * 60 * MINUTE;
      }
    });

    it('answers 503 ServiceUnavailable once sealed', async () => {
      expect((await s.request('POST', 'sys/seal')).status).toBe(204);
      const answer = await sendSigned(await signRequest(s, key, 'GetSecretValue', get));
      expect(answer).toMatchObject({ status: 503, body: { __type: 'ServiceUnavailable' } });
    });
  },
);
