import { RotatorRegistry } from './rotator.js';
import { jwtKeysetRotator } from './rotators/jwt-keyset.js';
import { postgresPasswordRotator } from './rotators/postgres-password.js';
import { randomRotator } from './rotators/random.js';
import { redisAclRotator } from './rotators/redis-acl.js';
import { webhookRotator } from './rotators/webhook.js';

/**
 * A registry holding the built-in rotators; a server plugin adds custom ones with `register`.
 *
 * @example
 * ```ts
 * const rotators = builtInRotators();
 * rotators.names(); // ['jwt-keyset', 'postgres-password', 'random', 'redis-acl', 'webhook']
 * ```
 */
export function builtInRotators(): RotatorRegistry {
  const registry = new RotatorRegistry();
  registry.register(randomRotator);
  registry.register(redisAclRotator);
  registry.register(postgresPasswordRotator);
  registry.register(webhookRotator);
  registry.register(jwtKeysetRotator);
  return registry;
}
