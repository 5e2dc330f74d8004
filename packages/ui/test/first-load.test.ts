import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
/** The first load's budget: index.html and the scripts and styles it names, gzipped. */
const BUDGET_BYTES = 300 * 1024;

const build = async () => {
  const html = await readFile(`${DIST}index.html`, 'utf8').catch(() => {
    throw new Error('the dashboard is not built: run `npm run build -w @custos/ui` first');
  });
  return html;
};

describe('the dashboard build', () => {
  it(`loads in under ${BUDGET_BYTES / 1024} KB compressed`, async () => {
    const html = await build();
    const referenced = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="\/ui\/([^"]+)"/g)]
      .map((m) => m[1] as string)
      .filter((path) => /\.(js|css)$/.test(path));
    expect(referenced.some((path) => path.endsWith('.js'))).toBe(true);
    expect(referenced.some((path) => path.endsWith('.css'))).toBe(true);
    let total = gzipSync(html, { level: 9 }).length;
    for (const path of referenced)
      total += gzipSync(await readFile(`${DIST}${path}`), { level: 9 }).length;
    console.warn(`dashboard first load: ${(total / 1024).toFixed(1)} KB gzipped`);
    expect(total).toBeLessThan(BUDGET_BYTES);
  });

  it('index.html has no inline script or style, and names only its own files', async () => {
    const html = await build();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/ui\/assets\/[^"]+\.js"/);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=|javascript:/i);
    // Nothing from another origin.
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//i);
  });
});
