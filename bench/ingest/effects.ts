/**
 * The ingest bench's paced runs: usage posted at a fixed rate (a share of the rate the first run
 * reached) on the load subscriptions, while a set of effect subscriptions (a plan of 100 included
 * minutes and no overage rate, so spent minutes pause campaigns) cross their thresholds at known
 * moments spread over the run. Measured per crossing: from the HTTP answer of the batch that
 * carried the crossing event to its effect stored in Postgres, by `created_at` (the storing
 * transaction's start, on the same clock):
 * - the 90% warning: the `usage.threshold_90` event;
 * - minutes spent: the `access.changed` event's webhook row (`campaigns.paused`).
 *
 * Before the run each effect subscription gets 89 events (just under its warning), not timed.
 * Batches go out open loop at their due times (at most MAX_IN_FLIGHT at once: a server that
 * falls behind shows as a lower achieved rate).
 */
import type { Sql } from '../../db/client';
import type { Sub } from './load';
import { BATCH } from './settings';

/** Included minutes of the effects plan; every event is one minute. */
export const INCLUDED = 100;
export const EFFECTS_PLAN = {
  name: 'Bench effects',
  currency: 'USD',
  flatFeeMinor: 2500,
  overageRateMinorPerMinute: null,
  includedMinutes: INCLUDED,
  rhythm: 'month',
};
const MAX_IN_FLIGHT = 32;
/** How long after the last answer an effect may take before it counts as missing. */
const EFFECT_TIMEOUT_MS = 120_000;

type Kind = 'warning' | 'paused';

export interface PacedResult {
  /** Events accepted per second over the run (load and effect events). */
  achievedRate: number;
  accepted: number;
  /** ms from answer to effect, per crossing seen; missing ones count EFFECT_TIMEOUT_MS. */
  latencies: Record<Kind, number[]>;
  missing: number;
  /** Fresh events posted per subscription id (for the lost/double check). */
  perSub: Map<string, number>;
}

const usageEvent = (id: string, sub: Sub, n: number, timeIso: string) => ({
  id,
  // Half by Tally id, half by the agency's external id; agents by external id.
  client: n % 2 === 0 ? sub.clientId : sub.clientExt,
  agent: sub.agents[n % sub.agents.length],
  metric: 'voice_seconds',
  quantity: 60,
  time: timeIso,
});

async function post(base: string, key: string, events: unknown[]): Promise<number> {
  const res = await fetch(`${base}/v1/usage`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  const json = (await res.json()) as { accepted: number; rejected: unknown[] };
  if (res.status !== 200 || json.rejected.length > 0)
    throw new Error(`POST /v1/usage: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json.accepted;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export async function pacedRun(o: {
  label: string;
  base: string;
  key: string;
  sql: Sql;
  load: Sub[];
  effects: Sub[];
  rate: number;
  seconds: number;
  timeIso: string;
}): Promise<PacedResult> {
  const perSub = new Map<string, number>();
  const add = (s: Sub, n: number) => perSub.set(s.id, (perSub.get(s.id) ?? 0) + n);
  const below = Math.ceil(INCLUDED * 0.9) - 1; // 89: the next event is the 90% warning
  for (let i = 0; i < o.effects.length; i += 5) {
    const chunk = o.effects.slice(i, i + 5);
    await post(
      o.base,
      o.key,
      chunk.flatMap((s) =>
        Array.from({ length: below }, (_, n) =>
          usageEvent(`${o.label}-w-${s.id}-${n}`, s, n, o.timeIso),
        ),
      ),
    );
    for (const s of chunk) add(s, below);
  }

  // Effect events ride in the load's batches: the warning (event 90) at a moment spread over
  // the first 70% of the run, events 91-100 (minutes spent) a second later.
  const batches = Math.max(1, Math.round((o.rate * o.seconds) / BATCH));
  const gapMs = (BATCH / o.rate) * 1000;
  const extra = new Map<number, { events: unknown[]; crossings: { sub: Sub; kind: Kind }[] }>();
  const ride = (batch: number, events: unknown[], crossing: { sub: Sub; kind: Kind }) => {
    const b = Math.min(batches - 1, batch);
    const e = extra.get(b) ?? { events: [], crossings: [] };
    e.events.push(...events);
    e.crossings.push(crossing);
    extra.set(b, e);
  };
  o.effects.forEach((s, j) => {
    const at = o.seconds * 1000 * (0.1 + (0.6 * j) / o.effects.length);
    const id = (n: number) => `${o.label}-e-${s.id}-${n}`;
    ride(Math.floor(at / gapMs), [usageEvent(id(below), s, below, o.timeIso)], {
      sub: s,
      kind: 'warning',
    });
    const rest = Array.from({ length: INCLUDED - below - 1 }, (_, k) => below + 1 + k);
    ride(
      Math.floor((at + 1000) / gapMs),
      rest.map((n) => usageEvent(id(n), s, n, o.timeIso)),
      { sub: s, kind: 'paused' },
    );
    add(s, INCLUDED - below);
  });

  const answered: { sub: Sub; kind: Kind; at: number }[] = [];
  let accepted = 0;
  let inFlight = 0;
  let k = 0;
  let lastAnswer = 0;
  const inFlightPosts: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < batches; i++) {
    await sleep(start + i * gapMs - performance.now());
    while (inFlight >= MAX_IN_FLIGHT) await sleep(1);
    const events: unknown[] = [];
    for (let n = 0; n < BATCH; n++, k++) {
      const s = o.load[k % o.load.length]!;
      events.push(usageEvent(`${o.label}-${k}`, s, Math.floor(k / o.load.length), o.timeIso));
      add(s, 1);
    }
    const e = extra.get(i);
    if (e) events.push(...e.events);
    inFlight++;
    inFlightPosts.push(
      post(o.base, o.key, events).then((n) => {
        const at = Date.now();
        lastAnswer = performance.now();
        accepted += n;
        inFlight--;
        for (const c of e?.crossings ?? []) answered.push({ ...c, at });
      }),
    );
  }
  await Promise.all(inFlightPosts);
  const achievedRate = accepted / ((lastAnswer - start) / 1000);

  // Each effect's first stored row, until all are there (or the timeout).
  const clients = o.effects.map((s) => s.clientId);
  const deadline = Date.now() + EFFECT_TIMEOUT_MS;
  let seen: Record<Kind, Map<string, number>> = { warning: new Map(), paused: new Map() };
  for (;;) {
    const [warned, paused] = await Promise.all([
      o.sql<{ clientId: string; at: Date }[]>`
        select client_id as "clientId", min(created_at) as at from events
        where type = 'usage.threshold_90' and client_id = any(${clients}::text[]) group by 1`,
      o.sql<{ clientId: string; at: Date }[]>`
        select e.client_id as "clientId", min(w.created_at) as at
        from webhook_deliveries w join events e on e.id = w.event_id
        where e.type = 'access.changed' and w.payload->>'type' = 'campaigns.paused'
          and e.client_id = any(${clients}::text[])
        group by 1`,
    ]);
    seen = {
      warning: new Map(warned.map((r) => [r.clientId, r.at.getTime()])),
      paused: new Map(paused.map((r) => [r.clientId, r.at.getTime()])),
    };
    if (seen.warning.size + seen.paused.size >= 2 * o.effects.length) break;
    if (Date.now() > deadline) break;
    await sleep(250);
  }
  const latencies: Record<Kind, number[]> = { warning: [], paused: [] };
  let missing = 0;
  for (const c of answered) {
    const at = seen[c.kind].get(c.sub.clientId);
    if (at === undefined) missing++;
    latencies[c.kind].push(at === undefined ? EFFECT_TIMEOUT_MS : Math.max(0, at - c.at));
  }
  latencies.warning.sort((a, b) => a - b);
  latencies.paused.sort((a, b) => a - b);
  return { achievedRate, accepted, latencies, missing, perSub };
}
