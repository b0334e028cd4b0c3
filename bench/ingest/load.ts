/**
 * The ingest bench's load: the subscriptions it sets up over the API, the usage batches it posts
 * (built before timing), and the raw COPY of the same events that gives the ceiling.
 */
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Sql } from '../../db/client';
import { BATCH, PER_SUB, POSTERS, SUBS } from './settings';

/** Runs `fn` over `items` with at most `n` at once. */
export async function pool<T>(items: T[], n: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

/** One call to the API with `key`; throws on a status of 300 or more. */
export async function api<T = any>(
  base: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (res.status >= 300)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export interface Sub {
  id: string;
  clientId: string;
  clientExt: string;
  agents: string[];
}

/** The bench plan: no included minutes, billed per minute (usage never changes behaviour). */
export const LOAD_PLAN = {
  name: 'Bench',
  currency: 'USD',
  flatFeeMinor: 2500,
  overageRateMinorPerMinute: '5',
  includedMinutes: 0,
  rhythm: 'month',
};

/**
 * A plan, `count` clients (`agentsEach` agents each) and a subscription each, named with
 * `prefix`; waits until `waitForRequests` cycle requests are stored (every workflow has run its
 * first step) before usage flows.
 */
export async function setUp(
  base: string,
  key: string,
  sql: Sql,
  o: {
    count: number;
    prefix: string;
    plan: Record<string, unknown>;
    agentsEach: number;
    waitForRequests: number;
  } = { count: SUBS, prefix: 'bench', plan: LOAD_PLAN, agentsEach: 3, waitForRequests: SUBS },
): Promise<Sub[]> {
  const plan = await api(base, key, 'POST', '/v1/plans', o.plan);
  const subs: Sub[] = new Array(o.count);
  await pool([...Array(o.count).keys()], 16, async (i) => {
    const clientExt = `${o.prefix}-client-${i}`;
    const client = await api(base, key, 'POST', '/v1/clients', {
      name: `Client ${i}`,
      externalId: clientExt,
    });
    const agents: string[] = [];
    for (let a = 0; a < o.agentsEach; a++) {
      const ext = `${o.prefix}-agent-${i}-${a}`;
      await api(base, key, 'POST', `/v1/clients/${client.id}/agents`, {
        name: `Agent ${a}`,
        externalId: ext,
      });
      agents.push(ext);
    }
    const sub = await api(base, key, 'POST', '/v1/subscriptions', {
      clientId: client.id,
      planId: plan.id,
    });
    subs[i] = { id: sub.id, clientId: client.id, clientExt, agents };
  });
  for (;;) {
    const [row] = await sql<
      { n: number }[]
    >`select count(*)::int as n from payment_requests where type = 'cycle'`;
    if (row!.n >= o.waitForRequests) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return subs;
}

export interface Batch {
  poster: number;
  body: string;
  /** New events per subscription index in this batch. */
  fresh: Map<number, number>;
  size: number;
  answeredAt: number;
}

/** Pre-built request bodies (not timed): per poster, its batches in order. */
export function buildBatches(subs: Sub[], timeIso: string) {
  const perPoster: Batch[][] = Array.from({ length: POSTERS }, () => []);
  const events: { id: string; sub: number; agent: number }[] = [];
  let duplicates = 0;
  for (let p = 0; p < POSTERS; p++) {
    const mine = subs.map((_, i) => i).filter((i) => i % POSTERS === p);
    const queue: { id: string; sub: number; agent: number }[] = [];
    for (let n = 0; n < PER_SUB; n++)
      for (const s of mine) queue.push({ id: `b-${s}-${n}`, sub: s, agent: (s + n) % 3 });
    const sent: typeof queue = [];
    while (queue.length > 0) {
      const take = queue.splice(0, BATCH);
      const fresh = new Map<number, number>();
      for (const e of take) fresh.set(e.sub, (fresh.get(e.sub) ?? 0) + 1);
      const body = take.map((e) => e);
      // About 1%: an event of an earlier batch again (its id already stored: counted once).
      for (let k = 0; k < take.length / 100 && sent.length > 0; k++) {
        body.push(sent[(sent.length * 7919 + k * 104729) % sent.length]!);
        duplicates++;
      }
      sent.push(...take);
      events.push(...take);
      const json = body.map((e, j) => ({
        id: e.id,
        // Half by Tally id, half by the agency's external id; agents by external id.
        client: j % 2 === 0 ? subs[e.sub]!.clientId : subs[e.sub]!.clientExt,
        agent: subs[e.sub]!.agents[e.agent],
        metric: 'voice_seconds',
        quantity: 60,
        time: timeIso,
      }));
      perPoster[p]!.push({
        poster: p,
        body: JSON.stringify({ events: json }),
        fresh,
        size: body.length,
        answeredAt: 0,
      });
    }
  }
  return { perPoster, events, duplicates };
}

/** Events per second of a raw COPY of `events` into a scratch copy of usage_events. */
export async function rawCopy(
  sql: Sql,
  agencyId: string,
  subs: Sub[],
  events: { id: string; sub: number; agent: number }[],
  timeIso: string,
) {
  await sql`create table bench_copy (like usage_events including all)`;
  const agentIds = await sql<
    { id: string; externalId: string }[]
  >`select id, external_id as "externalId" from agents`;
  const byExt = new Map(agentIds.map((a) => [a.externalId, a.id]));
  const lines = events.map(
    (e) =>
      `${agencyId}\t${e.id}\t${subs[e.sub]!.clientId}\t${byExt.get(subs[e.sub]!.agents[e.agent]!)}\t${subs[e.sub]!.id}\tvoice_seconds\t60\t${timeIso}\n`,
  );
  const started = performance.now();
  const stream =
    await sql`copy bench_copy (agency_id, event_id, client_id, agent_id, subscription_id, metric, quantity, occurred_at) from stdin`.writable();
  await pipeline(
    (function* () {
      for (let i = 0; i < lines.length; i += 1000) yield lines.slice(i, i + 1000).join('');
    })(),
    stream as Writable,
  );
  const seconds = (performance.now() - started) / 1000;
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from bench_copy`;
  await sql`drop table bench_copy`;
  if (row!.n !== events.length) throw new Error(`copy stored ${row!.n} of ${events.length}`);
  return events.length / seconds;
}
