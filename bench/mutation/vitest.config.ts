import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/** A module measured by the tests under one directory (bench/mutation/modules.ts, testDir). */
const testDir = process.env.CUSTOS_MUTATION_TEST_DIR;

/**
 * The test settings under mutation testing: the project's, with more time per test and hook.
 * Stryker instruments every file for coverage and shares two cores with its checker, so a test
 * that takes seconds alone can pass the project's 20 s limit in the initial run and abort it.
 */
export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('../../', import.meta.url)),
  test: {
    ...base.test,
    testTimeout: 90_000,
    hookTimeout: 120_000,
    ...(testDir === undefined ? {} : { include: [`${testDir}/**/*.test.ts`] }),
    // Test files share loaded modules: only when static mutants are skipped (see modules.ts).
    ...(process.env.CUSTOS_MUTATION_SHARED_MODULES === '1' ? { isolate: false } : {}),
  },
});
