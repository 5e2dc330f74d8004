#!/usr/bin/env node
// Committed (and executable) so npm can link the bin before the build has run.
import module from 'node:module';

// V8's compile cache (Node 22.1+) spares re-parsing the CLI on every run, which the pre-commit
// check feels; Node 20 has none and runs without it.
module.enableCompileCache?.();
// `custos scan` and `custos server` run from the bundle (scripts/bundle.mjs) when one as new as
// the build is there (src/cli-bundle.ts says why these two): loading their modules one by one is
// most of the pre-commit check's start-up, and holds the server's memory higher while it runs.
const { freshBundle } = await import('../dist/cli-bundle.js');
await import(freshBundle(process.argv[2]) ?? '../dist/bin.js');
