/**
 * The restart loop `npm start` runs around the dev server and embedded Postgres, with fake
 * instances: restart after a death with growing backoff, give up after too many deaths in the
 * window (saying why), a failed start counts as a death, and stop() ends it all.
 */
import { describe, expect, it } from 'vitest';
import { supervise } from '../../scripts/lib/supervisor';

class Fake {
  static made = 0;
  readonly n = ++Fake.made;
  stopped = false;
  private die!: (reason: string) => void;
  readonly exited = new Promise<string>((r) => (this.die = r));
  kill(reason = 'killed by SIGKILL') {
    this.die(reason);
  }
}

function harness(options: { failStarts?: number; maxRestarts?: number; defaults?: boolean } = {}) {
  const lines: string[] = [];
  const gaveUp: string[] = [];
  const restarted: Fake[] = [];
  let failStarts = options.failStarts ?? 0;
  const first = new Fake();
  const supervision = supervise(first, {
    name: 'Thing',
    async start() {
      if (failStarts-- > 0) throw new Error('port in use');
      return new Fake();
    },
    exited: (f) => f.exited,
    async stop(f) {
      f.stopped = true;
    },
    say: (l) => lines.push(l),
    restarted: (f) => void restarted.push(f),
    gaveUp: (why) => void gaveUp.push(why),
    ...(options.defaults
      ? { backoffMs: [0] }
      : { backoffMs: [5, 10, 20], maxRestarts: options.maxRestarts ?? 3, windowMs: 60_000 }),
  });
  return { first, supervision, lines, gaveUp, restarted };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('supervise', () => {
  it('restarts a dead instance and logs why, with growing backoff', async () => {
    const h = harness();
    h.first.kill();
    await until(() => h.restarted.length === 1);
    expect(h.supervision.current()).toBe(h.restarted[0]);
    h.restarted[0]!.kill('exit code 2');
    await until(() => h.restarted.length === 2);
    expect(h.lines).toEqual([
      'Thing stopped on its own (killed by SIGKILL); restarting in 0.005 s (1 of at most 3 restarts in 60 s)',
      'Thing restarted',
      'Thing stopped on its own (exit code 2); restarting in 0.01 s (2 of at most 3 restarts in 60 s)',
      'Thing restarted',
    ]);
    await h.supervision.stop();
    expect(h.restarted[1]!.stopped).toBe(true);
    expect(h.gaveUp).toEqual([]);
  });

  it('gives up after too many deaths within the window, saying why', async () => {
    const h = harness({ maxRestarts: 2 });
    h.first.kill();
    await until(() => h.restarted.length === 1);
    h.restarted[0]!.kill();
    await until(() => h.restarted.length === 2);
    h.restarted[1]!.kill('exit code 1');
    await h.supervision.ended;
    expect(h.gaveUp).toEqual(['Thing ended 3 times within 60 s (last: exit code 1)']);
    expect(h.lines.at(-1)).toBe('Thing ended 3 times within 60 s (last: exit code 1); giving up');
  });

  it('counts a failed start as a death and tries again', async () => {
    const h = harness({ failStarts: 1 });
    h.first.kill();
    await until(() => h.restarted.length === 1);
    expect(h.lines[1]).toMatch(/restart failed: port in use\); restarting in 0.01 s/);
    await h.supervision.stop();
  });

  it('stop() ends supervision: a later death is not restarted', async () => {
    const h = harness();
    await h.supervision.stop();
    expect(h.first.stopped).toBe(true);
    h.first.kill();
    await new Promise((r) => setTimeout(r, 50));
    expect(h.restarted).toEqual([]);
    expect(h.lines).toEqual([]);
  });

  it('by default allows 5 restarts in 120 s and gives up at the 6th death', async () => {
    const h = harness({ defaults: true });
    let current = h.first;
    for (let i = 1; i <= 5; i++) {
      current.kill();
      await until(() => h.restarted.length === i);
      current = h.restarted[i - 1]!;
    }
    expect(h.lines).toContain(
      'Thing stopped on its own (killed by SIGKILL); restarting in 0 s (5 of at most 5 restarts in 120 s)',
    );
    current.kill();
    await h.supervision.ended;
    expect(h.gaveUp).toEqual(['Thing ended 6 times within 120 s (last: killed by SIGKILL)']);
  });

  it('by default waits 0.5 s before the first restart', async () => {
    const lines: string[] = [];
    const first = new Fake();
    const restartedAt: number[] = [];
    const supervision = supervise(first, {
      name: 'Thing',
      start: async () => new Fake(),
      exited: (f) => f.exited,
      stop: async () => {},
      say: (l) => lines.push(l),
      restarted: () => void restartedAt.push(Date.now()),
      gaveUp: () => {},
    });
    const killedAt = Date.now();
    first.kill();
    await until(() => restartedAt.length === 1);
    expect(lines[0]).toMatch(/restarting in 0.5 s \(1 of at most 5 restarts in 120 s\)$/);
    expect(restartedAt[0]! - killedAt).toBeGreaterThanOrEqual(490);
    await supervision.stop();
  });
});
