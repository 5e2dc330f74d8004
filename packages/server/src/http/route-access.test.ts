import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { aclPathOf, isListRequest, operationOf, resolveWriteOperation } from './route-access.js';

// The operation the ACL judges, from the method and the query alone, and the create/update
// choice for writes, on requests as the router hands them over.
const request = (method: string, query?: Record<string, unknown>) =>
  ({ method, query }) as unknown as FastifyRequest;

describe('the operation of a request', () => {
  it("is Vault's name for the method", () => {
    expect(operationOf(request('GET'))).toBe('read');
    expect(operationOf(request('HEAD'))).toBe('read');
    expect(operationOf(request('POST'))).toBe('update');
    expect(operationOf(request('PUT'))).toBe('update');
    expect(operationOf(request('PATCH'))).toBe('patch');
    expect(operationOf(request('DELETE'))).toBe('delete');
    expect(operationOf(request('OPTIONS'))).toBe('read');
  });

  it('is list for a GET or HEAD with list=true or list=1, and only then', () => {
    for (const list of ['true', '1']) {
      expect(operationOf(request('GET', { list }))).toBe('list');
      expect(operationOf(request('HEAD', { list }))).toBe('list');
      expect(operationOf(request('POST', { list }))).toBe('update');
    }
    for (const list of ['false', '0', 'TRUE', 'yes', '', true, 1])
      expect(isListRequest(request('GET', { list }))).toBe(false);
    expect(isListRequest(request('GET'))).toBe(false);
  });

  it('is create for a write to a missing target on routes that tell, else stays as it is', async () => {
    const exists = (found: boolean) => ({ exists: async () => found });
    expect(await resolveWriteOperation(request('POST'), exists(false), 'update')).toBe('create');
    expect(await resolveWriteOperation(request('POST'), exists(true), 'update')).toBe('update');
    expect(await resolveWriteOperation(request('POST'), {}, 'update')).toBe('update');
    // Only writes ask: nothing is looked up for a read, a patch or a delete.
    const never = {
      exists: async () => {
        throw new Error('asked');
      },
    };
    for (const operation of ['read', 'patch', 'delete', 'list'] as const)
      expect(await resolveWriteOperation(request('GET'), never, operation)).toBe(operation);
  });
});

describe('the path the ACL judges', () => {
  it('is the folder for a list (one trailing slash), the path itself otherwise', () => {
    expect(aclPathOf('secret/metadata/app', 'list')).toBe('secret/metadata/app/');
    expect(aclPathOf('secret/metadata/app/', 'list')).toBe('secret/metadata/app/');
    expect(aclPathOf('secret/metadata/app', 'read')).toBe('secret/metadata/app');
  });
});
