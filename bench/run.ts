import { writeFile } from 'node:fs/promises';
import { checkGoals, renderResults, type Section } from './lib/report.js';
import { envelopeSuite } from './suites/envelope.js';

const suites: Record<string, () => Section | Promise<Section>> = {
  envelope: envelopeSuite,
};

const startedAt = new Date();
const sections: Section[] = [];
for (const [name, suite] of Object.entries(suites)) {
  process.stderr.write(`bench: ${name}…\n`);
  const section = await suite();
  sections.push(section);
  for (const table of section.tables) {
    for (const goal of checkGoals(table)) process.stderr.write(`  ${goal.line}\n`);
  }
}
const path = new URL('./RESULTS.md', import.meta.url);
await writeFile(path, renderResults(sections, startedAt));
process.stderr.write(`bench: wrote ${path.pathname}\n`);
