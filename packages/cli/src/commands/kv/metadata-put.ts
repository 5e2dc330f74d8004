import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { kvPath, parsePairs } from './pairs.js';

interface Options extends ServerFlags {
  mount: string;
  maxVersions?: number;
  casRequired?: boolean;
  deleteVersionAfter?: string;
  customMetadata?: string[];
}

export async function run(path: string, options: Options): Promise<number> {
  const body: Record<string, unknown> = {};
  if (options.maxVersions !== undefined) body.max_versions = options.maxVersions;
  if (options.casRequired !== undefined) body.cas_required = options.casRequired;
  if (options.deleteVersionAfter !== undefined)
    body.delete_version_after = options.deleteVersionAfter;
  if (options.customMetadata !== undefined)
    body.custom_metadata = await parsePairs(options.customMetadata);
  await serverClient(options).request('POST', kvPath(options.mount, 'metadata', path), { body });
  print(`${options.mount}/${path}: metadata updated`);
  return ExitCode.ok;
}
