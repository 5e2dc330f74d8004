/**
 * Every TypeScript example of the documentation is a test: each ```ts block of the READMEs and
 * of docs/ is type-checked as an application would compile it (`strict`, `module` and
 * `moduleResolution` `nodenext`), in one `tsc` run, and then run with `tsx` against real
 * services (PostgreSQL, Redis, an in-process custos server, real HTTP servers), through its
 * document's context module (`contexts/`, see `assemble.ts`). A block marked
 * ```ts no-run "reason" is type-checked only.
 *
 * PostgreSQL and Redis: a document whose context needs one is skipped locally when it is down,
 * and fails under CI (`@custos/test-support/services`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  dropPostgresSchema,
  REDIS_URL,
  requireService,
  uniqueName,
} from '@custos/test-support/services';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleSnippet, contextExports, contextNameOf } from './assemble.js';
import { type DocSnippet, documentationFiles, extractSnippets } from './extract.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));
const generated = join(here, '.generated');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');

/** The services each document's context uses (the others need none). */
const NEEDS: Record<string, readonly ('postgres' | 'redis')[]> = {
  tokens: ['redis'],
  'field-encryption': ['postgres'],
  transport: ['redis'],
  webhooks: ['redis'],
  'recipes/express': ['redis'],
  'recipes/fastify': ['redis'],
  'recipes/nextjs': ['redis'],
  'recipes/nestjs': ['redis'],
};

/**
 * Documents whose examples are type-checked as the framework's own projects compile them
 * (`moduleResolution: bundler`, as create-next-app writes it), not with Node's resolution.
 */
const BUNDLER_DOCS = new Set(['docs/recipes/nextjs.md']);

/** How long one snippet may run before it counts as hanging. */
const RUN_TIMEOUT_MS = 120_000;

interface Prepared extends DocSnippet {
  readonly id: string;
  readonly file: string;
  readonly context: string;
}

const snippets: Prepared[] = [];
for (const doc of await documentationFiles(root)) {
  const markdown = await readFile(join(root, doc), 'utf8');
  for (const snippet of extractSnippets(doc, markdown)) {
    const context = contextNameOf(doc);
    const id = `${doc.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-')}-L${snippet.line}`;
    snippets.push({ ...snippet, id, file: join(generated, `${id}.ts`), context });
  }
}

async function writeGenerated(): Promise<void> {
  await rm(generated, { recursive: true, force: true });
  await mkdir(generated, { recursive: true });
  for (const s of snippets) {
    const contextFile = join(here, 'contexts', `${s.context}.ts`);
    const context = existsSync(contextFile)
      ? {
          importPath: `../contexts/${s.context}.js`,
          exports: contextExports(await readFile(contextFile, 'utf8')),
        }
      : undefined;
    await writeFile(s.file, assembleSnippet(s.code, context));
  }
  // What an application compiles with: strict, Node's own module resolution. Decorators as
  // NestJS needs them (they change nothing for the other snippets).
  const compilerOptions = {
    target: 'ES2023',
    lib: ['ES2023', 'DOM', 'DOM.Iterable'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    types: ['node'],
    skipLibCheck: true,
    noEmit: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
  };
  const bundled = snippets.filter((s) => BUNDLER_DOCS.has(s.doc)).map((s) => basename(s.file));
  const tsconfig = { compilerOptions, include: ['*.ts'], exclude: bundled };
  await writeFile(join(generated, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  // A Next.js app compiles as create-next-app sets it up: the bundler's module resolution.
  const nextConfig = {
    compilerOptions: { ...compilerOptions, module: 'esnext', moduleResolution: 'bundler' },
    files: bundled,
  };
  await writeFile(join(generated, 'tsconfig.bundler.json'), JSON.stringify(nextConfig, null, 2));
}

/** tsc's diagnostics, by file (absolute path): both projects, side by side. */
async function typeCheck(): Promise<Map<string, string[]>> {
  const project = async (name: string) => {
    try {
      await run(process.execPath, [tsc, '-p', join(generated, name), '--pretty', 'false'], {
        cwd: root,
        maxBuffer: 16 * 1024 * 1024,
      });
      return '';
    } catch (error) {
      return String((error as { stdout?: string }).stdout ?? error);
    }
  };
  const output = (
    await Promise.all([project('tsconfig.json'), project('tsconfig.bundler.json')])
  ).join('\n');
  const byFile = new Map<string, string[]>();
  let last = '';
  for (const line of output.split('\n')) {
    const match = /^(.+?)\(\d+,\d+\): error /.exec(line);
    if (match?.[1]) last = join(root, match[1]);
    if (line.trim() === '') continue;
    byFile.set(last, [...(byFile.get(last) ?? []), line]);
  }
  return byFile;
}

interface RunResult {
  readonly ok: boolean;
  readonly output: string;
  /** Wall time of the run, reported when CUSTOS_DOCS_TIMINGS=1 (never asserted). */
  readonly ms: number;
}

async function runSnippet(s: Prepared, env: NodeJS.ProcessEnv): Promise<RunResult> {
  const started = performance.now();
  const cwd = await mkdtemp(join(tmpdir(), 'custos-doc-snippet-'));
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [tsx, '--tsconfig', join(generated, 'tsconfig.json'), s.file],
      { cwd, env, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
    );
    return { ok: true, output: `${stdout}${stderr}`, ms: performance.now() - started };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; killed?: boolean; code?: unknown };
    const why = e.killed ? `killed after ${RUN_TIMEOUT_MS} ms (hangs)` : `exit ${String(e.code)}`;
    return {
      ok: false,
      output: `${why}\n${e.stdout ?? ''}${e.stderr ?? ''}`,
      ms: performance.now() - started,
    };
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

/** Runs `tasks` two at a time (the machine has two cores). */
async function pool<T>(tasks: readonly (() => Promise<T>)[], width = 2): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < tasks.length; i = next++)
      results[i] = await (tasks[i] as () => Promise<T>)();
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

describe('documentation examples', () => {
  let diagnostics = new Map<string, string[]>();
  const results = new Map<string, RunResult>();
  const skipped = new Set<string>();
  const schema = uniqueName('docs');
  const redisPrefix = `${uniqueName('docs')}:`;
  const runSchemas: string[] = [];

  beforeAll(async () => {
    const available = {
      postgres: await requireService('postgres'),
      redis: await requireService('redis'),
    };
    await writeGenerated();
    diagnostics = await typeCheck();
    const env = {
      ...process.env,
      CUSTOS_DOCS_REDIS_PREFIX: redisPrefix,
      NODE_ENV: 'development',
      NODE_OPTIONS: '',
    };
    const runnable = snippets.filter((s) => {
      if (s.noRun) return false;
      const missing = (NEEDS[s.context] ?? []).some((service) => !available[service]);
      if (missing) skipped.add(s.id);
      return !missing;
    });
    // Each run gets a PostgreSQL schema of its own (runs go two at a time).
    const outcomes = await pool(
      runnable.map(
        (s, i) => () =>
          runSnippet(s, {
            ...env,
            CUSTOS_DOCS_PG_SCHEMA: `${schema}_${i}`,
            CUSTOS_DOCS_SNIPPET_CODE: s.code,
          }),
      ),
    );
    runSchemas.push(...runnable.map((_, i) => `${schema}_${i}`));
    runnable.forEach((s, i) => {
      results.set(s.id, outcomes[i] as RunResult);
    });
    if (process.env.CUSTOS_DOCS_TIMINGS === '1')
      for (const [id, r] of results) console.warn(`${Math.round(r.ms)} ms ${id}`);
  }, 600_000);

  afterAll(async () => {
    for (const name of runSchemas) await dropPostgresSchema(name).catch(() => undefined);
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const keys = await redis.keys(`${redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    } catch {
      // Redis is down: nothing was written there.
    } finally {
      redis.disconnect();
    }
  }, 120_000);

  it('finds the examples of every guide (the extractor is not silently blind)', () => {
    const docs = new Set(snippets.map((s) => s.doc));
    for (const doc of [
      'docs/field-encryption.md',
      'docs/passwords-and-api-keys.md',
      'docs/secrets.md',
      'docs/tokens.md',
      'docs/transit.md',
      'docs/scanning.md',
      'docs/backups.md',
      'docs/transport.md',
      'docs/webhooks.md',
      'docs/aws.md',
    ])
      expect(docs, doc).toContain(doc);
    expect(snippets.length).toBeGreaterThan(25);
  });

  it('type-checks the context modules and the support they use', () => {
    const outside = [...diagnostics].filter(([file]) => !snippets.some((s) => s.file === file));
    expect(outside.flatMap(([, lines]) => lines)).toEqual([]);
  });

  for (const s of snippets) {
    const where = `${s.doc}:${s.line}`;
    it(`${where} type-checks`, () => {
      expect(diagnostics.get(s.file) ?? [], where).toEqual([]);
    });
    if (s.noRun) continue;
    it(`${where} runs`, (ctx) => {
      if (skipped.has(s.id)) ctx.skip();
      const result = results.get(s.id);
      expect(result?.ok, `${where}: ${result?.output}`).toBe(true);
    });
  }
});
