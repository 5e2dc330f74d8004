/**
 * A local stand-in for Azure Key Vault's keys REST API (get key, wrapkey, unwrapkey), for
 * contract tests. It runs the bearer challenge the official client expects (401 with a
 * `WWW-Authenticate` naming the resource, then the retried request with the token), checks
 * `api-version`, the bearer token, and the JSON body (`alg`, base64url `value`), and wraps with
 * real RSA-OAEP-256 (RSA keys) or AES-256 key wrap (an oct-HSM key, as on a Managed HSM).
 * Like the real service, it still wraps with a disabled version but refuses to unwrap
 * (403 Forbidden, "…not allowed on a disabled key", inner code KeyDisabled). Error messages
 * quote the request body, as a careless service might.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import {
  type HttpsJsonServer,
  type JsonAnswer,
  jsonObject,
  type SeenRequest,
  startHttpsJsonServer,
  strictBase64url,
} from './https-json-server.js';

export const KEY_VAULT_RESOURCE = 'https://vault.azure.net';
const API_VERSION = /^(7\.[0-9](-preview(\.[0-9]+)?)?|20[0-9]{2}-[0-9]{2}-[0-9]{2}(-preview)?)$/;
const AES_KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

interface Version {
  readonly id: string;
  readonly created: number;
  enabled: boolean;
  readonly rsa?: { publicKey: KeyObject; privateKey: KeyObject };
  readonly aes?: Buffer;
}

export interface FakeKeyVault {
  readonly server: HttpsJsonServer;
  readonly vaultUrl: string;
  readonly tenantId: string;
  /** The one bearer token accepted. */
  readonly token: string;
  /** A service principal the token endpoint (`<vaultUrl>/<tenantId>/oauth2/v2.0/token`) knows. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Adds a version of `name` (created one second after the last) and makes it current. */
  rotate(name: string): string;
  setEnabled(name: string, version: string, enabled: boolean): void;
  close(): Promise<void>;
}

function vaultError(
  status: number,
  code: string,
  message: string,
  seen: SeenRequest,
  inner?: string,
): JsonAnswer {
  return {
    status,
    body: {
      error: {
        code,
        message: `${message} (request: ${seen.body})`,
        ...(inner === undefined ? {} : { innererror: { code: inner } }),
      },
    },
  };
}

/** Starts the fake with one key per entry of `keys`, each with one enabled version. */
export async function startFakeKeyVault(
  keys: Record<string, 'RSA-HSM' | 'oct-HSM'>,
): Promise<FakeKeyVault> {
  const token = `eyJ0eXAiOiJKV1QifQ.${randomBytes(24).toString('base64url')}`;
  const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  const held = new Map<string, { kty: 'RSA-HSM' | 'oct-HSM'; versions: Version[] }>();
  let clock = 1_780_000_000;
  const rotate = (name: string) => {
    const key = held.get(name);
    if (key === undefined) throw new Error(`no key ${name}`);
    const version: Version =
      key.kty === 'RSA-HSM'
        ? {
            id: randomBytes(16).toString('hex'),
            created: clock++,
            enabled: true,
            rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
          }
        : {
            id: randomBytes(16).toString('hex'),
            created: clock++,
            enabled: true,
            aes: randomBytes(32),
          };
    key.versions.push(version);
    return version.id;
  };
  for (const [name, kty] of Object.entries(keys)) {
    held.set(name, { kty, versions: [] });
    rotate(name);
  }
  let origin = '';
  const kid = (name: string, v: Version) => `${origin}/keys/${name}/${v.id}`;

  const bundle = (name: string, kty: string, v: Version) => {
    const ops = ['wrapKey', 'unwrapKey', 'encrypt', 'decrypt'];
    const material =
      v.rsa === undefined
        ? {}
        : (() => {
            const jwk = v.rsa.publicKey.export({ format: 'jwk' });
            return { n: jwk.n, e: jwk.e };
          })();
    return {
      key: { kid: kid(name, v), kty, key_ops: ops, ...material },
      attributes: {
        enabled: v.enabled,
        created: v.created,
        updated: v.created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
        exportable: false,
      },
    };
  };

  const clientId = '00000000-0000-0000-0000-00000000c1d5';
  const clientSecret = randomBytes(24).toString('base64url');
  /** Microsoft Entra ID's metadata and client-credentials token endpoint, as MSAL calls them. */
  const identity = (seen: SeenRequest): JsonAnswer => {
    const base = `${origin}/${tenantId}`;
    if (
      seen.method === 'GET' &&
      seen.path === `/${tenantId}/v2.0/.well-known/openid-configuration`
    ) {
      return {
        status: 200,
        body: {
          issuer: `${base}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          token_endpoint: `${base}/oauth2/v2.0/token`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
        },
      };
    }
    if (seen.method !== 'POST' || seen.path !== `/${tenantId}/oauth2/v2.0/token`) {
      return { status: 404, body: { error: 'not_found' } };
    }
    const form = new URLSearchParams(seen.body);
    if (
      !String(seen.headers['content-type']).startsWith('application/x-www-form-urlencoded') ||
      form.get('grant_type') !== 'client_credentials' ||
      form.get('scope') !== `${KEY_VAULT_RESOURCE}/.default`
    ) {
      return { status: 400, body: { error: 'invalid_request', error_description: seen.body } };
    }
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      return {
        status: 401,
        body: {
          error: 'invalid_client',
          error_description: `AADSTS7000215: Invalid client secret provided. (request: ${seen.body})`,
          error_codes: [7000215],
        },
      };
    }
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token },
    };
  };

  const handle = (seen: SeenRequest): JsonAnswer => {
    if (seen.path.startsWith(`/${tenantId}/`)) return identity(seen);
    if (!API_VERSION.test(seen.query.get('api-version') ?? '')) {
      return vaultError(400, 'BadParameter', 'The api-version is missing or unknown', seen);
    }
    const auth = seen.headers.authorization;
    if (auth === undefined) {
      // The challenge: the client retries with a token for this resource.
      return {
        status: 401,
        headers: {
          'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="${KEY_VAULT_RESOURCE}"`,
        },
        body: {
          error: {
            code: 'Unauthorized',
            message: 'AKV10000: Request is missing a Bearer or PoP token.',
          },
        },
      };
    }
    if (auth !== `Bearer ${token}`) {
      return {
        status: 401,
        headers: {
          'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="${KEY_VAULT_RESOURCE}"`,
        },
        body: {
          error: {
            code: 'Unauthorized',
            message: `AKV10032: Invalid issuer. (request: ${seen.body})`,
          },
        },
      };
    }
    const match =
      /^\/keys\/([A-Za-z0-9-]+)(?:\/([A-Za-z0-9]*))?(?:\/(wrapkey|unwrapkey))?\/?$/.exec(seen.path);
    if (match === null) return vaultError(404, 'NotFound', 'no such path', seen);
    const [, name, versionId, operation] = match;
    const key = held.get(name as string);
    if (key === undefined) {
      return vaultError(
        404,
        'KeyNotFound',
        `A key with (name/id) ${name} was not found in this key vault.`,
        seen,
      );
    }
    const version =
      versionId === undefined || versionId === ''
        ? key.versions[key.versions.length - 1]
        : key.versions.find((v) => v.id === versionId);
    if (version === undefined) {
      return vaultError(
        404,
        'KeyNotFound',
        `A key with (name/id) ${name}/${versionId} was not found in this key vault.`,
        seen,
      );
    }
    if (operation === undefined) {
      if (seen.method !== 'GET') return vaultError(405, 'BadParameter', 'method not allowed', seen);
      return { status: 200, body: bundle(name as string, key.kty, version) };
    }
    if (seen.method !== 'POST' || versionId === undefined || versionId === '') {
      return vaultError(400, 'BadParameter', 'wrap and unwrap need POST to a key version', seen);
    }
    if (!String(seen.headers['content-type']).startsWith('application/json')) {
      return vaultError(400, 'BadParameter', 'the body must be JSON', seen);
    }
    const body = jsonObject(seen.body);
    const value = strictBase64url(body?.value);
    const expected = key.kty === 'RSA-HSM' ? 'RSA-OAEP-256' : 'A256KW';
    if (body === undefined || body.alg !== expected || value === undefined) {
      return vaultError(400, 'BadParameter', 'The parameter is incorrect.', seen);
    }
    if (operation === 'unwrapkey' && !version.enabled) {
      return vaultError(
        403,
        'Forbidden',
        'Operation unwrapKey is not allowed on a disabled key.',
        seen,
        'KeyDisabled',
      );
    }
    let result: Buffer;
    try {
      if (version.rsa !== undefined) {
        const rsa = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
        result =
          operation === 'wrapkey'
            ? publicEncrypt({ key: version.rsa.publicKey, ...rsa }, value)
            : privateDecrypt({ key: version.rsa.privateKey, ...rsa }, value);
      } else {
        const aes = version.aes as Buffer;
        const cipher =
          operation === 'wrapkey'
            ? createCipheriv('id-aes256-wrap', aes, AES_KW_IV)
            : createDecipheriv('id-aes256-wrap', aes, AES_KW_IV);
        result = Buffer.concat([cipher.update(value), cipher.final()]);
      }
    } catch {
      return vaultError(400, 'BadParameter', 'The parameter is incorrect.', seen);
    }
    return {
      status: 200,
      body: { kid: kid(name as string, version), value: result.toString('base64url') },
    };
  };

  const server = await startHttpsJsonServer(handle);
  origin = server.origin;
  return {
    server,
    vaultUrl: server.origin,
    tenantId,
    token,
    clientId,
    clientSecret,
    rotate,
    setEnabled(name, versionId, enabled) {
      const version = held.get(name)?.versions.find((v) => v.id === versionId);
      if (version === undefined) throw new Error(`no version ${name}/${versionId}`);
      version.enabled = enabled;
    },
    close: () => server.close(),
  };
}
