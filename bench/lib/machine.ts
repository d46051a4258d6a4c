/**
 * The machine a figure was measured on, recorded beside every result: CPU model and cores,
 * memory, Node version, OS, the 1-minute load average when the run started (other work on a
 * shared machine skews timings), and the date. Figures from different machines do not compare.
 */
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
  /** 1-minute load average at the start of the run (0 on platforms without one). */
  readonly loadAverage1m: number;
  /** ISO date-time of the run. */
  readonly date: string;
}

export function describeMachine(now: Date = new Date()): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() || 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    date: now.toISOString(),
  };
}

export function machineLine(m: MachineInfo): string {
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}, load ${m.loadAverage1m} at start, ${m.date}`;
}
