#!/usr/bin/env node
// Committed (and executable) so npm can link the bin before the build has run.
import '../dist/bin.js';
