import { main } from './main.js';
import { endQuietlyWhenOutputCloses } from './output.js';

endQuietlyWhenOutputCloses();
process.exitCode = await main(process.argv.slice(2));
