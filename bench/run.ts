import { writeFile } from 'node:fs/promises';
import { checkGoals, renderResults, type Section } from './lib/report.js';
import { backupSuite } from './suites/backup.js';
import { envelopeSuite } from './suites/envelope.js';
import { fieldsSuite } from './suites/fields.js';
import { rewrapSuite } from './suites/rewrap.js';
import { scanSuite } from './suites/scan.js';
import { secretsSuite } from './suites/secrets.js';
import { serverSuite } from './suites/server.js';
import { tokensSuite } from './suites/tokens.js';
import { transitSuite } from './suites/transit.js';

const suites: Record<string, () => Section | Promise<Section>> = {
  backup: backupSuite,
  envelope: envelopeSuite,
  fields: fieldsSuite,
  rewrap: rewrapSuite,
  scan: scanSuite,
  secrets: secretsSuite,
  server: serverSuite,
  tokens: tokensSuite,
  transit: transitSuite,
};

// `npm run bench` runs everything and rewrites RESULTS.md; `npm run bench -- <suite>…` runs only
// those suites and prints their section instead (RESULTS.md always holds one complete run).
const only = process.argv.slice(2);
const unknown = only.filter((name) => !(name in suites));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: unknown suite ${unknown.join(', ')} (known: ${Object.keys(suites).join(', ')})\n`,
  );
  process.exit(2);
}
const startedAt = new Date();
const sections: Section[] = [];
for (const [name, suite] of Object.entries(suites)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name}…\n`);
  const section = await suite();
  sections.push(section);
  for (const table of section.tables) {
    for (const goal of checkGoals(table)) process.stderr.write(`  ${goal.line}\n`);
  }
}
const rendered = renderResults(sections, startedAt);
if (only.length > 0) {
  process.stdout.write(rendered);
} else {
  const path = new URL('./RESULTS.md', import.meta.url);
  await writeFile(path, rendered);
  process.stderr.write(`bench: wrote ${path.pathname}\n`);
}
