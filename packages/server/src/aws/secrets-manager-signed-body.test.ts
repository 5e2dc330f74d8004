/**
 * The signature covers what the server acts on: the body's bytes whatever content type it
 * came with (found by an outside probe: a request signed over no body, replayed with a body
 * under another content type, ran that body), the region the server is in, one reading of the
 * Authorization header. And moving AWSCURRENT needs the right to change the value served.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessKey,
  failure,
  type SignedTestRequest,
  sendSigned,
  signRaw,
  signRequest,
  smClient,
  type TestAccessKey,
} from '../../test/aws.js';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { MAX_ANONYMOUS_JSON_VALUES } from '../http/body-parser.js';

const VALUE = 'canary-signed-body-5e2a7c1d9f';
const CANARY = 'CANARY-forged-aws-8d0b';

/** Sends exactly these header lines (an array value: one line each) and body. */
function sendRaw(
  url: string,
  headers: Record<string, string | string[]>,
  body: string,
): Promise<{ status: number; body: { __type?: string; message?: string } }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    for (const [name, value] of Object.entries(headers)) req.setHeader(name, value);
    req.setHeader('content-length', Buffer.byteLength(body));
    req.end(body);
  });
}

/** The signed headers without the content type the signer was given (none here). */
const withoutContentType = (signed: SignedTestRequest) =>
  Object.fromEntries(
    Object.entries(signed.headers).filter(([name]) => name.toLowerCase() !== 'content-type'),
  );

describe('Secrets Manager API: what the signature covers', () => {
  let s: TestServer;
  let key: TestAccessKey;

  beforeAll(async () => {
    s = await startTestServer('sqlite');
    await s.policy('aws-rw', { 'secret/*': ['create', 'read', 'update', 'delete', 'list'] });
    await s.policy('aws-keys', { 'transit/*': ['create', 'read', 'update'] });
    key = await accessKey(s, ['aws-rw', 'aws-keys']);
    await smClient(s, key).send(new CreateSecretCommand({ Name: 'target', SecretString: VALUE }));
  });
  afterAll(async () => {
    await s.close();
  });

  const stillThere = async () =>
    (await smClient(s, key).send(new GetSecretValueCommand({ SecretId: 'target' }))).SecretString;

  it('refuses a body sent under any other content type, so a signature over no body admits none', async () => {
    const attack = JSON.stringify({ SecretId: 'target', ForceDeleteWithoutRecovery: true });
    for (const target of ['secretsmanager.DeleteSecret', 'TrentService.Encrypt']) {
      const service = target.startsWith('Trent') ? 'kms' : 'secretsmanager';
      // Signed over no body and no content type, as `curl --aws-sigv4` without data signs.
      const captured = withoutContentType(await signRaw(s, key, { target, body: '', service }));
      const variants: Array<string | string[] | undefined> = [
        'application/json',
        'application/x-amz-json-1.0',
        'application/x-amz-json-1.1x',
        'text/plain',
        'application/x-www-form-urlencoded',
        ['text/plain', 'application/x-amz-json-1.1'],
        undefined,
      ];
      for (const contentType of variants) {
        const headers =
          contentType === undefined ? captured : { ...captured, 'content-type': contentType };
        const answer = await sendRaw(`${s.url}/`, headers, attack);
        expect(answer, `${target} sent as ${String(contentType)}`).toEqual({
          status: 400,
          body: {
            __type: 'SerializationException',
            message:
              "the request body must be sent as Content-Type: application/x-amz-json-1.1 (AWS's JSON 1.1 protocol)",
          },
        });
      }
      // With AWS's content type the body is the one signed over: any other is refused.
      const signedType = await sendRaw(
        `${s.url}/`,
        { ...captured, 'content-type': 'application/x-amz-json-1.1' },
        attack,
      );
      expect(signedType).toMatchObject({
        status: 403,
        body: { __type: 'InvalidSignatureException' },
      });
    }
    expect(await stillThere()).toBe(VALUE);
  });

  it('still admits a signed request without a body, and one whose body is signed', async () => {
    const empty = withoutContentType(
      await signRaw(s, key, { target: 'secretsmanager.ListSecrets', body: '' }),
    );
    const listed = await sendRaw(`${s.url}/`, empty, '');
    expect(listed.status).toBe(200);
    const signed = await signRequest(s, key, 'GetSecretValue', { SecretId: 'target' });
    expect((await sendSigned(signed)).status).toBe(200);
  });

  it('answers a body that is not JSON as SerializationException, in both APIs', async () => {
    for (const target of ['secretsmanager.GetSecretValue', 'TrentService.Encrypt']) {
      const service = target.startsWith('Trent') ? 'kms' : 'secretsmanager';
      for (const body of ['{"SecretId":', '['.repeat(600) + ']'.repeat(600)]) {
        const signed = await signRaw(s, key, {
          target,
          service,
          headers: { 'content-type': 'application/x-amz-json-1.1' },
          body,
        });
        const answer = await sendSigned(signed);
        expect(answer.status, target).toBe(400);
        expect(answer.body.__type, target).toBe('SerializationException');
      }
    }
  });

  it('refuses a signature scoped to another region than the server’s', async () => {
    for (const region of ['eu-west-1', 'us-east-2', 'zz-fake-9']) {
      const signed = await signRaw(s, key, {
        target: 'secretsmanager.GetSecretValue',
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: JSON.stringify({ SecretId: 'target' }),
        region,
      });
      expect(await sendSigned(signed)).toMatchObject({
        status: 403,
        body: {
          __type: 'InvalidSignatureException',
          message: 'Credential should be scoped to a valid region: us-east-1',
        },
      });
    }
  });

  it('refuses an Authorization header naming a field twice, or a signed header twice', async () => {
    const signed = await signRequest(s, key, 'GetSecretValue', { SecretId: 'target' });
    const authorization = signed.headers.authorization as string;
    const [algorithm, rest] = [authorization.slice(0, 16), authorization.slice(17)];
    const other = `Credential=${key.accessKeyId.replace(/.$/, 'Z')}/20260101/us-east-1/secretsmanager/aws4_request`;
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1] as string;
    const variants = [
      `${algorithm} ${other}, ${rest}`,
      `${algorithm} ${rest}, ${other}`,
      `${algorithm} ${rest}, Signature=${'0'.repeat(64)}`,
      authorization.replace(signedHeaders, `host;${signedHeaders}`),
    ];
    for (const value of variants) {
      const answer = await sendSigned({
        ...signed,
        headers: { ...signed.headers, authorization: value },
      });
      expect(answer.status, value).toBe(403);
      expect(answer.body.__type, value).toBe('IncompleteSignatureException');
    }
    expect((await sendSigned(signed)).status).toBe(200);
  });

  it('moves AWSCURRENT only for a key that may update the secret’s data, not its metadata alone', async () => {
    const sm = smClient(s, key);
    await sm.send(new CreateSecretCommand({ Name: 'staged', SecretString: 'first-value' }));
    const second = await sm.send(
      new PutSecretValueCommand({ SecretId: 'staged', SecretString: 'second-value' }),
    );
    const versions = await sm.send(
      new GetSecretValueCommand({ SecretId: 'staged', VersionStage: 'AWSPREVIOUS' }),
    );
    await s.policy('aws-tagger', { 'secret/metadata/staged': ['read', 'update'] });
    const tagger = await accessKey(s, ['aws-tagger']);
    const rollBack = new UpdateSecretVersionStageCommand({
      SecretId: 'staged',
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: versions.VersionId,
      RemoveFromVersionId: second.VersionId,
    });
    expect(await failure(smClient(s, tagger).send(rollBack))).toEqual({
      name: 'AccessDeniedException',
      status: 400,
    });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'staged' }))).SecretString).toBe(
      'second-value',
    );
    await sm.send(rollBack);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'staged' }))).SecretString).toBe(
      'first-value',
    );
  });
});

// A body of more values than anyone may send unauthenticated is parsed only once its
// signature is checked (body-parser.ts): an unknown key or a bad signature buys no HMACs.
describe('Secrets Manager API: a body of many values', () => {
  let s: TestServer;
  let key: TestAccessKey;
  let dir: string;
  let audit: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-aws-values-'));
    audit = join(dir, 'audit.log');
    s = await startTestServer('sqlite', { audit: [{ type: 'file', path: audit }] });
    await s.policy('aws-rw', { 'secret/*': ['create', 'read', 'update', 'delete', 'list'] });
    key = await accessKey(s, ['aws-rw']);
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const tags = Array.from({ length: MAX_ANONYMOUS_JSON_VALUES }, (_, i) => ({
    Key: `k${i}`,
    Value: `v${i}`,
  }));

  it('is parsed and judged once the signature is checked', async () => {
    const signed = await signRequest(s, key, 'CreateSecret', {
      Name: 'tagged',
      SecretString: 'x',
      Tags: tags,
    });
    // Read and judged for what it says, not refused for its size.
    expect((await sendSigned(signed)).body).toEqual({
      __type: 'InvalidParameterException',
      message: 'Tags must be a list of at most 50 tags',
    });
  });

  it('is refused unread, audited without its values, when the signature does not hold', async () => {
    const unknown = { ...key, accessKeyId: 'AKIAUNKNOWNKEY000000' };
    const forged = { ...key, secretAccessKey: `${key.secretAccessKey}x` };
    for (const signer of [unknown, forged]) {
      for (const body of [
        { Name: 'forged', SecretString: 'x', Tags: tags },
        // A small body too: nobody answers for it (audited without it).
        { Name: 'forged', SecretString: CANARY, [CANARY]: 1 },
      ]) {
        const before = (await stat(audit)).size;
        const answer = await sendSigned(await signRequest(s, signer, 'CreateSecret', body));
        expect(answer.status).toBe(403);
        expect((await stat(audit)).size - before).toBeLessThan(4096);
      }
      // Nor what it names: a secret or a key as the audited path.
      const named = await sendSigned(
        await signRequest(s, signer, 'GetSecretValue', { SecretId: CANARY }),
      );
      expect(named.status).toBe(403);
      const encrypt = { KeyId: CANARY, Plaintext: 'aGk=' };
      const kms = await sendSigned(
        await signRequest(s, signer, 'Encrypt', encrypt, new Date(), false, 'kms'),
      );
      expect(kms.status).toBe(403);
    }
    expect((await readFile(audit, 'utf8')).includes(CANARY)).toBe(false);
  });

  // The refusal's message reaches the audit log in clear: it named the sender's own field and
  // header names (found by an outside probe). And the key a refused request claims is recorded
  // as soon as the header names it, whatever check refuses it after.
  it('quotes none of the Authorization header in a refusal, and records the key it claims', async () => {
    const signed = await signRequest(s, key, 'GetSecretValue', { SecretId: 'x' });
    const authorization = signed.headers.authorization as string;
    const canary = CANARY.toLowerCase();
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1] as string;
    for (const value of [
      `${authorization}, ${canary}=a, ${canary}=b`,
      authorization.replace(signedHeaders, `${canary};${signedHeaders}`),
    ]) {
      const answer = await sendSigned({
        ...signed,
        headers: { ...signed.headers, authorization: value },
      });
      expect(answer.status).toBe(403);
      expect(answer.text.toLowerCase()).not.toContain(canary);
    }
    expect((await readFile(audit, 'utf8')).toLowerCase()).not.toContain(canary);
    const stale = await signRequest(
      s,
      key,
      'GetSecretValue',
      { SecretId: 'x' },
      new Date(Date.now() - 3_600_000),
    );
    const hashed = (
      await s.request('POST', 'sys/audit-hash/file', { body: { input: key.accessKeyId } })
    ).body.data.hash as string;
    const before = (await stat(audit)).size;
    expect((await sendSigned(stale)).status).toBe(403);
    const entries = (await readFile(audit, 'utf8'))
      .slice(before)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(entries.map((e) => [e.type, e.request.path, e.request.client_token])).toEqual([
      ['request', 'aws/secretsmanager', hashed],
      ['response', 'aws/secretsmanager', hashed],
    ]);
  });
});
