import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

describe('custos server --config with a rotation section', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cli-rotation-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const config = async (rotation: unknown) => {
    const file = join(dir, `custos-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(
      file,
      JSON.stringify({ listen: '127.0.0.1:0', storage: 'data.db', logLevel: 'warn', rotation }),
    );
    return file;
  };

  it('loads the plugins it names at start: a wrong export stops the start (exit 2), naming it', async () => {
    await writeFile(join(dir, 'wrong.mjs'), 'export const rotator = { name: "wrong" };');
    const started = await custos(['server', '--config', await config({ plugins: ['wrong.mjs'] })]);
    expect(started.code).toBe(2);
    expect(started.stderr).toMatch(/rotation plugin .*wrong\.mjs.*has no function "checkSettings"/);
  });

  it('refuses a database password written in the file, without printing it', async () => {
    const planted = 'Planted-Cli-Pw-91ac';
    const started = await custos([
      'server',
      '--config',
      await config({ databases: { app: { url: 'postgres://u@db/app', password: planted } } }),
    ]);
    expect(started.code).toBe(2);
    expect(started.stderr).toMatch(/rotation\.databases\.app\.password/);
    expect(started.stderr + started.stdout).not.toContain(planted);
  });
});
