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
    // The snippet moved the key (or imported one): the server now holds it.
    const [name, what] = snippetMentions('import')
      ? ['release-signing', 'the imported key']
      : ['patients', 'the restored key'];
    const response = await fetchWithin(`${server.url}/v1/transit/keys/${name}`, {
      headers: { 'x-vault-token': token },
    });
    check(response.status === 200, `${what}: ${response.status}`);
  } finally {
    await server.close();
  }
}
