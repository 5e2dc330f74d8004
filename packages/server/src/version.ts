import { requireFromServerPackage } from './package-files.js';

/** The version of this package, as published. */
export const serverVersion: string = (
  requireFromServerPackage('@custos/server/package.json') as { version: string }
).version;
