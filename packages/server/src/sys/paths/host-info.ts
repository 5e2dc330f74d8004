import { statfs } from 'node:fs/promises';
import * as os from 'node:os';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';

/** The volume whose usage is reported (Vault reports the partitions it sees). */
const DISK_PATH = '/';

/** Per-CPU information, in the keys Vault's `sys/host-info` uses (gopsutil's). */
function cpuInfo() {
  return os.cpus().map((cpu, index) => ({
    cpu: index,
    modelName: cpu.model,
    mhz: cpu.speed,
    cores: 1,
  }));
}

/** Per-CPU times in seconds (Node counts milliseconds). */
function cpuTimes() {
  return os.cpus().map((cpu, index) => ({
    cpu: `cpu${index}`,
    user: cpu.times.user / 1000,
    system: cpu.times.sys / 1000,
    idle: cpu.times.idle / 1000,
    nice: cpu.times.nice / 1000,
    irq: cpu.times.irq / 1000,
  }));
}

async function diskInfo() {
  const fs = await statfs(DISK_PATH);
  const total = fs.blocks * fs.bsize;
  const free = fs.bavail * fs.bsize;
  const used = total - fs.bfree * fs.bsize;
  return [
    {
      path: DISK_PATH,
      total,
      free,
      used,
      usedPercent: total === 0 ? 0 : (used / total) * 100,
      inodesTotal: fs.files,
      inodesFree: fs.ffree,
      inodesUsed: fs.files - fs.ffree,
    },
  ];
}

function hostInfo() {
  const uptime = Math.floor(os.uptime());
  return {
    hostname: os.hostname(),
    uptime,
    bootTime: Math.floor(Date.now() / 1000) - uptime,
    os: os.platform(),
    platform: os.platform(),
    kernelVersion: os.release(),
    kernelArch: os.arch(),
  };
}

function memoryInfo() {
  const total = os.totalmem();
  const free = os.freemem();
  return {
    total,
    available: free,
    free,
    used: total - free,
    usedPercent: total === 0 ? 0 : ((total - free) / total) * 100,
  };
}

/**
 * `sys/host-info` (sudo, as in Vault): the host's CPUs, CPU times, disk, host and memory, in
 * the keys of Vault's answer (a subset of each: what Node reports).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [hostInfoPaths()]);
 * ```
 */
export function hostInfoPaths(): RouteGroup {
  return {
    name: 'sys/host-info',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/host-info',
        access: { sudo: true },
        handler: async (request, reply) =>
          ok(request, reply, {
            cpu: cpuInfo(),
            cpu_times: cpuTimes(),
            disk: await diskInfo(),
            host: hostInfo(),
            memory: memoryInfo(),
            timestamp: new Date().toISOString(),
          }),
      }),
    ],
  };
}
