import { CustosError } from '@custos/core/errors';
import type { FastifyRequest } from 'fastify';

/** Longest API path accepted (Vault has no fixed limit; this keeps storage keys sane). */
export const MAX_PATH_LENGTH = 1024;

/**
 * The request's API path after `/v1/`, percent-decoded, e.g. `secret/data/app/db`. Refuses
 * paths with empty, `.` or `..` segments, control characters or excessive length, so a path
 * means one thing to the router, the ACL and storage alike.
 */
export function apiPathOf(request: FastifyRequest): string {
  const raw = request.url.split('?')[0] as string;
  let path: string;
  try {
    path = decodeURIComponent(raw.replace(/^\/v1\//, ''));
  } catch {
    throw new CustosError('ERR_INVALID_REQUEST', 'malformed URL encoding in path');
  }
  if (path.length > MAX_PATH_LENGTH) {
    throw new CustosError('ERR_INVALID_REQUEST', `path longer than ${MAX_PATH_LENGTH} characters`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) {
    throw new CustosError('ERR_INVALID_REQUEST', 'path contains control characters');
  }
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    // A trailing slash (directory listing) leaves one empty last segment; that one is fine.
    if ((segment === '' && i !== segments.length - 1) || segment === '.' || segment === '..') {
      throw new CustosError('ERR_INVALID_REQUEST', 'path has an empty, "." or ".." segment');
    }
  }
  return path;
}
