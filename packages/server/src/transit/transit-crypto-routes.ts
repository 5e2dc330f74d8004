import { randomBytes } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import {
  decryptWithKey,
  encryptWithKey,
  hmacWithKey,
  invalidMarshaling,
  parseVersioned,
  randomDataKey,
  signWithKey,
  verifyHmacWithKey,
  verifyWithKey,
} from '@custos/core/internal/transit';
import type { SignatureOptions } from '@custos/core/kms';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { bodyOf } from '../http/body-parser.js';
import { ok } from '../http/envelope.js';
import { base64Field, optionalBase64, optionalBool, optionalInt } from '../http/fields.js';
import { itemsOf, runItems, sendResults } from './batch.js';
import { createUsageRecorder } from './key-usage.js';
import { refuseCreationSettings, upsertOptions } from './upsert.js';

type Params = { name: string; algorithm?: string; type?: string; bytes?: string };
const params = (request: FastifyRequest) => request.params as Params;

/** The version a ciphertext, signature or HMAC names (to load it before the synchronous crypto). */
function versionIn(value: unknown, urlSafe = false): number[] {
  try {
    return [parseVersioned(value, urlSafe).version];
  } catch {
    return [];
  }
}

/** Every `key_version` the request names (body and items), to load before the crypto runs. */
function versionsRequested(
  items: readonly Record<string, unknown>[],
  body: Record<string, unknown>,
): number[] {
  return [body, ...items].flatMap((i) => {
    const v = typeof i.key_version === 'number' ? i.key_version : Number(i.key_version);
    return Number.isSafeInteger(v) && v > 0 ? [v] : [];
  });
}

/**
 * An item's derivation `context` and `associated_data` (each falling back to the request
 * body's), decoded, as options of the key operations: absent fields stay absent.
 */
function bindingOf(
  item: Record<string, unknown>,
  body: Record<string, unknown>,
): { context?: Buffer; associatedData?: Buffer } {
  const context = optionalBase64(item.context ?? body.context, 'context');
  const associatedData = optionalBase64(
    item.associated_data ?? body.associated_data,
    'associated_data',
  );
  return {
    ...(context ? { context } : {}),
    ...(associatedData ? { associatedData } : {}),
  };
}

/**
 * Transit's data operations at `/v1/transit/…`: encrypt, decrypt, rewrap (with `batch_input`),
 * data keys, HMAC, sign and verify, random bytes.
 *
 * @example
 * ```ts
 * registerTransitCryptoRoutes(app, ctx);
 * ```
 */
export function registerTransitCryptoRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const post = (
    url: string,
    handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
    exists?: (r: FastifyRequest) => Promise<boolean>,
  ) =>
    app.route({
      method: 'POST', // PUT too: the route table answers PUT wherever POST is (http/app.ts)
      url,
      ...(exists ? { config: { access: { exists } } } : {}),
      handler,
    });

  const { logUsage, keyOperation } = createUsageRecorder(ctx);

  // Encrypting to a missing key creates it (upsert), when the token may `create` on the path,
  // with default settings but for its type and convergence (see upsert.ts).
  post(
    '/v1/transit/encrypt/:name',
    keyOperation('encrypt', async (request, reply) => {
      const { name } = params(request);
      const body = bodyOf(request);
      const input = itemsOf(request);
      const { items } = input;
      refuseCreationSettings(body, items);
      // The boundary already asked whether the key exists (create vs update); a key that
      // appeared since is left as it is (createKey returns false), one deleted since fails below.
      if (request.custos.operation === 'create') {
        // A single item that cannot be encrypted creates no key.
        if (!input.batch) base64Field(body.plaintext, 'plaintext');
        await ctx.transit.createKey(name, upsertOptions(body, items));
      }
      const requested = optionalInt(body.key_version, 'key_version');
      const session = await ctx.transit.forEncryption(
        name,
        items.length,
        versionsRequested(items, body),
      );
      const results = await runItems(items, async (item) => {
        const binding = bindingOf(item, body);
        const keyVersion = optionalInt(item.key_version, 'key_version') ?? requested;
        const plaintext = base64Field(item.plaintext, 'plaintext');
        const { ciphertext, keyVersion: used } = encryptWithKey(await session.take(keyVersion), {
          plaintext,
          ...binding,
          ...(keyVersion === undefined ? {} : { keyVersion }),
        });
        return { ciphertext, key_version: used };
      });
      logUsage(request, name, 'encrypt', results);
      return sendResults(request, reply, input, results);
    }),
    (r) => ctx.transit.exists(params(r).name),
  );

  post(
    '/v1/transit/decrypt/:name',
    keyOperation('decrypt', async (request, reply) => {
      const { name } = params(request);
      const body = bodyOf(request);
      const input = itemsOf(request);
      const { items } = input;
      const view = await ctx.transit.view(
        name,
        items.flatMap((i) => versionIn(i.ciphertext)),
      );
      const results = await runItems(items, async (item) => {
        const binding = bindingOf(item, body);
        if (item.ciphertext === undefined || item.ciphertext === '')
          throw new CustosError('ERR_INVALID_REQUEST', 'missing ciphertext to decrypt');
        const { plaintext, keyVersion } = decryptWithKey(view, {
          ciphertext: item.ciphertext,
          ...binding,
        });
        return { plaintext: plaintext.toString('base64'), key_version: keyVersion };
      });
      logUsage(request, name, 'decrypt', results);
      // Vault's decrypt answers carry only the plaintext.
      const plain = results.map((r) => ('error' in r ? r : { plaintext: r.plaintext }));
      return sendResults(request, reply, input, plain);
    }),
  );

  post(
    '/v1/transit/rewrap/:name',
    keyOperation('rewrap', async (request, reply) => {
      const { name } = params(request);
      const body = bodyOf(request);
      const input = itemsOf(request);
      const { items } = input;
      const requested = optionalInt(body.key_version, 'key_version');
      const session = await ctx.transit.forEncryption(name, items.length, [
        ...items.flatMap((i) => versionIn(i.ciphertext)),
        ...versionsRequested(items, body),
      ]);
      const results = await runItems(items, async (item) => {
        const binding = bindingOf(item, body);
        const keyVersion = optionalInt(item.key_version, 'key_version') ?? requested;
        const { plaintext } = decryptWithKey(session.view, {
          ciphertext: item.ciphertext,
          ...binding,
        });
        // Rewrap never hands the plaintext out; it lives here only between the two operations.
        try {
          const { ciphertext, keyVersion: used } = encryptWithKey(await session.take(keyVersion), {
            plaintext,
            ...binding,
            ...(keyVersion ? { keyVersion } : {}),
          });
          return { ciphertext, key_version: used };
        } finally {
          plaintext.fill(0);
        }
      });
      logUsage(request, name, 'rewrap', results);
      return sendResults(request, reply, input, results);
    }),
  );

  post(
    '/v1/transit/datakey/:type/:name',
    keyOperation(
      // The operation names only the two real types, never arbitrary path text.
      (request) =>
        ['plaintext', 'wrapped'].includes(params(request).type ?? '')
          ? `datakey-${params(request).type}`
          : 'datakey',
      async (request, reply) => {
        const { name, type } = params(request);
        if (type !== 'plaintext' && type !== 'wrapped')
          throw new CustosError(
            'ERR_INVALID_REQUEST',
            'invalid type; must be plaintext or wrapped',
          );
        const body = bodyOf(request);
        const key = randomDataKey(optionalInt(body.bits, 'bits') ?? 256);
        const context = optionalBase64(body.context, 'context');
        const session = await ctx.transit.forEncryption(name, 1);
        const { ciphertext, keyVersion } = encryptWithKey(await session.take(undefined), {
          plaintext: key,
          ...(context ? { context } : {}),
        });
        logUsage(request, name, `datakey-${type}`, [{ key_version: keyVersion }]);
        const data = {
          ciphertext,
          key_version: keyVersion,
          ...(type === 'plaintext' ? { plaintext: key.toString('base64') } : {}),
        };
        return ok(request, reply, data);
      },
    ),
  );

  for (const url of ['/v1/transit/hmac/:name', '/v1/transit/hmac/:name/:algorithm']) {
    post(
      url,
      keyOperation('hmac', async (request, reply) => {
        const { name } = params(request);
        const body = bodyOf(request);
        const algorithm =
          params(request).algorithm ??
          (typeof body.algorithm === 'string' ? body.algorithm : undefined);
        const input = itemsOf(request);
        const { items } = input;
        const view = await ctx.transit.view(name, versionsRequested(items, body));
        const results = await runItems(items, async (item) => {
          const hmac = hmacWithKey(
            view,
            base64Field(item.input, 'input'),
            algorithm,
            optionalInt(item.key_version ?? body.key_version, 'key_version'),
          );
          return { hmac, key_version: parseVersioned(hmac).version };
        });
        logUsage(request, name, 'hmac', results);
        return sendResults(
          request,
          reply,
          input,
          results.map((r) => ('error' in r ? r : { hmac: r.hmac })),
        );
      }),
    );
  }

  /** Signature options, refused as a whole (before any item) when malformed, as in Vault. */
  const signatureOptions = (
    request: FastifyRequest,
    body: Record<string, unknown>,
  ): SignatureOptions => {
    const hash = params(request).algorithm ?? body.hash_algorithm ?? body.algorithm;
    const marshaling = body.marshaling_algorithm ?? undefined;
    if (marshaling !== undefined && marshaling !== 'asn1' && marshaling !== 'jws')
      throw invalidMarshaling();
    if (optionalBool(body.prehashed, 'prehashed'))
      throw new CustosError('ERR_INVALID_REQUEST', 'prehashed input is not supported');
    return {
      ...(typeof hash === 'string' ? { hashAlgorithm: hash } : {}),
      ...(marshaling === undefined ? {} : { marshalingAlgorithm: marshaling }),
    };
  };

  for (const url of ['/v1/transit/sign/:name', '/v1/transit/sign/:name/:algorithm']) {
    post(
      url,
      keyOperation('sign', async (request, reply) => {
        const { name } = params(request);
        const body = bodyOf(request);
        const options = signatureOptions(request, body);
        const input = itemsOf(request);
        const { items } = input;
        const view = await ctx.transit.view(name, versionsRequested(items, body));
        const results = await runItems(items, async (item) => {
          const keyVersion = optionalInt(item.key_version ?? body.key_version, 'key_version');
          const { signature, keyVersion: used } = signWithKey(
            view,
            base64Field(item.input, 'input'),
            {
              ...options,
              ...(keyVersion === undefined ? {} : { keyVersion }),
            },
          );
          return { signature, key_version: used };
        });
        logUsage(request, name, 'sign', results);
        return sendResults(request, reply, input, results);
      }),
    );
  }

  for (const url of ['/v1/transit/verify/:name', '/v1/transit/verify/:name/:algorithm']) {
    post(
      url,
      keyOperation('verify', async (request, reply) => {
        const { name } = params(request);
        const body = bodyOf(request);
        const options = signatureOptions(request, body);
        const input = itemsOf(request);
        const { items, batch } = input;
        const urlSafe = options.marshalingAlgorithm === 'jws';
        const view = await ctx.transit.view(
          name,
          items.flatMap((i) => [
            ...versionIn(i.signature ?? body.signature, urlSafe),
            ...versionIn(i.hmac ?? body.hmac),
          ]),
        );
        const results = await runItems(items, async (item) => {
          const data = base64Field(item.input, 'input');
          const hmac = item.hmac ?? (batch ? undefined : body.hmac);
          if (hmac !== undefined) {
            const algorithm =
              params(request).algorithm ??
              (typeof body.algorithm === 'string' ? body.algorithm : undefined);
            return {
              valid: verifyHmacWithKey(view, data, hmac, algorithm),
              key_version: parseVersioned(hmac).version,
            };
          }
          const signature = item.signature ?? (batch ? undefined : body.signature);
          if (signature === undefined)
            throw new CustosError('ERR_INVALID_REQUEST', 'missing signature or hmac to verify');
          return {
            valid: verifyWithKey(view, data, signature, options),
            key_version: parseVersioned(signature, urlSafe).version,
          };
        });
        logUsage(request, name, 'verify', results);
        return sendResults(
          request,
          reply,
          input,
          results.map((r) => ('error' in r ? r : { valid: r.valid })),
        );
      }),
    );
  }

  for (const url of ['/v1/transit/random', '/v1/transit/random/:bytes']) {
    post(url, async (request, reply) => {
      const body = bodyOf(request);
      const count = optionalInt(params(request).bytes ?? body.bytes, 'bytes') ?? 32;
      if (count < 1 || count > 128 * 1024)
        throw new CustosError('ERR_INVALID_REQUEST', 'bytes must be from 1 to 131072');
      const format = body.format ?? 'base64';
      if (format !== 'base64' && format !== 'hex')
        throw new CustosError('ERR_INVALID_REQUEST', 'format must be base64 or hex');
      return ok(request, reply, { random_bytes: randomBytes(count).toString(format) });
    });
  }
}
