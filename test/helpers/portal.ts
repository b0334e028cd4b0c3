/**
 * Client portal fixtures: a client with a plan, a portal user and (optionally) a subscription row,
 * payment requests with lines, packs, wallet credit and usage, written through the API where
 * it does so without Temporal and straight into Postgres where a workflow would write them (the
 * portal only reads them). And sign-in: a session link opened in process, giving the cookie.
 */
import { expect } from 'vitest';
import type { Sql } from '../../db/client';
import { insertPaymentRequest } from '../../db/queries/payment-requests';
import { getPlan, snapshotTerms } from '../../db/queries/plans';
import { addLedgerRow } from '../../db/queries/wallet';
import type { TestApi } from './api';

let counter = 0;
const unique = (p: string) => `${p}-${process.pid}-${++counter}`;

export interface PortalClient {
  clientId: string;
  externalId: string;
  planId: string;
  userId: string;
  agentId: string;
  subscriptionId: string | null;
}

async function must(api: TestApi, method: string, path: string, body?: unknown) {
  const res = await api.call(method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
}

/**
 * A client (manual billing) with a plan and one agent, a portal user, and unless
 * `subscription` is null a subscription row in status `status` whose current period started a
 * day ago.
 */
export async function portalClient(
  api: TestApi,
  sql: Sql,
  o: {
    name?: string;
    plan?: Record<string, unknown>;
    status?: string;
    subscription?: null;
    email?: string;
  } = {},
): Promise<PortalClient> {
  const plan = await must(api, 'POST', '/v1/plans', {
    name: 'Growth',
    tier: 'Pro',
    currency: 'USD',
    flatFeeMinor: 4900,
    overageRateMinorPerMinute: '12.5',
    includedMinutes: 100,
    rhythm: 'month',
    packsAllowed: true,
    ...o.plan,
  });
  const externalId = unique('portal-client');
  const client = await must(api, 'POST', '/v1/clients', {
    name: o.name ?? 'Bright Dental',
    externalId,
    billingMode: 'manual',
  });
  const agent = await must(api, 'POST', `/v1/clients/${client.id}/agents`, {
    name: 'Front desk',
    externalId: unique('portal-agent'),
  });
  const user = await must(api, 'POST', `/v1/clients/${client.id}/portal-users`, {
    email: o.email ?? `${unique('owner')}@dental.example`,
  });
  await must(api, 'PUT', `/v1/clients/${client.id}/plan`, { planId: plan.id });
  let subscriptionId: string | null = null;
  if (o.subscription !== null) {
    subscriptionId = `sub_${unique('portal').replaceAll('-', '')}`;
    const terms = snapshotTerms((await getPlan(sql, api.agencyId, plan.id))!);
    await sql`
      insert into subscriptions (id, agency_id, client_id, plan_id, terms, agent_ids, billing_mode,
        status, start_at, current_period_start, current_period_end, workflow_id)
      values (${subscriptionId}, ${api.agencyId}, ${client.id}, ${plan.id},
        ${sql.json(terms as never)}, ${[agent.id]}, 'manual', ${o.status ?? 'active'},
        now() - interval '1 day', now() - interval '1 day', now() + interval '29 days',
        ${`subscription-${subscriptionId}`})`;
  }
  return {
    clientId: client.id,
    externalId,
    planId: plan.id,
    userId: user.id,
    agentId: agent.id,
    subscriptionId,
  };
}

/** A payment request of the client with a flat line and a usage line (total = their sum). */
export async function portalRequest(
  sql: Sql,
  api: TestApi,
  c: PortalClient,
  o: { status?: 'pending' | 'paid'; setStatus?: string; type?: 'cycle' | 'pack' } = {},
) {
  const now = Date.now();
  const lines = [
    {
      kind: 'recurring' as const,
      description: 'Growth (Pro) flat fee',
      quantity: null,
      unitAmountMinor: null,
      amountMinor: 4900,
      periodStartMs: now,
      periodEndMs: now + 30 * 86_400_000,
      details: null,
    },
    {
      kind: 'usage' as const,
      description: 'Usage beyond included minutes',
      quantity: '10',
      unitAmountMinor: '12.5',
      amountMinor: 125,
      periodStartMs: now - 30 * 86_400_000,
      periodEndMs: now,
      details: null,
    },
  ];
  const { request } = await insertPaymentRequest(sql, {
    agencyId: api.agencyId,
    clientId: c.clientId,
    subscriptionId: c.subscriptionId,
    type: o.type ?? 'cycle',
    periodIndex: null,
    status: o.status ?? 'pending',
    draft: {
      currency: 'USD',
      lines,
      subtotalMinor: 5025,
      discountMinor: 0,
      taxMinor: 0,
      totalMinor: 5025,
    },
    issuedAt: new Date(now - 10 * 86_400_000),
    dueAt: new Date(now - 3 * 86_400_000),
    graceEndsAt: new Date(now + 4 * 86_400_000),
    idempotencyKey: unique('portal-request'),
  });
  if (o.setStatus) {
    await sql`update payment_requests set status = ${o.setStatus} where id = ${request.id}`;
  }
  return request.id;
}

/** Voice usage of the client's agent in the current period, through POST /v1/usage. */
export async function portalUsage(api: TestApi, c: PortalClient, seconds: number) {
  const res = await api.call(
    'POST',
    '/v1/usage',
    {
      events: [
        {
          id: unique('portal-usage'),
          client: c.externalId,
          metric: 'voice_seconds',
          quantity: seconds,
          time: new Date().toISOString(),
        },
      ],
    },
    api.ingestKey,
  );
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

/** Credits the client's wallet with `seconds` (a pack would). */
export async function portalWallet(sql: Sql, api: TestApi, c: PortalClient, seconds: number) {
  await addLedgerRow(sql, {
    agencyId: api.agencyId,
    clientId: c.clientId,
    seconds,
    reason: 'adjustment',
    reference: unique('portal-wallet'),
  });
}

/** A pack assigned to the client. */
export async function portalPack(
  api: TestApi,
  c: PortalClient,
  name: string,
  minutes: number,
  priceMinor: number,
) {
  const pack = await must(api, 'POST', '/v1/packs', { name, minutes, priceMinor, currency: 'USD' });
  await must(api, 'POST', `/v1/clients/${c.clientId}/packs`, { packId: pack.id });
  return pack.id as string;
}

/** Creates a portal session for the client's user: its id and link URL. */
export async function portalLink(api: TestApi, c: PortalClient) {
  const res = await api.call('POST', `/v1/clients/${c.clientId}/portal-sessions`, {
    portalUserId: c.userId,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; url: string; expiresAt: string };
}

/** Opens a link in process; the Cookie header value its session cookie gives. */
export async function signIn(api: TestApi, url: string): Promise<string> {
  const res = await api.app.request(new URL(url).pathname);
  expect(res.status).toBe(303);
  const set = res.headers.get('set-cookie') ?? '';
  const cookie = set.split(';')[0]!;
  expect(cookie).toMatch(/^tally_portal=psc_/);
  return cookie;
}
