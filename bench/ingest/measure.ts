/** The ingest bench's measurements: percentiles and CPU seconds per process tree. */
import { readdirSync, readFileSync } from 'node:fs';

/** The `p`-th percentile of ascending `sorted` (NaN when empty). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** CPU seconds (user + system) of each process tree we started, and of the whole machine. */
export function cpuSnapshot(roots: Record<string, number>): Record<string, number> {
  const ticks = 100; // USER_HZ on Linux
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const info = new Map<number, { ppid: number; cpu: number }>();
  for (const pid of procs) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      info.set(Number(pid), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / ticks });
    } catch {
      // gone meanwhile
    }
  }
  const rootOf = (pid: number): string | null => {
    for (let p = pid, hops = 0; p > 1 && hops < 10; p = info.get(p)?.ppid ?? 0, hops++)
      for (const [name, root] of Object.entries(roots)) if (root === p) return name;
    return null;
  };
  const out: Record<string, number> = {};
  for (const [pid, { cpu }] of info) {
    const name = rootOf(pid);
    if (name) out[name] = (out[name] ?? 0) + cpu;
  }
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  out.machine = (user! + nice! + system! + irq! + softirq! + steal!) / ticks;
  return out;
}
