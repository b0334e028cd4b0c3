/** Usage test fixtures through the API: a plan, a client with agents, a subscription, events. */
import { expect } from 'vitest';
import type { TestApi } from './api';

export interface Fixture {
  planId: string;
  clientId: string;
  externalId: string;
  agentIds: string[];
  agentExternalIds: string[];
  subscriptionId: string;
}

let counter = 0;
const unique = (p: string) => `${p}-${process.pid}-${++counter}`;

export async function createPlan(api: TestApi, fields: Record<string, unknown> = {}) {
  const plan = await api.call('POST', '/v1/plans', {
    name: 'Voice',
    currency: 'USD',
    flatFeeMinor: 2500,
    overageRateMinorPerMinute: '5',
    includedMinutes: 0,
    rhythm: 'month',
    ...fields,
  });
  expect(plan.status, JSON.stringify(plan.body)).toBe(201);
  return plan.body.id as string;
}

/** A client with `agents` agents and (unless `subscribe` is false) a live subscription. */
export async function createFixture(
  api: TestApi,
  o: {
    plan?: Record<string, unknown>;
    planId?: string;
    agents?: number;
    client?: Record<string, unknown>;
    subscribe?: boolean;
    startAt?: string;
  } = {},
): Promise<Fixture> {
  const planId = o.planId ?? (await createPlan(api, o.plan));
  const externalId = unique('ext-client');
  const client = await api.call('POST', '/v1/clients', {
    name: 'Dental Co',
    externalId,
    billingMode: 'manual',
    ...o.client,
  });
  expect(client.status, JSON.stringify(client.body)).toBe(201);
  const agentIds: string[] = [];
  const agentExternalIds: string[] = [];
  for (let i = 0; i < (o.agents ?? 1); i++) {
    const ext = unique('ext-agent');
    const agent = await api.call('POST', `/v1/clients/${client.body.id}/agents`, {
      name: `Agent ${i + 1}`,
      externalId: ext,
    });
    expect(agent.status, JSON.stringify(agent.body)).toBe(201);
    agentIds.push(agent.body.id);
    agentExternalIds.push(ext);
  }
  let subscriptionId = '';
  if (o.subscribe !== false) {
    const sub = await api.call('POST', '/v1/subscriptions', {
      clientId: client.body.id,
      planId,
      ...(o.startAt ? { startAt: o.startAt } : {}),
    });
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    subscriptionId = sub.body.id;
  }
  return {
    planId,
    clientId: client.body.id,
    externalId,
    agentIds,
    agentExternalIds,
    subscriptionId,
  };
}

export function voice(
  client: string,
  seconds: number,
  o: { id?: string; agent?: string | null; time?: string } = {},
) {
  return {
    id: o.id ?? unique('evt'),
    client,
    ...(o.agent ? { agent: o.agent } : {}),
    metric: 'voice_seconds',
    quantity: seconds,
    time: o.time ?? new Date().toISOString(),
  };
}

export async function postUsage(
  api: TestApi,
  events: unknown[],
  key: string | null = api.ingestKey,
) {
  return api.call('POST', '/v1/usage', { events }, key);
}

/** The same API, speaking as another agency (from `api.newAgency()`). */
export function asAgency(
  api: TestApi,
  other: { agencyId: string; key: string; ingestKey: string },
): TestApi {
  return {
    ...api,
    ...other,
    call: (method, path, body, key = other.key, headers) =>
      api.call(method, path, body, key, headers),
  };
}
