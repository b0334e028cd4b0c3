/**
 * Usage ingestion: validate a batch, resolve clients and agents once for the whole batch, store
 * the valid events in one transaction, report the rest.
 *
 * Batch semantics (per-event acceptance): every valid event is stored; each invalid one is
 * reported with its index and the first field at fault; an id already stored (or repeated in the
 * batch) is reported as a duplicate and counts once. A batch where no event is valid is refused
 * as a whole (400). The batch itself must be `{ events: [...] }` with 1 to 1,000 events.
 *
 * Validation is hand-written rather than a zod schema: it runs for up to 1,000 events per
 * request on the hottest path, and must report per event instead of failing the batch.
 */
import type { Sql } from '../db/client';
import {
  insertUsageEvents,
  resolveAndLock,
  type IngestAgent,
  type IngestClient,
  type StoredBatch,
  type UsageColumns,
} from '../db/queries/usage';
import { USAGE_METRICS, type UsageMetric } from '../billing/pools';
import { findUnstorableText, UNSTORABLE_TEXT_MESSAGE } from '../lib/storable-text';

export const MAX_BATCH = 1_000;
/** How far ahead of the server's clock an event may be (clock skew of the sender). */
export const MAX_FUTURE_MS = 5 * 60_000;
/** Upper bound of one event's quantity (about 31 years of seconds; rejects garbage). */
export const MAX_QUANTITY = 1_000_000_000;
const MAX_PROPERTIES_BYTES = 4_096;
const EARLIEST_MS = Date.UTC(1970, 0, 1);
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const EVENT_FIELDS = new Set([
  'id',
  'client',
  'agent',
  'metric',
  'quantity',
  'time',
  'properties',
  'property',
]);
const METRICS: ReadonlySet<string> = new Set(USAGE_METRICS);

export interface Rejection {
  index: number;
  id: string | null;
  field: string;
  message: string;
}

export interface BatchResult {
  received: number;
  accepted: number;
  duplicates: string[];
  rejected: Rejection[];
}

/** An event that passed the checks that need no database. */
interface ParsedEvent {
  index: number;
  id: string;
  client: string;
  agent: string | null;
  metric: UsageMetric;
  quantity: number;
  timeMs: number;
  time: string;
  properties: string | null;
  property: string | null;
}

const isText = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;

/** Checks one event; returns it parsed, or the first field at fault. */
export function parseEvent(
  raw: unknown,
  index: number,
  nowMs: number,
): ParsedEvent | Omit<Rejection, 'index' | 'id'> {
  const at = (field: string, message: string) => ({ field: `events.${index}.${field}`, message });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return { field: `events.${index}`, message: 'must be an object' };
  const e = raw as Record<string, unknown>;
  for (const key in e)
    if (!EVENT_FIELDS.has(key)) return at(key, 'is not a field of a usage event');
  const unstorable = findUnstorableText(e);
  if (unstorable) return at(unstorable.join('.'), UNSTORABLE_TEXT_MESSAGE);
  if (!isText(e.id, 255)) return at('id', 'must be a string of 1 to 255 characters');
  if (!isText(e.client, 200))
    return at('client', 'must be the client\u2019s Tally id or external id (1 to 200 characters)');
  if (e.agent != null && !isText(e.agent, 200))
    return at('agent', 'must be the agent\u2019s Tally id or external id, or be left out');
  if (typeof e.metric !== 'string' || !METRICS.has(e.metric))
    return at('metric', `must be one of ${USAGE_METRICS.join(', ')}`);
  const q = e.quantity;
  if (typeof q !== 'number' || !Number.isInteger(q) || q < 0 || q > MAX_QUANTITY)
    return at('quantity', `must be an integer from 0 to ${MAX_QUANTITY}`);
  if (typeof e.time !== 'string' || !ISO_WITH_ZONE.test(e.time))
    return at('time', 'must be an ISO 8601 date-time with a zone, e.g. 2026-01-31T12:00:00Z');
  const timeMs = Date.parse(e.time);
  if (Number.isNaN(timeMs)) return at('time', 'is not a valid date-time');
  if (timeMs < EARLIEST_MS) return at('time', 'must be 1970 or later');
  if (timeMs > nowMs + MAX_FUTURE_MS) return at('time', 'is more than 5 minutes in the future');
  let properties: string | null = null;
  const p = e.properties;
  if (p != null) {
    if (typeof p !== 'object' || Array.isArray(p)) return at('properties', 'must be an object');
    properties = JSON.stringify(p);
    if (properties.length > MAX_PROPERTIES_BYTES)
      return at('properties', `must serialize to at most ${MAX_PROPERTIES_BYTES} bytes`);
    if (properties === '{}') properties = null;
  }
  let property: string | null = null;
  let quantity = q;
  if (e.metric === 'value_count') {
    if (!isText(e.property, 200))
      return at('property', 'must name the boolean property a value_count event counts');
    const value = (p as Record<string, unknown> | null | undefined)?.[e.property];
    if (typeof value !== 'boolean')
      return at(`properties.${e.property}`, 'must be true or false: value_count counts a boolean');
    property = e.property;
    // Only a true value counts; a false one is kept for the record with quantity 0.
    if (!value) quantity = 0;
  } else if (e.property !== undefined) {
    return at('property', 'is only for value_count events');
  }
  return {
    index,
    id: e.id,
    client: e.client,
    agent: (e.agent as string | null | undefined) ?? null,
    metric: e.metric as UsageMetric,
    quantity,
    timeMs,
    time: e.time,
    properties,
    property,
  };
}

/**
 * Refs (Tally ids and external ids) resolved in the last few seconds, per agency. Batches name
 * the same clients and agents again and again, and resolving them is about a fifth of the
 * database's work per batch. Only hits are kept (a new client or agent resolves at once); an
 * external id renamed or deleted keeps resolving for at most REF_TTL_MS. The subscription and
 * its lock are read for every batch, never cached.
 */
const REF_TTL_MS = 5_000;
const REF_CACHE_MAX = 100_000;

class RefCache<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();

  get(agencyId: string, ref: string, now: number): T | undefined {
    const hit = this.entries.get(`${agencyId}\u0000${ref}`);
    return hit && hit.expiresAt > now ? hit.value : undefined;
  }

  set(agencyId: string, ref: string, value: T, now: number): void {
    if (this.entries.size >= REF_CACHE_MAX) this.entries.clear();
    this.entries.set(`${agencyId}\u0000${ref}`, { value, expiresAt: now + REF_TTL_MS });
  }
}

const clientRefs = new RefCache<{ id: string; externalId: string | null }>();
const agentRefs = new RefCache<IngestAgent>();

function indexBy<T>(rows: T[], keys: (r: T) => (string | null)[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const r of rows) for (const k of keys(r)) if (k !== null && !map.has(k)) map.set(k, r);
  return map;
}

/** Validates, resolves and stores one batch of already-parsed JSON events. */
export async function ingestBatch(
  sql: Sql,
  agencyId: string,
  events: unknown[],
  nowMs = Date.now(),
): Promise<BatchResult> {
  const rejected: Rejection[] = [];
  const duplicates: string[] = [];
  const parsed: ParsedEvent[] = [];
  const seen = new Set<string>();
  events.forEach((raw, index) => {
    const r = parseEvent(raw, index, nowMs);
    if (!('id' in r)) {
      const id = (raw as { id?: unknown } | null)?.id;
      rejected.push({ index, id: typeof id === 'string' ? id : null, ...r });
    } else if (seen.has(r.id)) {
      duplicates.push(r.id);
    } else {
      seen.add(r.id);
      parsed.push(r);
    }
  });
  if (parsed.length === 0) return { received: events.length, accepted: 0, duplicates, rejected };

  const now = Date.now();
  const cachedClient = new Map<string, { id: string; externalId: string | null }>();
  const clientsToResolve: string[] = [];
  for (const ref of new Set(parsed.map((e) => e.client))) {
    const hit = clientRefs.get(agencyId, ref, now);
    if (hit) cachedClient.set(ref, hit);
    else clientsToResolve.push(ref);
  }
  const cachedAgent = new Map<string, IngestAgent>();
  const agentsToResolve: string[] = [];
  for (const ref of new Set(parsed.flatMap((e) => (e.agent === null ? [] : [e.agent])))) {
    const hit = agentRefs.get(agencyId, ref, now);
    if (hit) cachedAgent.set(ref, hit);
    else agentsToResolve.push(ref);
  }
  const cols: UsageColumns = {
    eventIds: [],
    clientIds: [],
    agentIds: [],
    subscriptionIds: [],
    metrics: [],
    quantities: [],
    times: [],
    properties: [],
    valueProperties: [],
  };
  const kept: ParsedEvent[] = [];
  const reject = (e: ParsedEvent, field: string, message: string) =>
    rejected.push({ index: e.index, id: e.id, field: `events.${e.index}.${field}`, message });

  // One transaction, two statements: resolve and lock, then insert (with the outbox row).
  const stored = await sql.begin(async (tx): Promise<StoredBatch | null> => {
    const found = await resolveAndLock(tx, agencyId, {
      clients: clientsToResolve,
      knownClients: [...new Map([...cachedClient.values()].map((c) => [c.id, c])).values()],
      agents: agentsToResolve,
    });
    // A Tally id wins over an external id that happens to be spelled the same.
    const clientById = indexBy<IngestClient>(found.clients, (c) => [c.id]);
    const clientByExt = indexBy<IngestClient>(found.clients, (c) => [c.externalId]);
    const agentById = indexBy<IngestAgent>(found.agents, (a) => [a.id]);
    const agentByExt = indexBy<IngestAgent>(found.agents, (a) => [a.externalId]);
    const clientOf = (ref: string) => {
      const cached = cachedClient.get(ref);
      if (cached) return clientById.get(cached.id);
      const c = clientById.get(ref) ?? clientByExt.get(ref);
      if (c) clientRefs.set(agencyId, ref, { id: c.id, externalId: c.externalId }, now);
      return c;
    };
    const agentOf = (ref: string) => {
      const a = cachedAgent.get(ref) ?? agentById.get(ref) ?? agentByExt.get(ref);
      if (a && !cachedAgent.has(ref)) agentRefs.set(agencyId, ref, a, now);
      return a;
    };
    for (const e of parsed) {
      const client = clientOf(e.client);
      if (!client) {
        reject(e, 'client', `no client ${e.client} (by id or external id)`);
        continue;
      }
      if (client.subscriptionId === null || client.subscriptionStartMs === null) {
        reject(e, 'client', `client ${client.id} has no live subscription to meter usage against`);
        continue;
      }
      if (e.timeMs < client.subscriptionStartMs) {
        reject(
          e,
          'time',
          `is before client ${client.id}\u2019s subscription started (${new Date(client.subscriptionStartMs).toISOString()})`,
        );
        continue;
      }
      let agentId: string | null = null;
      if (e.agent !== null) {
        const agent = agentOf(e.agent);
        if (!agent || agent.clientId !== client.id) {
          reject(e, 'agent', `no agent ${e.agent} of client ${client.id}`);
          continue;
        }
        agentId = agent.id;
      }
      kept.push(e);
      cols.eventIds.push(e.id);
      cols.clientIds.push(client.id);
      cols.agentIds.push(agentId);
      cols.subscriptionIds.push(client.subscriptionId);
      cols.metrics.push(e.metric);
      cols.quantities.push(String(e.quantity));
      cols.times.push(e.time);
      cols.properties.push(e.properties);
      cols.valueProperties.push(e.property);
    }
    return kept.length > 0 ? insertUsageEvents(tx, agencyId, cols) : null;
  });

  let accepted = 0;
  kept.forEach((e, i) => {
    if (stored!.inserted.has(e.id)) accepted++;
    else if (stored!.closedSubscriptions.has(cols.subscriptionIds[i]!))
      reject(
        e,
        'client',
        `the subscription of client ${cols.clientIds[i]} has ended: its usage is closed`,
      );
    else duplicates.push(e.id);
  });
  rejected.sort((a, b) => a.index - b.index);
  return { received: events.length, accepted, duplicates, rejected };
}
