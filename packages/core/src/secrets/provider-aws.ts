import { CustosError } from '../errors/index.js';
import type { SecretProvider } from './provider.js';

/**
 * A Secrets Manager client of the AWS SDK for JavaScript v3 (`SecretsManagerClient` of
 * `@aws-sdk/client-secrets-manager`), as far as this provider uses it.
 *
 * @example
 * ```ts
 * const client: AwsSecretsManagerClient = new SecretsManagerClient({ region: 'eu-west-1' });
 * awsSecretsManager({ secretId: 'app/production', client });
 * ```
 */
export interface AwsSecretsManagerClient {
  send(command: unknown): Promise<unknown>;
}

/**
 * Options of {@link awsSecretsManager}: `secretId` or `prefix`, exactly one.
 *
 * @example
 * ```ts
 * const options: AwsSecretsManagerOptions = { prefix: 'billing/', versionStage: 'AWSCURRENT' };
 * awsSecretsManager(options);
 * ```
 */
export interface AwsSecretsManagerOptions {
  /**
   * One secret whose `SecretString` is a JSON object: each member is a variable (a string as
   * it is, anything else as its JSON text) — the form AWS's console gives key/value secrets.
   */
  readonly secretId?: string;
  /** Or one secret per variable: `NAME` is the secret `<prefix>NAME`, its `SecretString` the value. */
  readonly prefix?: string;
  /** The staging label to read (default `AWSCURRENT`), e.g. `AWSPREVIOUS` or `AWSPENDING`. */
  readonly versionStage?: string;
  /** Read this version instead of a staging label. */
  readonly versionId?: string;
  /** A client you made; else one is made from `clientConfig` (region, endpoint, credentials…). */
  readonly client?: AwsSecretsManagerClient;
  /** The `SecretsManagerClient` configuration, when no `client` is given. */
  readonly clientConfig?: Readonly<Record<string, unknown>>;
  /**
   * How long one fetched secret answers (default 1 s), so loading a schema of 20 variables costs
   * one request; concurrent reads share one request. The SDK's cache (TTL, stale-if-error) sits above.
   */
  readonly documentTtlMs?: number;
}

/** The SDK module, named in a variable: it is an optional peer dependency, loaded on first use. */
const SDK_MODULE = '@aws-sdk/client-secrets-manager';

interface SdkModule {
  SecretsManagerClient: new (config: Record<string, unknown>) => AwsSecretsManagerClient;
  GetSecretValueCommand: new (input: Record<string, unknown>) => unknown;
  ListSecretsCommand: new (input: Record<string, unknown>) => unknown;
}

let sdkModule: Promise<SdkModule> | undefined;

/** Loads the AWS SDK once; a clear error (and a new attempt next time) when it is not installed. */
function loadSdk(): Promise<SdkModule> {
  sdkModule ??= (import(SDK_MODULE) as Promise<SdkModule>).catch((err: unknown) => {
    sdkModule = undefined;
    throw new CustosError(
      'ERR_SECRET_PROVIDER',
      `awsSecretsManager() needs the AWS SDK, an optional peer dependency of @custos/core: npm install ${SDK_MODULE}`,
      { cause: err },
    );
  });
  return sdkModule;
}

/** A cached answer, and the request in flight: one per document (or per name with `prefix`). */
interface Slot<T> {
  value?: { data: T; at: number };
  inFlight?: Promise<T> | undefined;
}

/** Reads through `slot`: the cached answer while younger than `ttl`, else one shared request. */
async function through<T>(slot: Slot<T>, ttl: number, fetch: () => Promise<T>): Promise<T> {
  if (slot.value !== undefined && Date.now() - slot.value.at < ttl) return slot.value.data;
  slot.inFlight ??= fetch().finally(() => {
    slot.inFlight = undefined;
  });
  const data = await slot.inFlight;
  slot.value = { data, at: Date.now() };
  return data;
}

const errorName = (err: unknown) =>
  err instanceof Error ? err.name : typeof err === 'object' && err !== null ? 'Error' : String(err);

/**
 * Reads secrets from AWS Secrets Manager — or from a custos server's Secrets Manager API (set
 * `clientConfig.endpoint`) — with the official SDK (`@aws-sdk/client-secrets-manager` v3, an
 * optional peer dependency loaded on first use). Either one JSON secret holds the variables
 * (`secretId`) or each variable is a secret of its own (`prefix`). `versionStage` /
 * `versionId` select the version, as AWS's caching client does.
 *
 * A missing secret (ResourceNotFoundException) or member is a miss: the next provider of a
 * chain may answer. Anything else (access denied, a secret marked for deletion, the network) is
 * `ERR_SECRET_PROVIDER`, never a miss, so the SDK's stale-if-error serves the last good value.
 * Messages name the secret and the AWS error type, never a value.
 *
 * @example
 * ```ts
 * const secrets = createSecrets({
 *   providers: [awsSecretsManager({ secretId: 'billing/production', clientConfig: { region: 'eu-west-1' } })],
 * });
 * const stripeKey = await secrets.getRequiredSecret('STRIPE_SECRET_KEY');
 * ```
 */
export function awsSecretsManager(options: AwsSecretsManagerOptions): SecretProvider {
  const { secretId, prefix } = options;
  if ((secretId === undefined) === (prefix === undefined))
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'awsSecretsManager() takes either secretId (one JSON secret) or prefix (a secret per variable)',
    );
  if (secretId === '')
    throw new CustosError('ERR_INVALID_ARGUMENT', 'awsSecretsManager(): secretId is empty');
  const ttl = options.documentTtlMs ?? 1000;
  const selection = {
    ...(options.versionStage === undefined ? {} : { VersionStage: options.versionStage }),
    ...(options.versionId === undefined ? {} : { VersionId: options.versionId }),
  };
  let client: Promise<{ sdk: SdkModule; client: AwsSecretsManagerClient }> | undefined;
  const connect = () => {
    client ??= loadSdk().then(
      (sdk) => ({
        sdk,
        client: options.client ?? new sdk.SecretsManagerClient({ ...options.clientConfig }),
      }),
      (err: unknown) => {
        client = undefined;
        throw err;
      },
    );
    return client;
  };

  /** The secret's value (`SecretString`, or `SecretBinary` as UTF-8), undefined when not found. */
  const read = async (id: string): Promise<string | undefined> => {
    const { sdk, client: sm } = await connect();
    let answer: { SecretString?: unknown; SecretBinary?: unknown };
    try {
      answer = (await sm.send(
        new sdk.GetSecretValueCommand({ SecretId: id, ...selection }),
      )) as typeof answer;
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return undefined;
      throw new CustosError(
        'ERR_SECRET_PROVIDER',
        `reading AWS secret ${id} failed: ${errorName(err)}`,
      );
    }
    if (typeof answer.SecretString === 'string') return answer.SecretString;
    if (answer.SecretBinary instanceof Uint8Array)
      return Buffer.from(answer.SecretBinary).toString('utf8');
    throw new CustosError('ERR_SECRET_PROVIDER', `AWS secret ${id} holds no value`);
  };

  if (secretId !== undefined) {
    const slot: Slot<Map<string, string> | undefined> = {};
    const document = () =>
      through(slot, ttl, async () => {
        const text = await read(secretId);
        if (text === undefined) return undefined;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new CustosError(
            'ERR_SECRET_PROVIDER',
            `AWS secret ${secretId} is not a JSON object of variables`,
          );
        // A Map: a variable named "constructor" or "__proto__" is simply absent or present.
        const fields = new Map<string, string>();
        for (const [name, value] of Object.entries(parsed))
          fields.set(name, typeof value === 'string' ? value : JSON.stringify(value));
        return fields;
      });
    return {
      name: `aws:${secretId}`,
      get: async (name) => (await document())?.get(name),
      list: async () => [...((await document())?.keys() ?? [])],
    };
  }

  const slots = new Map<string, Slot<string | undefined>>();
  const head = prefix as string;
  return {
    name: `aws:${head}*`,
    async get(name) {
      let slot = slots.get(name);
      if (slot === undefined) {
        slot = {};
        slots.set(name, slot);
      }
      return through(slot, ttl, () => read(`${head}${name}`));
    },
    async list() {
      const { sdk, client: sm } = await connect();
      const names: string[] = [];
      let token: string | undefined;
      do {
        let page: { SecretList?: { Name?: string }[]; NextToken?: string };
        try {
          page = (await sm.send(
            new sdk.ListSecretsCommand({
              ...(head === '' ? {} : { Filters: [{ Key: 'name', Values: [head] }] }),
              ...(token === undefined ? {} : { NextToken: token }),
            }),
          )) as typeof page;
        } catch (err) {
          throw new CustosError(
            'ERR_SECRET_PROVIDER',
            `listing AWS secrets ${head}* failed: ${errorName(err)}`,
          );
        }
        for (const entry of page.SecretList ?? [])
          if (entry.Name?.startsWith(head) === true) names.push(entry.Name.slice(head.length));
        token = page.NextToken;
      } while (token !== undefined);
      return names;
    },
  };
}
