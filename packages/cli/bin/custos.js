#!/usr/bin/env node
// Committed (and executable) so npm can link the bin before the build has run.
import module from 'node:module';

// V8's compile cache (Node 22.1+) spares re-parsing the CLI on every run, which the pre-commit
// check feels; Node 20 has none and runs without it.
module.enableCompileCache?.();
// `custos scan` runs from one bundled file (scripts/bundle.mjs) when one as new as the build is
// there: loading some 80 modules one by one is most of the pre-commit check's start-up.
const bundle =
  process.argv[2] === 'scan'
    ? (await import('../dist/scan-bundle.js')).freshScanBundle()
    : undefined;
await import(bundle ?? '../dist/bin.js');
