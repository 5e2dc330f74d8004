import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { policyDocument } from './policy-text.js';

export async function run(name: string, file: string, options: ServerFlags): Promise<number> {
  const source = file === '-' ? 'stdin' : file;
  const policy = policyDocument(
    file === '-' ? await text(process.stdin) : await readFile(file, 'utf8'),
    source,
  );
  await serverClient(options).request('POST', `sys/policies/acl/${encodeURIComponent(name)}`, {
    body: { policy },
  });
  print(`Success! Uploaded policy: ${name}`);
  return ExitCode.ok;
}
