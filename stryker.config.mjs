// StrykerJS settings shared by every module of `npm run mutation` (bench/mutation/run.ts sets
// `mutate`, the vitest directory and the report files per module).
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'bench/mutation/vitest.config.ts', related: true },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.check.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  incremental: true,
  concurrency: 2,
  timeoutMS: 30_000,
  // The initial run is the whole related suite with coverage: minutes on two shared cores.
  dryRunTimeoutMinutes: 45,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  reporters: ['clear-text', 'progress'],
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  // docs/ stays in the sandbox: some tests read the API reference (docs/server-api.md).
  ignorePatterns: ['bench/RESULTS.md', 'bench/MUTATION.md', 'bench/mutation/*.json'],
};
