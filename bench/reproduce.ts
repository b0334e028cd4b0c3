/**
 * The command that reproduces a bench run: the BENCH_* (and the few other tuning) variables set
 * in this run, then the npm script with its arguments. Each bench prints it before its last line.
 */
const TUNING = /^(BENCH_|USAGE_DISPATCH$|USAGE_SIGNALS_PER_SECOND$)/;

export function reproduce(): string {
  const script = /bench\/(\w+)\.ts$/.exec(process.argv[1] ?? '')?.[1] ?? 'api';
  const vars = Object.entries(process.env)
    .filter(([k]) => TUNING.test(k))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  const args = process.argv.slice(2);
  return [...vars, `npm run bench:${script}`, ...(args.length ? ['--', ...args] : [])].join(' ');
}
