/** Set-up for the collection tests: clients through the API, requests straight through the queries. */
import { expect } from 'vitest';
import type { RequestDraft } from '../../billing/invoice';
import type { CollectionRequest, Collector, PresentResult } from '../../collection/collector';
import type { Sql } from '../../db/client';
import { insertPaymentRequest, type NewRequest } from '../../db/queries/payment-requests';
import type { TestApi } from './api';

let counter = 0;

/** A client of the API's agency in `billingMode`. */
export async function newClient(api: TestApi, billingMode = 'manual'): Promise<string> {
  const res = await api.call('POST', '/v1/clients', { name: `Client ${++counter}`, billingMode });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** A one-line pack draft of `totalMinor`. */
export function packDraft(totalMinor = 4500): RequestDraft {
  return {
    currency: 'USD',
    lines: [
      {
        kind: 'pack',
        description: 'Add-on pack: 500 minutes',
        quantity: '1',
        unitAmountMinor: String(totalMinor),
        amountMinor: totalMinor,
        periodStartMs: null,
        periodEndMs: null,
        details: { minutes: 500 },
      },
    ],
    subtotalMinor: totalMinor,
    discountMinor: 0,
    taxMinor: 0,
    totalMinor,
  };
}

/** The fields of a pending pack request for the client (change any with `o`). */
export function newRequest(
  agencyId: string,
  clientId: string,
  o: Partial<NewRequest> = {},
): NewRequest {
  const now = Date.now();
  return {
    agencyId,
    clientId,
    subscriptionId: null,
    type: 'pack',
    periodIndex: null,
    status: 'pending',
    draft: packDraft(),
    issuedAt: new Date(now),
    dueAt: new Date(now + 7 * 86_400_000),
    graceEndsAt: null,
    idempotencyKey: `test:${process.pid}:${++counter}`,
    ...o,
  };
}

/** Issues `n` pending requests for the client; returns their ids. */
export async function issueRequests(
  sql: Sql,
  agencyId: string,
  clientId: string,
  n: number,
  o: Partial<NewRequest> = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { request } = await insertPaymentRequest(sql, newRequest(agencyId, clientId, o));
    ids.push(request.id);
  }
  return ids;
}

/**
 * A collector that records every call and answers with `answer` (which may throw); by default it
 * presents, naming an invoice after the request.
 */
export function recordingCollector(
  answer: (r: CollectionRequest, call: number) => Promise<PresentResult> = (r) =>
    Promise.resolve({
      status: 'presented',
      externalId: `inv_${r.requestId}`,
      hostedUrl: `https://pay.example/${r.requestId}`,
    }),
  name = 'recording',
): Collector & { calls: CollectionRequest[]; callsFor(id: string): number } {
  const calls: CollectionRequest[] = [];
  return {
    name,
    calls,
    callsFor: (id) => calls.filter((c) => c.requestId === id).length,
    present(r) {
      calls.push(r);
      return answer(r, calls.length);
    },
  };
}
