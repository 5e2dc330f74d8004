/**
 * Finds the TypeScript examples of the documentation: every ```ts or ```typescript block of
 * the READMEs and of `docs/**.md`, with where it is and whether it may run.
 *
 * A block runs unless its fence says `no-run "why"` (```ts no-run "needs a browser"): such a
 * block is still type-checked, and the reason is required.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** One TypeScript block of one document. */
export interface DocSnippet {
  /** The document, relative to the repository root (`docs/tokens.md`). */
  readonly doc: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The block's source, without the fences and without the list indentation around it. */
  readonly code: string;
  /** Why the block is type-checked only, when its fence says `no-run "…"`. */
  readonly noRun?: string;
}

const FENCE = /^( *)(`{3,}|~{3,})\s*(ts|typescript)(?:\s+(.*))?$/;

/** The TypeScript blocks of one Markdown text. */
export function extractSnippets(doc: string, markdown: string): DocSnippet[] {
  const lines = markdown.split('\n');
  const snippets: DocSnippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (!open) {
      // Skip blocks in other languages whole, so a ```ts inside one is not taken for a block.
      const other = /^ *(`{3,}|~{3,})/.exec(lines[i] ?? '');
      if (other) {
        const marker = other[1] ?? '```';
        while (++i < lines.length && !(lines[i] ?? '').trim().startsWith(marker));
      }
      continue;
    }
    const indent = open[1] ?? '';
    const marker = open[2] ?? '```';
    const info = (open[4] ?? '').trim();
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && (lines[j] ?? '').trim() !== marker; j++) {
      const text = lines[j] ?? '';
      body.push(text.startsWith(indent) ? text.slice(indent.length) : text.trimStart());
    }
    if (j >= lines.length) throw new Error(`${doc}:${i + 1}: the code block is never closed`);
    snippets.push({ doc, line: i + 1, code: body.join('\n'), ...parseInfo(doc, i + 1, info) });
    i = j;
  }
  return snippets;
}

function parseInfo(doc: string, line: number, info: string): { noRun?: string } {
  if (info === '') return {};
  const noRun = /^no-run\s+"([^"]+)"$/.exec(info);
  if (noRun?.[1]) return { noRun: noRun[1] };
  throw new Error(
    `${doc}:${line}: unknown fence options "${info}" (only no-run "reason" is understood)`,
  );
}

/** The documents whose examples are tested: every README.md and everything under docs/. */
export async function documentationFiles(root: string): Promise<string[]> {
  const found: string[] = ['README.md'];
  for (const entry of await readdir(join(root, 'packages'), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const readme = join('packages', entry.name, 'README.md');
    if (await exists(join(root, readme))) found.push(readme);
  }
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && !entry.name.startsWith('.')) await walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) found.push(path);
    }
  };
  await walk('docs');
  return found.map((f) => relative(root, join(root, f))).sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}
