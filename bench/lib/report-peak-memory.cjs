// Preloaded (`node --require`) into a benchmarked child process: at exit it writes its peak
// resident set size (getrusage ru_maxrss, the kernel's high-water mark, as VmHWM) to standard
// error, so the parent reads the true peak instead of sampling VmRSS and missing short spikes.
const { writeSync } = require('node:fs');

process.on('exit', () => {
  writeSync(2, `\ncustos-bench-peak-rss-kib: ${process.resourceUsage().maxRSS}\n`);
});
