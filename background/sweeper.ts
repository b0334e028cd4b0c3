/**
 * What the sweepers next to every worker share: `startSweeper` runs a sweep every `intervalMs`
 * while `isRunning()` (one at a time, a failed round logged and left to the next; the timer never
 * keeps the process alive), and `handleEach` hands a round's rows over one by one.
 */
import type { Logger } from '../lib/logger';

export function startSweeper(o: {
  /** What a round hands over, for the log line (e.g. "deliveries"). */
  what: string;
  sweep: () => Promise<number>;
  isRunning: () => boolean;
  log?: Logger;
  intervalMs: number;
}): { stop(): void } {
  let busy = false;
  const timer = setInterval(() => {
    if (!o.isRunning()) return clearInterval(timer);
    if (busy) return;
    busy = true;
    o.sweep()
      .then((n) => {
        if (n > 0) o.log?.info({ count: n, what: o.what }, `sweeper handled ${n} ${o.what}`);
      })
      .catch((err: Error) => o.log?.warn({ err }, `${o.what} sweep failed; next round retries`))
      .finally(() => {
        busy = false;
      });
  }, o.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * Hands each item to `handle` in turn; one failing (reported to `failed`) does not hold up the
 * items behind it. Returns how many were handled.
 */
export async function handleEach<T>(
  items: T[],
  handle: (item: T) => Promise<void>,
  failed: (item: T, err: unknown) => void,
): Promise<number> {
  let handled = 0;
  for (const item of items) {
    try {
      await handle(item);
      handled += 1;
    } catch (err) {
      failed(item, err);
    }
  }
  return handled;
}
