import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { lineHash } from './audit-line.js';
import { linesBackward, linesForward } from './sinks.js';

/** A file moved aside by rotation, described by its first and last entries. */
export interface RotatedFile {
  readonly path: string;
  /** The file name (no directory): what a retention entry names. */
  readonly name: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** SHA-256 of its last line: the `prev` of the first line of the file after it. */
  readonly lastHash: string;
  /** Time of its last entry (when it was rotated out). */
  readonly lastTime: string;
}

/**
 * The name a rotated file gets: the live file's name, a dot and the rotation time
 * (`audit.log.2026-12-04T10-39-03.123Z`), so names sort by age; `-2`, `-3`… if taken.
 *
 * @example
 * ```ts
 * const target = await rotatedName('/var/log/custos/audit.log', new Date());
 * ```
 */
export async function rotatedName(path: string, at: Date): Promise<string> {
  const stamp = at.toISOString().replaceAll(':', '-');
  for (let n = 1; ; n++) {
    const candidate = `${path}.${stamp}${n === 1 ? '' : `-${n}`}`;
    const taken = await stat(candidate).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
    if (!taken) return candidate;
  }
}

/**
 * The files next to `path` named `<its name>.<anything>` (its rotated files, whether custos or
 * logrotate moved them) that read as custos audit logs, oldest first (by first seq). A file
 * that cannot be read or described (compressed, empty, not an audit log) is left out: it is
 * never deleted by retention.
 *
 * @example
 * ```ts
 * for (const file of await rotatedFiles('/var/log/custos/audit.log')) console.log(file.name);
 * ```
 */
export async function rotatedFiles(path: string): Promise<RotatedFile[]> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  const names = (await readdir(dir)).filter(
    (n) => n.startsWith(prefix) && n.length > prefix.length,
  );
  const files: RotatedFile[] = [];
  for (const name of names) {
    const described = await describe(join(dir, name), name).catch(() => undefined);
    if (described !== undefined) files.push(described);
  }
  return files.sort((a, b) => a.firstSeq - b.firstSeq);
}

async function describe(path: string, name: string): Promise<RotatedFile | undefined> {
  const info = await stat(path);
  if (!info.isFile() || info.size === 0) return undefined;
  let first: string | undefined;
  for await (const line of linesForward(path, info.size)) {
    first = line;
    break;
  }
  let last: string | undefined;
  for await (const line of linesBackward(path, info.size)) {
    last = line;
    break;
  }
  if (first === undefined || last === undefined) return undefined;
  const head = entryOf(first);
  const tail = entryOf(last);
  if (head === undefined || tail === undefined || typeof tail.time !== 'string') return undefined;
  return {
    path,
    name,
    firstSeq: head.seq,
    lastSeq: tail.seq,
    lastHash: lineHash(last),
    lastTime: tail.time,
  };
}

function entryOf(line: string): { seq: number; time: unknown } | undefined {
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    return typeof entry.seq === 'number' ? { seq: entry.seq, time: entry.time } : undefined;
  } catch {
    return undefined;
  }
}
