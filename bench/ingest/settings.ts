/** The ingest bench's settings, read from the environment once (see bench/ingest.ts). */
export const SUBS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 1000);
export const PER_SUB = Number(process.env.BENCH_EVENTS_PER_SUB ?? 300);
export const POSTERS = Number(process.env.BENCH_POSTERS ?? 6);
export const BATCH = 500;
export const FSYNC = (process.env.BENCH_FSYNC ?? 'on') !== 'off';
export const REFLECT_TIMEOUT_MS = 300_000;
/** Every n-th subscription is polled while posting, for the latency figure. */
export const SAMPLE_EVERY = Number(process.env.BENCH_SAMPLE_EVERY ?? 25);
export const SAMPLE_POLL_MS = 500;
export const OTHERS_POLL_MS = 2_000;
/** Effect subscriptions per paced run (each crosses its 90% warning, then spends its minutes). */
export const EFFECT_SUBS = Number(process.env.BENCH_EFFECT_SUBS ?? 20);
/** Length of each paced run (0: no paced runs). */
export const PACED_SECONDS = Number(process.env.BENCH_PACED_SECONDS ?? 20);

/** A progress line of the bench. */
export const say = (msg: string) => console.log(`[bench] ${msg}`);
