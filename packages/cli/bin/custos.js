#!/usr/bin/env node
// Committed (and executable) so npm can link the bin before the build has run.
import module from 'node:module';

// V8's compile cache (Node 22.1+) spares re-parsing the CLI on every run, which the pre-commit
// check feels; Node 20 has none and runs without it.
module.enableCompileCache?.();
await import('../dist/bin.js');
