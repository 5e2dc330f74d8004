import { ServerError } from '../errors.js';
import type { RootKeyWrapper } from './root-key-wrapper.js';
import { createTransitSeal, type TransitSealConfig } from './transit-seal.js';

/**
 * The `seal` stanza of the server configuration, with Vault's names. `transit` is served;
 * `pkcs11` is parsed but refused until its binding lands.
 */
export type SealStanza = TransitSealConfig;

const TRANSIT_FIELDS = [
  'type',
  'address',
  'token',
  'mount_path',
  'key_name',
  'timeout_ms',
  'allow_insecure_http',
  'disabled',
];

const fail = (message: string): never => {
  throw new ServerError('ERR_INVALID_CONFIG', `config: ${message}`);
};

/**
 * Validates a parsed `seal` stanza (never echoing the token).
 *
 * @example
 * ```ts
 * parseSealStanza({ type: 'transit', address: 'https://kms:8200', key_name: 'custos-seal' });
 * ```
 */
export function parseSealStanza(raw: unknown): SealStanza {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail('"seal" must be an object such as {"type": "transit", …}');
  const s = raw as Record<string, unknown>;
  if (s.type === 'pkcs11') fail('seal.type "pkcs11" is not available yet in this build');
  if (s.type !== 'transit') fail('seal.type must be "transit"');
  for (const key of Object.keys(s))
    if (!TRANSIT_FIELDS.includes(key))
      fail(`unknown field "seal.${key}" (known: ${TRANSIT_FIELDS.join(', ')})`);
  if (typeof s.address !== 'string' || !/^https?:\/\/[^\s]+$/.test(s.address))
    fail('seal.address must be an http(s) URL');
  if (s.token !== undefined && (typeof s.token !== 'string' || s.token === ''))
    fail('seal.token must be a non-empty string (or leave it out and set CUSTOS_SEAL_TOKEN)');
  if (
    s.mount_path !== undefined &&
    (typeof s.mount_path !== 'string' ||
      !/^\/?[\w.-]+(\/[\w.-]+)*\/?$/.test(s.mount_path) ||
      s.mount_path.split('/').some((part) => part === '.' || part === '..'))
  )
    fail('seal.mount_path must be a mount path such as "transit/"');
  if (typeof s.key_name !== 'string' || !/^[\w.-]+$/.test(s.key_name))
    fail('seal.key_name must be a transit key name');
  if (
    s.timeout_ms !== undefined &&
    (!Number.isInteger(s.timeout_ms) || (s.timeout_ms as number) <= 0)
  )
    fail('seal.timeout_ms must be a positive integer');
  if (s.disabled !== undefined && typeof s.disabled !== 'boolean')
    fail('seal.disabled must be true or false');
  if (s.allow_insecure_http !== undefined && typeof s.allow_insecure_http !== 'boolean')
    fail('seal.allow_insecure_http must be true or false');
  return s as unknown as SealStanza;
}

/**
 * The seal a stanza names (a new seal type is one more case here).
 *
 * @example
 * ```ts
 * const wrapper = createRootKeyWrapper(config.seal, process.env);
 * ```
 */
export function createRootKeyWrapper(
  stanza: SealStanza,
  env: NodeJS.ProcessEnv = process.env,
): RootKeyWrapper {
  return createTransitSeal(parseSealStanza(stanza), env);
}
