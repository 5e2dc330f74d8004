import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

const repositoryRoot = fileURLToPath(new URL('../../../../../', import.meta.url));

// The project scans itself: what it reports is either fixed or allowlisted, one fingerprint at a
// time, in .custos-scan.json.
describe('custos scan on this repository', () => {
  it('finds nothing that is not allowlisted', async () => {
    const result = await custos(['scan', '.', '--format', 'json'], { cwd: repositoryRoot });
    expect(JSON.parse(result.stdout)).toEqual({ findings: [] });
    expect(result.code).toBe(0);
  });
});
