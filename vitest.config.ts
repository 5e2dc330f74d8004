import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: { '#test-support': fileURLToPath(new URL('./test/support', import.meta.url)) },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // Tests import sibling packages through their built `dist` (npm test builds first).
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
