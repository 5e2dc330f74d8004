import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/**
 * A module measured by the tests under some directories (bench/mutation/modules.ts, testDir),
 * comma-separated.
 */
const testDirs = process.env.CUSTOS_MUTATION_TEST_DIR?.split(',');

/**
 * Tests that cannot run under Stryker. Its vitest runner runs every test file in a worker thread,
 * whose `process.env` is a copy the process environment never sees: a test that points a native
 * library at its own configuration through the environment (SoftHSM2's `SOFTHSM2_CONF`) leaves
 * the library reading the run's setting, where the test's token does not exist. This one
 * measures the PKCS#11 KMS, not a module under mutation. (The seal's SoftHSM2 tests run: they
 * make their tokens in the directory bench/mutation/run.ts names, packages/server/test/softhsm.ts.)
 * `npm test` runs them all.
 */
const NOT_UNDER_STRYKER = ['packages/core/src/kms/pkcs11/pkcs11-kms.test.ts'];

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Whether the run shares loaded modules between test files (see modules.ts, ignoreStatic). */
const shared = process.env.CUSTOS_MUTATION_SHARED_MODULES === '1';

/**
 * The test files under `dirs` that replace a module (`vi.mock`): a mock takes effect only in a
 * module registry of the file's own, so these run isolated even when the others share modules.
 */
function filesMockingModules(dirs: readonly string[]): string[] {
  return dirs.flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.test.ts'))
      .map((file) => `${dir}/${file}`)
      .filter((file) => readFileSync(join(root, file), 'utf8').includes('vi.mock(')),
  );
}

const mocking = shared && testDirs !== undefined ? filesMockingModules(testDirs) : [];

/**
 * The test settings under mutation testing: the project's, with more time per test and hook.
 * Stryker instruments every file for coverage and shares two cores with its checker, so a test
 * that takes seconds alone can pass the project's 20 s limit in the initial run and abort it.
 */
const include =
  testDirs?.map((dir) => `${dir}/**/*.test.ts`) ?? base.test?.include ?? configDefaults.include;
const exclude = [...(base.test?.exclude ?? configDefaults.exclude), ...NOT_UNDER_STRYKER];
const settings = { ...base.test, testTimeout: 90_000, hookTimeout: 120_000 };

export default defineConfig({
  ...base,
  root,
  test:
    mocking.length === 0
      ? // Test files share loaded modules only when static mutants are skipped (see modules.ts).
        { ...settings, include, exclude, ...(shared ? { isolate: false } : {}) }
      : {
          ...settings,
          // Shared modules, but the files that mock a module run isolated beside the others.
          // (Projects that extended this configuration would add to its include, not narrow it.)
          include: [],
          projects: [
            {
              test: {
                ...settings,
                name: 'shared',
                include,
                exclude: [...exclude, ...mocking],
                isolate: false,
              },
            },
            { test: { ...settings, name: 'isolated', include: mocking, exclude, isolate: true } },
          ],
        },
});
