import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
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
