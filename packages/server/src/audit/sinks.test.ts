import { execFileSync } from 'node:child_process';
import { mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileSink, linesBackward } from './sinks.js';

describe('file sink read back', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-sink-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const collect = async (lines: AsyncIterable<string> | undefined) => {
    const out: string[] = [];
    for await (const line of lines ?? []) out.push(line);
    return out;
  };

  it('reads complete lines back from the end, across chunk borders, skipping a torn last line', async () => {
    const path = join(dir, 'lines.log');
    const lines = Array.from(
      { length: 500 },
      (_, i) => `{"seq":${i + 1},"pad":"${'é'.repeat(i % 37)}"}`,
    );
    const text = `${lines.join('\n')}\n{"seq":501,"torn`;
    await writeFile(path, text);
    const size = Buffer.byteLength(text);
    for (const chunk of [3, 7, 64, 4096, 1 << 20]) {
      expect(await collect(linesBackward(path, size, chunk))).toEqual([...lines].reverse());
    }
    const history = await createFileSink('file', path).history?.();
    expect(history).toMatchObject({ kind: 'regular', size });
    expect(await history?.first()).toBe(lines[0]);
    expect((await collect(history?.backward())).length).toBe(500);
  });

  it('a file without any newline holds no complete line; a missing file is absent', async () => {
    const path = join(dir, 'torn.log');
    await writeFile(path, '{"seq":1');
    const torn = await createFileSink('file', path).history?.();
    expect(await collect(torn?.backward())).toEqual([]);
    expect(await torn?.first()).toBeUndefined();
    const absent = await createFileSink('file', join(dir, 'none.log')).history?.();
    expect(absent).toMatchObject({ kind: 'absent', size: 0 });
    const device = await createFileSink('file', '/dev/null').history?.();
    expect(device).toMatchObject({ kind: 'special', size: 0 });
  });

  it('says when the next write starts a new file: an empty one, or one reopened after it was moved', async () => {
    const path = join(dir, 'rotating.log');
    const sink = createFileSink('file', path);
    expect(await sink.startsFile?.()).toBe(true);
    await sink.write('{"seq":1}');
    expect(await sink.startsFile?.()).toBe(false);
    await sink.reopen?.(); // SIGHUP, file not moved
    expect(await sink.startsFile?.()).toBe(false);
    await rename(path, `${path}.1`);
    await sink.reopen?.(); // SIGHUP after logrotate moved it
    expect(await sink.startsFile?.()).toBe(true);
    await sink.close();
  });
});

describe('file sink writes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-sink-write-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends every byte of each write to a regular file, multi-byte text and large batches included', async () => {
    const path = join(dir, 'audit.log');
    const sink = createFileSink('file', path, { maxBytes: 10 * 1024 * 1024 });
    const batch = Array.from({ length: 300 }, (_, i) => `{"seq":${i},"v":"${'ü€'.repeat(900)}"}`);
    await sink.write('{"seq":-1}');
    await sink.write(batch.join('\n'));
    await sink.close();
    const expected = `{"seq":-1}\n${batch.join('\n')}\n`;
    expect(await readFile(path, 'utf8')).toBe(expected);
    // The size it counts towards rotation is the bytes written, not the characters.
    const reopened = createFileSink('file', path, { maxBytes: Buffer.byteLength(expected) + 1 });
    expect(await reopened.rotationDue?.()).toBe(false);
    await reopened.write('x');
    expect(await reopened.rotationDue?.()).toBe(true);
    await reopened.close();
  });

  it('never blocks the event loop on a FIFO whose reader is not reading', async () => {
    const fifo = join(dir, 'audit.fifo');
    execFileSync('mkfifo', [fifo]);
    // Each side's open waits for the other (in the thread pool).
    const opening = open(fifo, 'r');
    const sink = createFileSink('pipe', fifo);
    // Far more than a pipe holds: the write waits for the reader.
    const line = `{"seq":1,"pad":"${'x'.repeat(1024 * 1024)}"}`;
    let written = false;
    const writing = sink.write(line).then(() => {
      written = true;
    });
    const reader = await opening;
    try {
      // The event loop still turns while the write waits (a blocking write would hang here).
      await new Promise((resolve) => setImmediate(resolve));
      expect(written).toBe(false);
      let received = 0;
      const chunk = Buffer.alloc(64 * 1024);
      while (received < line.length + 1) {
        const { bytesRead } = await reader.read(chunk, 0, chunk.length);
        if (bytesRead === 0) break;
        received += bytesRead;
      }
      await writing;
      expect(received).toBe(line.length + 1);
      await sink.close();
    } finally {
      await reader.close();
    }
  });
});
