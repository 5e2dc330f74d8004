// The scan entry of the CLI's bundle (scripts/bundle.mjs): `custos scan …` without the rest of
// the command tree. bin/custos.js runs it when the bundle is as new as the build; bin.ts else.
import { endQuietlyWhenOutputCloses } from './output.js';
import { scanMain } from './scan-main.js';
import { normaliseVaultFlags } from './vault/argv.js';

endQuietlyWhenOutputCloses();
process.exitCode = await scanMain(normaliseVaultFlags(process.argv.slice(2)));
