import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { CustosError } from '@custos/core/errors';

const run = promisify(execFile);

/** Where Chromium is looked for: `CUSTOS_CHROMIUM`, then Debian's and the usual places. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

async function chromium(): Promise<string | undefined> {
  const named = process.env.CUSTOS_CHROMIUM;
  for (const path of named ? [named] : CANDIDATES) {
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  return undefined;
}

/**
 * Prints `html` to the PDF file `out` with headless Chromium (no network, a profile of its
 * own that is removed afterwards). Without Chromium: `ERR_INVALID_ARGUMENT`, saying what to
 * install.
 *
 * @example
 * ```ts
 * await printPdf(renderHtml(report), 'report.pdf');
 * ```
 */
export async function printPdf(html: string, out: string): Promise<void> {
  const browser = await chromium();
  if (browser === undefined) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      '--format pdf prints through headless Chromium, which is not installed: install it (Debian: apt-get install chromium) or set CUSTOS_CHROMIUM, or use --format html',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'custos-report-'));
  try {
    const page = join(dir, 'report.html');
    await writeFile(page, html, { mode: 0o600 });
    await run(
      browser,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        `--user-data-dir=${join(dir, 'profile')}`,
        '--no-pdf-header-footer',
        `--print-to-pdf=${out}`,
        pathToFileURL(page).href,
      ],
      { timeout: 60_000 },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
