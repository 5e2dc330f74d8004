/**
 * A local stand-in for Cloud KMS's REST API (v1 `cryptoKeys.encrypt` / `cryptoKeys.decrypt`),
 * for contract tests. It checks what the official client sends — the path, the bearer token,
 * the JSON body's fields and their base64 — and does real AES-256-GCM with the AAD, so round
 * trips are genuine. Ciphertexts carry the version that made them, as Google's do. Errors use
 * Google's JSON error shape and, like a careless service, quote the request body.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  type HttpsJsonServer,
  type JsonAnswer,
  jsonObject,
  type SeenRequest,
  startHttpsJsonServer,
  strictBase64,
} from './https-json-server.js';

export type GcpVersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

export interface FakeGcpKms {
  readonly server: HttpsJsonServer;
  /** The one bearer token accepted. */
  readonly token: string;
  readonly keyName: string;
  /** Adds a version and makes it primary; returns its number. */
  rotate(): number;
  setState(version: number, state: GcpVersionState): void;
  /** Bodies of the encrypt/decrypt calls seen, parsed. */
  calls(method: 'encrypt' | 'decrypt'): Record<string, unknown>[];
  close(): Promise<void>;
}

const PATH =
  /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/:]+):(encrypt|decrypt)$/;
const HTTP_STATUS = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
} as const;

function googleError(
  status: keyof typeof HTTP_STATUS,
  message: string,
  seen: SeenRequest,
): JsonAnswer {
  const code = HTTP_STATUS[status];
  return {
    status: code,
    body: { error: { code, message: `${message} (request: ${seen.body})`, status } },
  };
}

/** Starts the fake with version 1 of `keyName` enabled and primary. */
export async function startFakeGcpKms(keyName: string): Promise<FakeGcpKms> {
  const token = `ya29.${randomBytes(24).toString('base64url')}`;
  const versions = new Map<number, { key: Buffer; state: GcpVersionState }>();
  let primary = 0;
  const rotate = () => {
    primary = versions.size + 1;
    versions.set(primary, { key: randomBytes(32), state: 'ENABLED' });
    return primary;
  };
  rotate();
  const versionName = (v: number) => `${keyName}/cryptoKeyVersions/${v}`;

  const handle = (seen: SeenRequest): JsonAnswer => {
    const match = PATH.exec(seen.path);
    if (seen.method !== 'POST' || match === null) {
      return googleError('NOT_FOUND', `no such method: ${seen.method} ${seen.path}`, seen);
    }
    if (seen.headers.authorization !== `Bearer ${token}`) {
      return googleError(
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token',
        seen,
      );
    }
    if (!String(seen.headers['content-type']).startsWith('application/json')) {
      return googleError('INVALID_ARGUMENT', 'the body must be JSON', seen);
    }
    const [, name, method] = match;
    if (name !== keyName) {
      return googleError('NOT_FOUND', `CryptoKey ${name} not found.`, seen);
    }
    const body = jsonObject(seen.body);
    const allowed =
      method === 'encrypt'
        ? ['plaintext', 'additionalAuthenticatedData', 'name']
        : ['ciphertext', 'additionalAuthenticatedData', 'name'];
    if (body === undefined || Object.keys(body).some((field) => !allowed.includes(field))) {
      return googleError('INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name', seen);
    }
    if (body.name !== undefined && body.name !== keyName) {
      return googleError('INVALID_ARGUMENT', 'name in the body differs from the path', seen);
    }
    const aad =
      body.additionalAuthenticatedData === undefined
        ? Buffer.alloc(0)
        : strictBase64(body.additionalAuthenticatedData);
    if (aad === undefined) {
      return googleError('INVALID_ARGUMENT', 'additionalAuthenticatedData is not base64', seen);
    }
    if (method === 'encrypt') {
      const plaintext = strictBase64(body.plaintext);
      if (plaintext === undefined || plaintext.length === 0 || plaintext.length > 65536) {
        return googleError('INVALID_ARGUMENT', 'plaintext is missing or not base64', seen);
      }
      const version = versions.get(primary) as { key: Buffer; state: GcpVersionState };
      if (version.state !== 'ENABLED') {
        return googleError(
          'FAILED_PRECONDITION',
          `${versionName(primary)} is not enabled, current state is: ${version.state}.`,
          seen,
        );
      }
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', version.key, iv, { authTagLength: 16 });
      cipher.setAAD(aad);
      const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const header = Buffer.alloc(4);
      header.writeUInt32BE(primary);
      const ciphertext = Buffer.concat([header, iv, sealed, cipher.getAuthTag()]);
      return {
        status: 200,
        body: {
          name: versionName(primary),
          ciphertext: ciphertext.toString('base64'),
          verifiedPlaintextCrc32c: false,
          verifiedAdditionalAuthenticatedDataCrc32c: false,
          protectionLevel: 'SOFTWARE',
        },
      };
    }
    const ciphertext = strictBase64(body.ciphertext);
    if (ciphertext === undefined || ciphertext.length < 4 + 12 + 16) {
      return googleError('INVALID_ARGUMENT', 'Decryption failed: the ciphertext is invalid.', seen);
    }
    const number = ciphertext.readUInt32BE(0);
    const version = versions.get(number);
    if (version === undefined) {
      return googleError('INVALID_ARGUMENT', 'Decryption failed: the ciphertext is invalid.', seen);
    }
    if (version.state !== 'ENABLED') {
      return googleError(
        'FAILED_PRECONDITION',
        `${versionName(number)} is not enabled, current state is: ${version.state}.`,
        seen,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', version.key, ciphertext.subarray(4, 16), {
        authTagLength: 16,
      });
      decipher.setAAD(aad);
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
      const plaintext = Buffer.concat([
        decipher.update(ciphertext.subarray(16, ciphertext.length - 16)),
        decipher.final(),
      ]);
      return {
        status: 200,
        body: {
          plaintext: plaintext.toString('base64'),
          usedPrimary: number === primary,
          protectionLevel: 'SOFTWARE',
        },
      };
    } catch {
      return googleError('INVALID_ARGUMENT', 'Decryption failed: the ciphertext is invalid.', seen);
    }
  };

  const server = await startHttpsJsonServer(handle);
  return {
    server,
    token,
    keyName,
    rotate,
    setState(version, state) {
      const held = versions.get(version);
      if (held === undefined) throw new Error(`no version ${version}`);
      held.state = state;
    },
    calls(method) {
      return server.requests
        .filter((r) => r.path.endsWith(`:${method}`))
        .map((r) => jsonObject(r.body) ?? {});
    },
    close: () => server.close(),
  };
}
