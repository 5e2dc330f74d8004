import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { gitIn } from '../../test/git-repo.js';
import { openObjectReader, readObjects } from './cat-file.js';

const hasGit = requireTool('git');

/** Each content read equals the one expected at its place (null: reported missing). */
function expectObjects(read: ReadonlyArray<Buffer | null>, expected: ReadonlyArray<Buffer | null>) {
  expect(read.length).toBe(expected.length);
  read.forEach((content, i) => {
    const want = expected[i] ?? null;
    if (want === null) expect(content).toBeNull();
    else expect(content?.equals(want), `object ${i} (${want.length} bytes)`).toBe(true);
  });
}

// Objects come out of `git cat-file --batch` in pipe-sized chunks: an object's header and
// body split anywhere, several objects in one chunk, a large body over many chunks (joined
// once it is whole: joining at every chunk copied a 20 MB blob over and over, some 20 s).
describe.runIf(hasGit)('reading objects from git cat-file', () => {
  let repo: string;
  const sizes = [0, 1, 65_535, 65_536, 65_537, 10, 3 * 1024 * 1024 + 7, 2, 200_000];
  const contents = sizes.map((size) => randomBytes(size));
  let ids: string[];
  const missing = 'f'.repeat(40);

  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), 'custos-cat-file-'));
    gitIn(repo, ['init', '-q']);
    ids = [];
    for (const [i, content] of contents.entries()) {
      const file = join(repo, `object-${i}`);
      await writeFile(file, content);
      ids.push(gitIn(repo, ['hash-object', '-w', file]).trim());
    }
  });
  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('gives every object whole, in order, missing ones as null', async () => {
    const requests = [...ids.slice(0, 4), missing, ...ids.slice(4), ids[6] as string];
    const read: Array<Buffer | null> = [];
    await readObjects(requests, repo, ({ content }) => read.push(content));
    expectObjects(read, [
      ...contents.slice(0, 4),
      null,
      ...contents.slice(4),
      contents[6] as Buffer,
    ]);
  });

  it('copies a large object about once, not once per chunk it came in', async () => {
    const large = contents[6] as Buffer;
    const concat = vi.spyOn(Buffer, 'concat');
    try {
      await readObjects([ids[6] as string], repo, () => {});
      const copied = concat.mock.calls.reduce(
        (sum, [list]) => sum + list.reduce((bytes, part) => bytes + part.length, 0),
        0,
      );
      // Joining at every chunk copied some 24 times its size here (3 MB in 64 KiB chunks).
      expect(copied).toBeLessThanOrEqual(large.length + 4096);
    } finally {
      concat.mockRestore();
    }
  });

  it('gives the same through a reader with several reads under way', async () => {
    const reader = openObjectReader(repo);
    const [first, second] = await Promise.all([
      reader.read(ids.slice(0, 5)),
      reader.read([missing, ...ids.slice(5)]),
    ]);
    await reader.close();
    expectObjects(
      [...first, ...second].map((object) => object.content),
      [...contents.slice(0, 5), null, ...contents.slice(5)],
    );
  });
});
