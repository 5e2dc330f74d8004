/**
 * Redaction: keep secret values out of logs, errors and serialised output.
 *
 * @module
 */
export { isSecret, Secret } from './secret.js';
