/**
 * The collection outbox is written with the request: a pack applied through the API has exactly
 * one row; a request insert rolled back leaves none; a repeated insert (same idempotency key)
 * leaves one; the row records the billing mode the request is billed under (a subscription's,
 * frozen at its start; else the client's at issue).
 */
import { describe, expect, it } from 'vitest';
import { getCollection } from '../../db/queries/collection';
import {
  insertPaymentRequest,
  insertPaymentRequestIn,
  insertRequestOnce,
} from '../../db/queries/payment-requests';
import { insertSubscription } from '../../db/queries/subscriptions';
import { newId } from '../../lib/ids';
import { useTestApi } from '../helpers/api';
import { newClient, newRequest } from '../helpers/collection';

const { db, api } = useTestApi();

const outboxRows = async (requestId: string) =>
  db.sql`select * from collection_outbox where request_id = ${requestId}`;

describe('the collection outbox row', () => {
  it('is written once for a pack applied through the API', async () => {
    const plan = await api.call('POST', '/v1/plans', {
      name: 'Voice',
      currency: 'USD',
      flatFeeMinor: 2500,
      rhythm: 'month',
      packsAllowed: true,
    });
    expect(plan.status, JSON.stringify(plan.body)).toBe(201);
    const clientId = await newClient(api);
    expect(
      (await api.call('PUT', `/v1/clients/${clientId}/plan`, { planId: plan.body.id })).status,
    ).toBe(200);
    const pack = await api.call('POST', '/v1/packs', {
      name: '500 minutes',
      minutes: 500,
      priceMinor: 4500,
      currency: 'USD',
    });
    expect(
      (await api.call('POST', `/v1/clients/${clientId}/packs`, { packId: pack.body.id })).status,
    ).toBe(201);

    const applied = await api.call('POST', `/v1/clients/${clientId}/packs/${pack.body.id}/apply`, {
      status: 'pending',
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    const requestId = applied.body.paymentRequest.id as string;
    expect(await outboxRows(requestId)).toHaveLength(1);
    expect(await getCollection(db.sql, requestId)).toMatchObject({
      requestId,
      agencyId: api.agencyId,
      clientId,
      billingMode: 'manual',
      status: 'pending',
      attempts: 0,
      lastError: null,
      collector: null,
      externalId: null,
      hostedUrl: null,
      presentedAt: null,
    });
  });

  it('is rolled back with its request', async () => {
    const clientId = await newClient(api);
    const req = newRequest(api.agencyId, clientId);
    const rolledBack = new Error('roll back');
    let requestId = '';
    await expect(
      db.sql.begin(async (tx) => {
        ({
          request: { id: requestId },
        } = await insertPaymentRequestIn(tx, req));
        // Written in the request's transaction: there inside it...
        expect(
          await tx`select 1 from collection_outbox where request_id = ${requestId}`,
        ).toHaveLength(1);
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    // ...and gone with it.
    expect(await db.sql`select 1 from payment_requests where id = ${requestId}`).toHaveLength(0);
    expect(await outboxRows(requestId)).toHaveLength(0);

    const id = newId('req');
    await expect(
      db.sql.begin(async (tx) => {
        expect(await insertRequestOnce(tx, { ...newRequest(api.agencyId, clientId), id })).toBe(
          true,
        );
        expect(await tx`select 1 from collection_outbox where request_id = ${id}`).toHaveLength(1);
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    expect(await outboxRows(id)).toHaveLength(0);
  });

  it('is written once however often the insert is retried', async () => {
    const clientId = await newClient(api);
    const cycle = {
      ...newRequest(api.agencyId, clientId, { type: 'cycle', periodIndex: 1 }),
      id: newId('req'),
    };
    expect(await db.sql.begin((tx) => insertRequestOnce(tx, cycle))).toBe(true);
    expect(await db.sql.begin((tx) => insertRequestOnce(tx, cycle))).toBe(false);
    // A retried activity chooses the same id and key; the request and its row stay one.
    expect(await db.sql.begin((tx) => insertRequestOnce(tx, cycle))).toBe(false);
    expect(await outboxRows(cycle.id)).toHaveLength(1);
    expect(await getCollection(db.sql, cycle.id)).toMatchObject({
      clientId,
      billingMode: 'manual',
      status: 'pending',
    });

    const pack = newRequest(api.agencyId, clientId);
    const first = await insertPaymentRequest(db.sql, pack);
    const again = await insertPaymentRequest(db.sql, pack);
    expect([first.created, again.created]).toEqual([true, false]);
    expect(again.request.id).toBe(first.request.id);
    expect(await outboxRows(first.request.id)).toHaveLength(1);
  });

  it("records the client's billing mode when the request was issued", async () => {
    const clientId = await newClient(api, 'stripe');
    const { request } = await insertPaymentRequest(db.sql, newRequest(api.agencyId, clientId));
    await db.sql`update clients set billing_mode = 'manual' where id = ${clientId}`;
    const { request: later } = await insertPaymentRequest(
      db.sql,
      newRequest(api.agencyId, clientId),
    );
    expect((await getCollection(db.sql, request.id))?.billingMode).toBe('stripe');
    expect((await getCollection(db.sql, later.id))?.billingMode).toBe('manual');
  });

  it("records a subscription's billing mode, frozen at its start, for its requests", async () => {
    const clientId = await newClient(api, 'stripe');
    const plan = await api.call('POST', '/v1/plans', {
      name: 'Outbox plan',
      currency: 'USD',
      flatFeeMinor: 1000,
      rhythm: 'month',
    });
    expect(plan.status, JSON.stringify(plan.body)).toBe(201);
    const subscriptionId = newId('sub');
    await insertSubscription(db.sql, {
      id: subscriptionId,
      agencyId: api.agencyId,
      clientId,
      planId: plan.body.id,
      terms: {} as never,
      agentIds: [],
      billingMode: 'stripe',
      status: 'active',
      startAt: new Date(),
      coupon: null,
      workflowId: `subscription-${subscriptionId}`,
    });
    // The client moves to manual; its running subscription still bills in stripe mode.
    await db.sql`update clients set billing_mode = 'manual' where id = ${clientId}`;
    const cycle = {
      ...newRequest(api.agencyId, clientId, { type: 'cycle', periodIndex: 0, subscriptionId }),
      id: newId('req'),
    };
    await db.sql.begin((tx) => insertRequestOnce(tx, cycle));
    const { request: pack } = await insertPaymentRequest(
      db.sql,
      newRequest(api.agencyId, clientId),
    );
    expect((await getCollection(db.sql, cycle.id))?.billingMode).toBe('stripe');
    expect((await getCollection(db.sql, pack.id))?.billingMode).toBe('manual');
  });

  it('is written for every type of request, paid ones too', async () => {
    const clientId = await newClient(api);
    for (const o of [
      { type: 'one_time' as const },
      { type: 'pack' as const, status: 'paid' as const },
      { type: 'cycle' as const, periodIndex: 0 },
    ]) {
      const { request } = await insertPaymentRequest(db.sql, newRequest(api.agencyId, clientId, o));
      expect(await outboxRows(request.id), JSON.stringify(o)).toHaveLength(1);
    }
  });
});
