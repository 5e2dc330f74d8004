import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { splitSecret } from '@custos/core/stream';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';
import { qrText } from './qr.js';
import { readSecretFile, readStdin } from './secret-input.js';

interface Options {
  threshold: number;
  shares: number;
  in?: string;
  outDir?: string;
  qr: boolean;
}

export async function run(options: Options): Promise<number> {
  const secret =
    options.in === undefined ? await readStdin() : await readSecretFile(options.in, 'secret file');
  try {
    const lines = await splitSecret(secret, {
      threshold: options.threshold,
      shares: options.shares,
    });
    // Render every QR code before writing anything: a missing qrcode package writes nothing.
    const qrs = options.qr ? await Promise.all(lines.map(qrText)) : [];
    const texts = lines.map((line, i) => (options.qr ? `${line}\n\n${qrs[i]}` : line));
    if (options.outDir === undefined) {
      for (const text of texts) print(options.qr ? `${text}\n` : text);
      return ExitCode.ok;
    }
    await mkdir(options.outDir, { recursive: true, mode: 0o700 });
    const files = texts.map((_, i) =>
      join(options.outDir as string, `share-${i + 1}-of-${lines.length}.txt`),
    );
    for (const [i, file] of files.entries()) {
      // wx: an existing share file is never overwritten (it may be another split's share).
      await writeFile(file, `${texts[i]}\n`, { mode: 0o600, flag: 'wx' });
    }
    warn(
      `wrote ${files.length} shares (any ${options.threshold} rebuild the secret) to ${options.outDir}: give each to a different person`,
    );
    return ExitCode.ok;
  } finally {
    secret.fill(0);
  }
}
