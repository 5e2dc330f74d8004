import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { defaultRules } from './catalog.js';

const doc = readFile(new URL('../../../../docs/scanning.md', import.meta.url), 'utf8');

/** The rows of the rules table in docs/scanning.md: ids → the rest of the row. */
async function ruleRows(): Promise<Map<string, string>> {
  const text = await doc;
  const start = text.indexOf('## Rules and their sources');
  const table = text.slice(start, text.indexOf('\n## ', start + 1));
  const rows = new Map<string, string>();
  for (const line of table.split('\n')) {
    if (!line.startsWith('| `')) continue;
    for (const [, id] of line.matchAll(/`([a-z0-9-]+)`/g)) rows.set(id as string, line);
  }
  return rows;
}

describe('docs/scanning.md', () => {
  it('lists every rule and variant with its description, confidence and source', async () => {
    const rows = await ruleRows();
    for (const rule of defaultRules) {
      for (const id of [rule.id, ...(rule.variants ?? [])]) {
        const row = rows.get(id);
        expect(row, `${id} is missing from the rules table`).toBeDefined();
        expect(row).toContain(rule.description);
        expect(row).toContain(` ${rule.confidence} `);
        expect(row).toContain(rule.source);
      }
    }
    const known = new Set(defaultRules.flatMap((rule) => [rule.id, ...(rule.variants ?? [])]));
    expect([...rows.keys()].filter((id) => !known.has(id))).toEqual(['pkcs12-file']);
  });
});
