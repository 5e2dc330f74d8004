/**
 * docs/secrets.md: a `.env.production` in the working directory holding strong values for the
 * schema of the first example, the same values in the environment for the Standard Schema
 * example, and AppRole credentials.
 */
import { randomBytes } from 'node:crypto';
import { writeWorkFile } from '../support.js';

const values = {
  JWT_SECRET: randomBytes(32).toString('base64url'),
  ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  DB_PASSWORD: randomBytes(24).toString('base64url'),
  DATABASE_URL: 'postgres://app@db.internal:5432/app',
};
await writeWorkFile(
  '.env.production',
  `${Object.entries(values)
    .map(([name, value]) => `${name}=${value}`)
    .join('\n')}\n`,
);
Object.assign(process.env, values);

export const roleId = 'billing-role-id';
export const secretId = randomBytes(16).toString('hex');
