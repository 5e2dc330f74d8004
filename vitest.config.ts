import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Unit tests sit beside the code (`src/**/*.test.ts`); end-to-end and cross-package tests in
    // each package's `test/`.
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      // The documentation's examples, type-checked and run (docs/snippets/).
      'docs/snippets/*.test.ts',
      // The tooling that judges the mutation record (bench/mutation/).
      'bench/mutation/*.test.ts',
    ],
    // Tests import sibling packages through their built `dist` (npm test builds first).
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Test files at once. Vitest's default (one less than the cores) runs one file at a time on
    // two cores, where most files spend their time waiting on servers, databases and child
    // processes; two share the cores instead. Tests assert bounds, never times, so a file is
    // green with the other one beside it.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
