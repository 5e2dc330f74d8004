/**
 * docs/aws.md: a custos dev server (`CUSTOS_ADDR`) holding the KV secret `prod/db`, a policy
 * `app` that may read it, and an access key for `app` (as `custos aws access-key create
 * --policies app` prints it) in `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, where the SDK
 * reads credentials.
 */
import { check, fetchWithin, type SnippetExports, startDevServer } from '../support.js';

const server = await startDevServer();
process.env.CUSTOS_ADDR = server.url;

async function asRoot(method: string, path: string, body: unknown): Promise<unknown> {
  const response = await fetchWithin(`${server.url}/v1/${path}`, {
    method,
    headers: { 'x-vault-token': 'root', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  check(response.ok, `${method} ${path}: ${response.status}`);
  return response.status === 204 ? undefined : response.json();
}

const policy = { path: { 'secret/data/prod/db': { capabilities: ['read'] } } };
await asRoot('POST', 'sys/policies/acl/app', { policy: JSON.stringify(policy) });
await asRoot('POST', 'secret/data/prod/db', { data: { password: 'docs-example-password' } });
const issued = (await asRoot('POST', 'aws/access-key', { policies: ['app'] })) as {
  data: { access_key_id: string; secret_access_key: string };
};
process.env.AWS_ACCESS_KEY_ID = issued.data.access_key_id;
process.env.AWS_SECRET_ACCESS_KEY = issued.data.secret_access_key;

export async function finish(_snippet: SnippetExports): Promise<void> {
  await server.close();
}
