/**
 * docs/transit.md: a custos dev server (`CUSTOS_ADDR`, root token), and the local KMS of the
 * first example with its `patients` key, ready to move.
 */
import { join } from 'node:path';
import { LocalKms } from '@custos/core/kms';
import {
  check,
  fetchWithin,
  type SnippetExports,
  snippetMentions,
  startDevServer,
  workDir,
} from '../support.js';

// The server, for the snippets that talk to one.
const server = snippetMentions('CUSTOS_ADDR') ? await startDevServer() : undefined;
if (server) process.env.CUSTOS_ADDR = server.url;
export const token = 'root';

export const kms = await LocalKms.open(join(workDir, 'kms.json'));
kms.createKey('patients', { exportable: true, allowPlaintextBackup: true });
await kms.save();

export async function finish(_snippet: SnippetExports): Promise<void> {
  if (!server) return;
  try {
    // The snippet moved the key: the server now holds it.
    const response = await fetchWithin(`${server.url}/v1/transit/keys/patients`, {
      headers: { 'x-vault-token': token },
    });
    check(response.status === 200, `the restored key: ${response.status}`);
  } finally {
    await server.close();
  }
}
