import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
/** The built module (a fresh process: what one load of pg does to it is the point). */
const loader = fileURLToPath(new URL('../../dist/database/load-pg.js', import.meta.url));

/** What a fresh Node process holds after loadPg(), as JSON. */
async function afterLoading(): Promise<{
  undici: boolean;
  navigatorBefore: boolean;
  navigatorAfter: boolean;
  pool: string;
  same: boolean;
}> {
  const script = `
    const navigatorBefore = Object.hasOwn(globalThis, 'navigator');
    const { loadPg } = await import(${JSON.stringify(loader)});
    const pg = loadPg();
    console.log(JSON.stringify({
      undici: process.moduleLoadList.some((name) => name.includes('undici')),
      navigatorBefore,
      navigatorAfter: Object.hasOwn(globalThis, 'navigator'),
      pool: typeof pg.Pool,
      same: loadPg() === pg,
    }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout);
}

describe('loadPg', () => {
  it('loads pg without Node’s fetch implementation, and leaves the globals as they were', async () => {
    const after = await afterLoading();
    expect(after).toEqual({
      undici: false,
      navigatorBefore: after.navigatorBefore,
      navigatorAfter: after.navigatorBefore,
      pool: 'function',
      same: true,
    });
  });
});
