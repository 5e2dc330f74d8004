import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBackupIdentityFile } from '@custos/core/stream';
import { type Measurement, summarise } from '../lib/measure.js';
import type { Section, Table } from '../lib/report.js';

const bin = fileURLToPath(new URL('../../packages/cli/bin/custos.js', import.meta.url));
const MiB = 1024 * 1024;
const FILE_MiB = 1024;
const SMALL_MiB = 64;
const ROUNDS = 3;

/** One timed run of a command: MiB/s through it and its peak resident set (GNU time's %M). */
interface Run {
  readonly mibPerSecond: number;
  readonly peakRssMiB: number;
}

/**
 * `custos backup encrypt|decrypt` against `age` (the Debian package) on the same 1 GiB file, in
 * one run: each tool is a child process reading a file and writing to standard output (a file
 * when encrypting, /dev/null when decrypting), so neither pays for an fsync the other skips.
 * Rounds alternate custos and age. Peak memory is the kernel's high-water mark of each child
 * (`/usr/bin/time -f %M`); a 64 MiB run beside the 1 GiB one shows whether it grows with size.
 */
export async function backupSuite(): Promise<Section> {
  for (const tool of ['/usr/bin/age', '/usr/bin/age-keygen', '/usr/bin/time']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is missing: apt-get install -y age time (as .ci/run does)`);
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'custos-bench-backup-'));
  try {
    const big = await plaintextFile(join(dir, 'big.bin'), FILE_MiB);
    const small = await plaintextFile(join(dir, 'small.bin'), SMALL_MiB);
    const identity = join(dir, 'id.key');
    const recipient = await writeBackupIdentityFile(identity);
    const ageIdentity = join(dir, 'age.key');
    execFileSync('/usr/bin/age-keygen', ['-o', ageIdentity], { stdio: 'ignore' });
    const ageRecipient = /# public key: (\S+)/.exec(await readFile(ageIdentity, 'utf8'))?.[1];
    if (ageRecipient === undefined) throw new Error('age-keygen wrote no public key');

    const custosSealed = join(dir, 'big.cbk');
    const ageSealed = join(dir, 'big.age');
    const commands = {
      custosEncrypt: () =>
        timed(
          FILE_MiB,
          process.execPath,
          [bin, 'backup', 'encrypt', big, '-r', recipient],
          custosSealed,
        ),
      ageEncrypt: () => timed(FILE_MiB, '/usr/bin/age', ['-r', ageRecipient, big], ageSealed),
      custosDecrypt: () =>
        timed(FILE_MiB, process.execPath, [bin, 'backup', 'decrypt', custosSealed, '-i', identity]),
      ageDecrypt: () => timed(FILE_MiB, '/usr/bin/age', ['-d', '-i', ageIdentity, ageSealed]),
    };
    const runs: Record<keyof typeof commands, Run[]> = {
      custosEncrypt: [],
      ageEncrypt: [],
      custosDecrypt: [],
      ageDecrypt: [],
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, command] of Object.entries(commands)) {
        runs[name as keyof typeof commands].push(await command());
      }
    }
    const smallSealed = join(dir, 'small.cbk');
    const smallEncrypt = await timed(
      SMALL_MiB,
      process.execPath,
      [bin, 'backup', 'encrypt', small, '-r', recipient],
      smallSealed,
    );
    const smallDecrypt = await timed(SMALL_MiB, process.execPath, [
      bin,
      'backup',
      'decrypt',
      smallSealed,
      '-i',
      identity,
    ]);

    const table = (operation: string, custos: Run[], age: Run[]): Table => ({
      title: `${operation} a 1 GiB file (ops/s column: MiB/s)`,
      baseline: `age ${operation}`,
      rows: [row(`custos backup ${operation}`, custos), row(`age ${operation}`, age)],
      goals: [
        {
          description: `custos backup ${operation} at least as fast as age`,
          candidate: `custos backup ${operation}`,
          against: `age ${operation}`,
          atLeast: 1,
        },
      ],
    });
    const memory: Table = {
      title: `custos peak memory: ${SMALL_MiB} MiB against ${FILE_MiB} MiB (ops/s column: MiB/s)`,
      baseline: `encrypt ${SMALL_MiB} MiB`,
      rows: [
        row(`encrypt ${SMALL_MiB} MiB`, [smallEncrypt]),
        row(`encrypt ${FILE_MiB} MiB`, runs.custosEncrypt),
        row(`decrypt ${SMALL_MiB} MiB`, [smallDecrypt]),
        row(`decrypt ${FILE_MiB} MiB`, runs.custosDecrypt),
      ],
      goals: [
        {
          description: 'encrypt memory flat: peak RSS at 1 GiB within 1.25× of 64 MiB',
          candidate: `encrypt ${FILE_MiB} MiB`,
          against: `encrypt ${SMALL_MiB} MiB`,
          figure: 'peakRssMiB',
          atMost: 1.25,
        },
        {
          description: 'decrypt memory flat: peak RSS at 1 GiB within 1.25× of 64 MiB',
          candidate: `decrypt ${FILE_MiB} MiB`,
          against: `decrypt ${SMALL_MiB} MiB`,
          figure: 'peakRssMiB',
          atMost: 1.25,
        },
      ],
    };
    return {
      heading: 'Backups: custos backup against age',
      notes: `The CLI of each tool, as an operator runs it, on the same random ${FILE_MiB} MiB file (page cache warm), ${ROUNDS} alternating rounds; MiB/s is the median. custos: AES-256-GCM STREAM in 64 KiB chunks (node:crypto); age ${ageVersion()}: ChaCha20-Poly1305 STREAM in 64 KiB chunks. Peak RSS is each process's high-water mark, Node's own baseline included.`,
      tables: [
        table('encrypt', runs.custosEncrypt, runs.ageEncrypt),
        table('decrypt', runs.custosDecrypt, runs.ageDecrypt),
        memory,
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function row(name: string, runs: readonly Run[]): Measurement {
  const measured = summarise(
    name,
    runs.map((r) => r.mibPerSecond),
  );
  const peak = Math.max(...runs.map((r) => r.peakRssMiB));
  return {
    ...measured,
    details: { 'peak RSS': `${peak.toFixed(0)} MiB` },
    figures: { peakRssMiB: peak },
  };
}

/** A file of `mib` MiB of random bytes (one random MiB, each copy stamped with its index). */
async function plaintextFile(path: string, mib: number): Promise<string> {
  const block = randomBytes(MiB);
  const handle = await open(path, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      block.writeUInt32BE(i, 0);
      await handle.write(block);
    }
  } finally {
    await handle.close();
  }
  return path;
}

/** Runs `command args…` under GNU time, standard output to `out` (default /dev/null). */
async function timed(
  mib: number,
  command: string,
  args: string[],
  out = '/dev/null',
): Promise<Run> {
  const fd = openSync(out, 'w');
  try {
    const startedAt = process.hrtime.bigint();
    const child = spawn(
      '/usr/bin/time',
      ['-f', 'custos-bench-peak-rss-kib: %M', command, ...args],
      {
        stdio: ['ignore', fd, 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${code}): ${stderr}`);
    const peak = /custos-bench-peak-rss-kib: (\d+)/.exec(stderr);
    if (peak === null) throw new Error(`${command}: no peak memory reported`);
    return { mibPerSecond: mib / seconds, peakRssMiB: Number(peak[1]) / 1024 };
  } finally {
    closeSync(fd);
  }
}

function ageVersion(): string {
  return execFileSync('/usr/bin/age', ['--version'], { encoding: 'utf8' }).trim();
}
