import { pathToFileURL } from 'node:url';
import type { AnyKysely } from '@custos/reencrypt';
import type { RotationConfig, RotationDatabaseConfig } from '../config/rotation-config.js';
import { openDatabase } from '../database/open-database.js';
import { ServerError } from '../errors.js';
import { readNamedSecret } from '../lib/named-secret.js';
import type { Rotator } from './rotator.js';

/** What the `rotation` section gives a starting server. */
export interface RotationSetup {
  /** The databases by name, open. */
  readonly databases: Readonly<Record<string, AnyKysely>>;
  /** The rotators the plugins export, checked, in the order the plugins are listed. */
  readonly rotators: readonly Rotator[];
  /** Closes the databases. */
  close(): Promise<void>;
}

const invalid = (message: string) => new ServerError('ERR_INVALID_CONFIG', `config: ${message}`);
const METHODS = ['checkSettings', 'create', 'set', 'test'] as const;
const OPTIONAL_METHODS = [
  'requiredRights',
  'finish',
  'background',
  'rollback',
  'retire',
  'preflight',
] as const;

/**
 * The rotator a plugin module exports as `rotator` (or as its default export), checked for the
 * {@link Rotator} shape: a `name` and the four methods, optional ones functions when present.
 */
export function rotatorOfModule(module: Record<string, unknown>, plugin: string): Rotator {
  const exported = module.rotator ?? module.default;
  const wrong = (what: string) =>
    invalid(
      `rotation plugin ${plugin}: ${what} (a plugin exports "rotator": {name, checkSettings, create, set, test}, docs/rotation.md)`,
    );
  if (typeof exported !== 'object' || exported === null)
    throw wrong('exports no rotator object as "rotator" or default');
  const candidate = exported as Record<string, unknown>;
  if (typeof candidate.name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(candidate.name))
    throw wrong('its rotator has no "name" of lower-case letters, digits and -');
  for (const method of METHODS)
    if (typeof candidate[method] !== 'function')
      throw wrong(`its rotator "${candidate.name}" has no function "${method}"`);
  for (const method of OPTIONAL_METHODS)
    if (candidate[method] !== undefined && typeof candidate[method] !== 'function')
      throw wrong(`its rotator "${candidate.name}" has "${method}" that is not a function`);
  return exported as Rotator;
}

/** The database's location with its password, read from where the configuration names. */
async function locationWithPassword(
  name: string,
  db: RotationDatabaseConfig,
  env: NodeJS.ProcessEnv,
): Promise<{ location: string; password?: string }> {
  const source = db.password;
  if (source === undefined) return { location: db.location };
  const password = await readNamedSecret(source, `rotation.databases.${name}`, 'password', env);
  const url = new URL(db.location);
  url.password = encodeURIComponent(password);
  return { location: url.toString(), password };
}

/**
 * Loads the plugins and opens the databases the `rotation` section names, at start: a plugin
 * that cannot be imported or exports no valid rotator, or a database that cannot be opened,
 * stops the start (`ERR_INVALID_CONFIG`; no password in any message). What was opened before a
 * failure is closed again.
 *
 * @example
 * ```ts
 * const setup = await openRotationSetup(config.rotation, process.env);
 * for (const rotator of setup.rotators) rotators.register(rotator);
 * ```
 */
export async function openRotationSetup(
  config: RotationConfig,
  env: NodeJS.ProcessEnv,
): Promise<RotationSetup> {
  const rotators: Rotator[] = [];
  for (const plugin of config.plugins) {
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(plugin).href)) as Record<string, unknown>;
    } catch (err) {
      throw invalid(
        `rotation plugin ${plugin} cannot be loaded: ${(err as { code?: string }).code ?? (err as Error).name}`,
      );
    }
    rotators.push(rotatorOfModule(module, plugin));
  }
  const names = rotators.map((r) => r.name);
  if (new Set(names).size !== names.length)
    throw invalid('two rotation plugins export rotators of the same name');
  const opened: { name: string; close: () => Promise<void>; db: AnyKysely }[] = [];
  const closeAll = async () => {
    for (const db of opened.splice(0)) await db.close().catch(() => {});
  };
  try {
    for (const [name, db] of Object.entries(config.databases)) {
      const { location, password } = await locationWithPassword(name, db, env);
      const open = await openDatabase<unknown>(location).catch((err: Error) => {
        // openDatabase's messages name the host, not the password; scrubbed all the same.
        const message =
          password === undefined
            ? err.message
            : err.message
                .split(password)
                .join('[redacted]')
                .split(encodeURIComponent(password))
                .join('[redacted]');
        throw invalid(`rotation.databases.${name} cannot be opened: ${message}`);
      });
      opened.push({ name, close: open.close, db: open.db as AnyKysely });
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return {
    databases: Object.fromEntries(opened.map((o) => [o.name, o.db])),
    rotators,
    close: closeAll,
  };
}
