/**
 * Restart-on-death for what `npm start` runs itself (the Temporal dev server, embedded Postgres):
 * when the process ends on its own it is started again from its data on disk, after a backoff
 * that grows with each death; only repeated deaths within a short window give up, saying why.
 * Pure of process details: the caller says how to start, how to notice an exit and how to stop.
 */

export interface SuperviseOptions<H> {
  /** For the log: "the Temporal dev server", "Postgres". */
  name: string;
  /** Starts a new instance (from the same data). A rejection counts as one more death. */
  start(): Promise<H>;
  /** Resolves with a reason when the instance ends, for whatever cause. */
  exited(handle: H): Promise<string>;
  stop(handle: H): Promise<void>;
  say(line: string): void;
  /** Called with each new instance once it is up (e.g. to record its pid). */
  restarted?(handle: H): void | Promise<void>;
  /** Called once when the deaths come too often; supervision has ended by then. */
  gaveUp(reason: string): void;
  /** Waits before each restart, by how many deaths the window holds; the last one repeats. */
  backoffMs?: readonly number[];
  /** More deaths than this within `windowMs` give up. */
  maxRestarts?: number;
  windowMs?: number;
  /** For tests. */
  now?: () => number;
}

export interface Supervision<H> {
  current(): H;
  /** Ends supervision and stops the instance running now (or the one starting). */
  stop(): Promise<void>;
  /** Settles when supervision ends: stopped, or given up. */
  readonly ended: Promise<void>;
}

export const DEFAULT_BACKOFF_MS = [500, 1_000, 2_000, 4_000, 8_000] as const;

export function supervise<H>(first: H, options: SuperviseOptions<H>): Supervision<H> {
  const backoff = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const maxRestarts = options.maxRestarts ?? 5;
  const windowMs = options.windowMs ?? 120_000;
  const now = options.now ?? Date.now;
  let current = first;
  let stopped = false;
  let wake: () => void = () => {};
  const deaths: number[] = [];

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** Records one death; false when that is one too many for the window. */
  const countDeath = (): boolean => {
    const at = now();
    deaths.push(at);
    while (deaths.length > 0 && deaths[0]! < at - windowMs) deaths.shift();
    return deaths.length <= maxRestarts;
  };

  const loop = async (): Promise<void> => {
    let reason = await Promise.race([
      options.exited(current),
      new Promise<null>((r) => (wake = () => r(null))),
    ]);
    while (!stopped && reason !== null) {
      if (!countDeath()) {
        const why = `${options.name} ended ${deaths.length} times within ${windowMs / 1000} s (last: ${reason})`;
        options.say(`${why}; giving up`);
        options.gaveUp(why);
        return;
      }
      const delay = backoff[Math.min(deaths.length - 1, backoff.length - 1)] ?? 1_000;
      options.say(
        `${options.name} stopped on its own (${reason}); restarting in ${delay / 1000} s ` +
          `(${deaths.length} of at most ${maxRestarts} restarts in ${windowMs / 1000} s)`,
      );
      await pause(delay);
      if (stopped) return;
      try {
        current = await options.start();
      } catch (err) {
        reason = `restart failed: ${err instanceof Error ? err.message.split('\n')[0] : err}`;
        continue;
      }
      if (stopped) {
        await options.stop(current);
        return;
      }
      await options.restarted?.(current);
      options.say(`${options.name} restarted`);
      reason = await Promise.race([
        options.exited(current),
        new Promise<null>((r) => (wake = () => r(null))),
      ]);
    }
  };
  const ended = loop();

  return {
    current: () => current,
    ended,
    async stop() {
      stopped = true;
      wake();
      await ended;
      await options.stop(current);
    },
  };
}
