import { CustosError } from '@custos/core/errors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Vault reads every request body as JSON whatever its Content-Type (curl's `-d` sends
 * `application/x-www-form-urlencoded`; PATCH sends `application/merge-patch+json`). An empty
 * body is `{}`. Parse errors never quote the body: it may hold secrets.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request: FastifyRequest, body, done) => {
    const text = (body as string).trim();
    if (text === '') {
      done(null, {});
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new CustosError('ERR_INVALID_REQUEST', 'request body is not valid JSON'), undefined);
    }
  });
}

/** The request body as an object (Vault bodies are JSON objects). */
export function bodyOf(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new CustosError('ERR_INVALID_REQUEST', 'request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
