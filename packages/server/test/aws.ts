/**
 * Test support for the Secrets Manager API: access keys issued over HTTP, the official SDK
 * client pointed at a test server, and requests signed by AWS's own SigV4 signer.
 */
import { createHash, createHmac } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SignatureV4 } from '@smithy/signature-v4';
import type { TestServer } from './harness.js';

/** An access key as the API issues it. */
export interface TestAccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Issues an access key (as root) for `policies`. */
export async function accessKey(
  s: TestServer,
  policies: readonly string[],
  ttl?: string,
): Promise<TestAccessKey> {
  const response = await s.request('POST', 'aws/access-key', {
    body: { policies, ...(ttl === undefined ? {} : { ttl }) },
  });
  if (response.status !== 200) throw new Error(`access key: ${response.status} ${response.text}`);
  return {
    accessKeyId: response.body.data.access_key_id,
    secretAccessKey: response.body.data.secret_access_key,
  };
}

/** The official SDK client, pointed at the test server (`prefix`: the API's path prefix). */
export function smClient(s: TestServer, key: TestAccessKey, prefix = ''): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: `${s.url}${prefix}`,
    region: 'us-east-1',
    credentials: key,
    maxAttempts: 1,
  });
}

/** The official KMS client, pointed at the test server. */
export function kmsClient(s: TestServer, key: TestAccessKey, prefix = ''): KMSClient {
  return new KMSClient({
    endpoint: `${s.url}${prefix}`,
    region: 'us-east-1',
    credentials: key,
    maxAttempts: 1,
  });
}

const bytesOf = (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

/** node:crypto's SHA-256 in the shape AWS's signer takes. */
class Sha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash =
      secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

/** A request to the API, signed by AWS's own SigV4 signer at `signingDate`. */
export interface SignedTestRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Signs an operation's request with AWS's SigV4 signer (`@smithy/signature-v4`). */
export async function signRequest(
  s: TestServer,
  key: TestAccessKey,
  operation: string,
  body: unknown,
  signingDate: Date = new Date(),
  /** Whether the signer also sends the body's hash in `x-amz-content-sha256`. */
  applyChecksum = false,
  /** The service: `secretsmanager` (target `secretsmanager.<op>`) or `kms` (`TrentService.<op>`). */
  service: 'secretsmanager' | 'kms' = 'secretsmanager',
): Promise<SignedTestRequest> {
  return signRaw(s, key, {
    target: service === 'kms' ? `TrentService.${operation}` : `secretsmanager.${operation}`,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify(body),
    signingDate,
    applyChecksum,
    service,
  });
}

/**
 * Signs a request as given with AWS's SigV4 signer: the headers (besides host and the target)
 * and the body text exactly as they are, in the region asked (default `us-east-1`) — what a
 * hand-made client or an attacker holding a captured request sends.
 */
export async function signRaw(
  s: TestServer,
  key: TestAccessKey,
  request: {
    readonly target: string;
    readonly headers?: Record<string, string>;
    readonly body: string;
    readonly region?: string;
    readonly signingDate?: Date;
    readonly applyChecksum?: boolean;
    readonly service?: 'secretsmanager' | 'kms';
  },
): Promise<SignedTestRequest> {
  const url = new URL(s.url);
  const signer = new SignatureV4({
    credentials: key,
    region: request.region ?? 'us-east-1',
    service: request.service ?? 'secretsmanager',
    sha256: Sha256,
    applyChecksum: request.applyChecksum ?? false,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: { host: url.host, ...request.headers, 'x-amz-target': request.target },
      body: request.body,
    },
    { signingDate: request.signingDate ?? new Date() },
  );
  return {
    url: `${s.url}/`,
    headers: signed.headers as Record<string, string>,
    body: request.body,
  };
}

/** Sends a signed request (possibly tampered with) and returns status and parsed body. */
export async function sendSigned(request: SignedTestRequest) {
  const response = await fetch(request.url, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response JSON
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: response.status, body, text };
}

/**
 * The AWS error a call fails with (its `__type` as the SDK names it, and the HTTP status);
 * throws when the call succeeds or fails otherwise.
 *
 * @example
 * ```ts
 * expect(await failure(sm.send(new GetSecretValueCommand({ SecretId: 'x' })))).toEqual({
 *   name: 'ResourceNotFoundException',
 *   status: 400,
 * });
 * ```
 */
export async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number | undefined }> {
  try {
    await promise;
  } catch (err) {
    // Any AWS SDK service error (Secrets Manager's, KMS's): its type and HTTP status.
    if (err instanceof Error && '$fault' in err && '$metadata' in err)
      return {
        name: err.name,
        status: (err.$metadata as { httpStatusCode?: number }).httpStatusCode,
      };
    throw err;
  }
  throw new Error('the call succeeded');
}
