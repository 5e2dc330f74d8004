/**
 * docs/backups.md: a `db.sql` dump in the working directory (also what `process.stdin` carries,
 * as in `pg_dump mydb | node backup.js`), the restore host's `id.key` with its recipient in
 * `BACKUP_RECIPIENT` (`custos backup keygen`), a `backup.key` key file, and for the snippets
 * that use them: an S3 stand-in (s3rver, bucket `backups`, found through the SDK's own
 * `AWS_ENDPOINT_URL_S3`), an upload endpoint (`uploadUrl`) and a custos dev server with transit
 * key `backups`, and a local KMS file selected by `KMS_PROVIDER=local` (key `backups`). `finish()`
 * decrypts what each snippet produced and compares it to the dump.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalKms } from '@custos/core/kms';
import {
  type BackupRecipient,
  decryptFile,
  decryptIterable,
  readBackupIdentityFile,
  writeBackupIdentityFile,
  x25519Recipient,
} from '@custos/core/stream';
import S3rver from 's3rver';
import {
  check,
  listen,
  type SnippetExports,
  snippetMentions,
  startDevServer,
  workDir,
  writeWorkFile,
} from '../support.js';

// Larger than one 16 MiB part for the S3 example, so that its upload is a real multipart one.
const dumpBytes = snippetMentions('S3Client') ? 18 * 1024 * 1024 : 200_000;
const dump = `-- PostgreSQL database dump\n${randomBytes(dumpBytes).toString('base64')}\n`;
await writeWorkFile('db.sql', dump);
await writeWorkFile('backup.key', `${randomBytes(32).toString('hex')}\n`);
process.env.BACKUP_RECIPIENT = await writeBackupIdentityFile(join(workDir, 'id.key'));
const identities = await readBackupIdentityFile(join(workDir, 'id.key'));

/** The recipients of the web-upload example. */
export const recipients: BackupRecipient[] = [x25519Recipient(process.env.BACKUP_RECIPIENT)];

// Standard input carries the dump, as a shell pipe would.
if (snippetMentions('stdin')) {
  Object.defineProperty(process, 'stdin', {
    value: createReadStream(join(workDir, 'db.sql')),
    configurable: true,
  });
}

async function decryptsToDump(cbk: string): Promise<void> {
  const out = join(workDir, 'check.sql');
  await decryptFile(cbk, out, { identities });
  check((await readFile(out, 'utf8')) === dump, `${cbk} decrypts to the dump`);
}

// The upload endpoint of the `fetch` example: it keeps what is PUT.
let uploaded: Buffer | undefined;
const uploads = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (req.method === 'PUT') uploaded = Buffer.concat(chunks);
  res.statusCode = req.method === 'PUT' ? 200 : 405;
  res.end();
});
export const uploadUrl = `${await listen(uploads)}/uploads/db.sql.cbk`;

// S3: s3rver, a local S3-compatible server, with the bucket `backups`.
const s3 = snippetMentions('S3Client') ? await startS3() : undefined;
async function startS3() {
  const directory = await mkdtemp(join(tmpdir(), 'custos-docs-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: 'backups', configs: [] }],
  });
  const { port } = await server.run();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
  return { server, directory };
}

// The KMS of the environment, for the KMS stanza's example: a local KMS file with key `backups`.
if (snippetMentions('kmsRecipient')) {
  const kmsFile = join(workDir, 'kms.json');
  const local = new LocalKms();
  local.createKey('backups');
  await local.save(kmsFile);
  await chmod(kmsFile, 0o600);
  Object.assign(process.env, {
    KMS_PROVIDER: 'local',
    LOCAL_KMS_FILE: kmsFile,
    KMS_KEY_NAME: 'backups',
  });
}

// The custos server and its transit key `backups`.
const custos = snippetMentions('transitRecipient') ? await startDevServer() : undefined;
export const token = 'root';
if (custos) {
  process.env.CUSTOS_ADDR = custos.url;
  const created = await fetch(`${custos.url}/v1/transit/keys/backups`, {
    method: 'POST',
    headers: { 'x-vault-token': token },
  });
  check(created.ok, `creating transit key backups: ${created.status}`);
}

export async function finish(_snippet: SnippetExports): Promise<void> {
  try {
    if (snippetMentions('encryptFile')) {
      // The files round trip left the dump as it was, and the encrypted file opens.
      check((await readFile(join(workDir, 'db.sql'), 'utf8')) === dump, 'db.sql restored');
      if (!custos) await decryptsToDump(join(workDir, 'db.sql.cbk'));
    }
    if (snippetMentions('encryptWebStream')) {
      check(uploaded !== undefined, 'the upload arrived');
      let received = '';
      for await (const chunk of decryptIterable(Readable.from([uploaded]), { identities }))
        received += Buffer.from(chunk).toString('utf8');
      check(received === dump, 'the upload decrypts to the dump');
    }
    if (s3) {
      const { ListObjectsV2Command, GetObjectCommand, S3Client } = await import(
        '@aws-sdk/client-s3'
      );
      const client = new S3Client({ forcePathStyle: true });
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'backups' }));
      const key = listed.Contents?.[0]?.Key;
      check(key?.startsWith('db/'), `the object in the bucket: ${key}`);
      const object = await client.send(new GetObjectCommand({ Bucket: 'backups', Key: key }));
      const bytes = await object.Body?.transformToByteArray();
      check(bytes !== undefined, 'the object has a body');
      let received = '';
      for await (const chunk of decryptIterable(Readable.from([bytes]), { identities }))
        received += Buffer.from(chunk).toString('utf8');
      check(received === dump, 'the S3 object decrypts to the dump');
      client.destroy();
    }
  } finally {
    uploads.close();
    if (s3) {
      await s3.server.close();
      await rm(s3.directory, { recursive: true, force: true });
    }
    await custos?.close();
  }
}
