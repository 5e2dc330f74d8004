import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/**
 * The test settings under mutation testing: the project's, with more time per test and hook.
 * Stryker instruments every file for coverage and shares two cores with its checker, so a test
 * that takes seconds alone can pass the project's 20 s limit in the initial run and abort it.
 */
export default mergeConfig(
  base,
  defineConfig({
    root: fileURLToPath(new URL('../../', import.meta.url)),
    test: { testTimeout: 90_000, hookTimeout: 120_000 },
  }),
);
