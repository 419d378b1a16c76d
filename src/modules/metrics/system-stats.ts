import { loadavg } from 'node:os';

export interface SystemStats {
  memory: { rssMB: number; heapUsedMB: number; heapTotalMB: number; externalMB: number };
  cpu: { usagePercent: number; loadAverage: number[] };
  uptimeSeconds: number;
}

const MB = 1024 * 1024;

/**
 * Process memory, CPU and uptime. CPU usage is the share of one core this process used since the
 * previous reading (or since start on the first), so a dashboard polling it sees recent load.
 */
export class SystemSampler {
  private last = { at: performance.now(), usage: process.cpuUsage() };
  private readonly startedAt = performance.now();
  private readonly startUsage = process.cpuUsage();

  read(): SystemStats {
    const now = performance.now();
    const usage = process.cpuUsage();
    // Below a second the ratio is noise; measure over the whole life instead.
    const recent = now - this.last.at >= 1000;
    const base = recent ? this.last : { at: this.startedAt, usage: this.startUsage };
    const cpuMicros = usage.user - base.usage.user + (usage.system - base.usage.system);
    const wallMicros = Math.max(1, (now - base.at) * 1000);
    if (recent) this.last = { at: now, usage };
    const mem = process.memoryUsage();
    return {
      memory: {
        rssMB: round(mem.rss / MB),
        heapUsedMB: round(mem.heapUsed / MB),
        heapTotalMB: round(mem.heapTotal / MB),
        externalMB: round(mem.external / MB),
      },
      cpu: {
        usagePercent: round((cpuMicros / wallMicros) * 100),
        loadAverage: loadavg().map((n) => round(n)),
      },
      uptimeSeconds: Math.round(process.uptime()),
    };
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
