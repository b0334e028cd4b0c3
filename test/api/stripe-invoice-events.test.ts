/**
 * Invoice events into payment outcomes, driven by events signed the way Stripe signs them and
 * POSTed raw to the Connect endpoint: invoice.paid / payment_failed / payment_action_required
 * find their request (by the invoice id the collector recorded, else the invoice's metadata) and
 * record its outcome as a manual mark would; replays do nothing; order never moves a request
 * backwards; another agency's request and unknown accounts are never touched. The requests here
 * have no live subscription (packs, one-time), so the payments service marks them in Postgres;
 * test/workflow/stripe-invoice-outcomes.test.ts covers the workflow path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStripeEvent, saveStripeAccount } from '../../db/queries/stripe';
import { insertPaymentRequest } from '../../db/queries/payment-requests';
import { recordRequestInvoice } from '../../db/queries/request-stripe';
import { decideInvoiceOutcome } from '../../services/stripe-invoice-events';
import { createTestApi, type TestApi } from '../helpers/api';
import { newRequest } from '../helpers/collection';
import { createTestDb, type TestDb } from '../helpers/db';
import { unreachableTemporalClient } from '../helpers/lazy-temporal';
import { signStripePayload, stripeEventBody, testStripePlatform } from '../helpers/stripe';

let db: TestDb;
let api: TestApi;
const temporal = unreachableTemporalClient();
const { platform, recorder } = testStripePlatform();

beforeAll(async () => {
  db = await createTestDb();
  api = await createTestApi(db.sql, temporal, { stripe: platform });
});
afterAll(async () => {
  await temporal.connection.close();
  await db?.drop();
});

let seq = 0;
const now = () => Math.floor(Date.now() / 1000);

/** An agency with a connected account, a stripe-mode client and one pending pack request. */
async function presentedRequest(o: { recordInvoice?: boolean } = {}) {
  const agency = await api.newAgency(`Invoice agency ${++seq}`);
  const accountId = `acct_test_invoices_${process.pid}_${seq}`;
  await saveStripeAccount(
    db.sql,
    { agencyId: agency.agencyId, accountId, type: 'standard', generation: 1 },
    {
      chargesEnabled: true,
      payoutsEnabled: true,
      detailsSubmitted: true,
      requirementsDue: [],
      disabledReason: null,
    },
  );
  const client = await api.call(
    'POST',
    '/v1/clients',
    { name: `Card client ${seq}`, billingMode: 'stripe' },
    agency.key,
  );
  expect(client.status).toBe(201);
  const { request } = await insertPaymentRequest(
    db.sql,
    newRequest(agency.agencyId, client.body.id),
  );
  const invoiceId = `in_test_${process.pid}_${seq}`;
  if (o.recordInvoice ?? true) await recordRequestInvoice(db.sql, request.id, { invoiceId });
  return { ...agency, accountId, requestId: request.id, invoiceId };
}

type Presented = Awaited<ReturnType<typeof presentedRequest>>;

/** An invoice event body for the request's invoice. */
function invoiceEvent(
  p: Presented,
  type: string,
  o: { created?: number; status?: string; account?: string; metadataRequestId?: string } = {},
) {
  const status = o.status ?? (type === 'invoice.paid' ? 'paid' : 'open');
  return stripeEventBody({
    type,
    account: o.account ?? p.accountId,
    created: o.created ?? now(),
    object: {
      id: p.invoiceId,
      object: 'invoice',
      status,
      number: `TALLY-${seq}-0001`,
      hosted_invoice_url: `https://invoice.stripe.com/i/${p.invoiceId}`,
      invoice_pdf: `https://pay.stripe.com/invoice/${p.invoiceId}/pdf`,
      amount_due: 4500,
      currency: 'usd',
      metadata: { tally_request_id: o.metadataRequestId ?? p.requestId },
    },
  });
}

async function deliver(body: string, signature = signStripePayload(body)) {
  const res = await api.app.request('/stripe/webhooks', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

const request = async (p: Presented) =>
  (await api.call('GET', `/v1/payment-requests/${p.requestId}`, undefined, p.key)).body;

const outcomeEvents = async (p: Presented) =>
  (
    await db.sql<{ type: string }[]>`
      select type from events where subject_id = ${p.requestId} and type like 'payment_request.%'
        and type <> 'payment_request.issued'
      order by id`
  ).map((e) => e.type);

describe('invoice events into payment outcomes', () => {
  it('invoice.paid marks the request paid, with the invoice number and URLs; a replay does nothing', async () => {
    const p = await presentedRequest();
    const body = invoiceEvent(p, 'invoice.paid');
    expect(await deliver(body)).toEqual({
      status: 200,
      body: { received: true, outcome: 'processed' },
    });
    const paid = await request(p);
    expect(paid).toMatchObject({
      status: 'paid',
      paidAt: expect.any(String),
      externalReference: p.invoiceId,
      stripeInvoice: {
        id: p.invoiceId,
        number: `TALLY-${seq}-0001`,
        hostedInvoiceUrl: `https://invoice.stripe.com/i/${p.invoiceId}`,
        invoicePdf: `https://pay.stripe.com/invoice/${p.invoiceId}/pdf`,
      },
    });
    // A paid event is final at Stripe: no re-read.
    expect(recorder.take()).toEqual([]);
    expect(await outcomeEvents(p)).toEqual(['payment_request.paid']);

    expect(await deliver(body)).toEqual({
      status: 200,
      body: { received: true, outcome: 'duplicate' },
    });
    expect(await request(p)).toEqual(paid);
    expect(await outcomeEvents(p)).toEqual(['payment_request.paid']);
    // The manual path agrees: it is paid already.
    const mark = await api.call(
      'POST',
      `/v1/payment-requests/${p.requestId}/mark`,
      { status: 'paid' },
      p.key,
    );
    expect(mark.status).toBe(409);
  });

  it('finds its request by the invoice metadata when the collector had not recorded the invoice yet', async () => {
    const p = await presentedRequest({ recordInvoice: false });
    expect((await request(p)).stripeInvoice).toBeNull();
    expect((await deliver(invoiceEvent(p, 'invoice.paid'))).body.outcome).toBe('processed');
    expect(await request(p)).toMatchObject({ status: 'paid', stripeInvoice: { id: p.invoiceId } });
  });

  it('invoice.finalized records the number and URLs and changes no status', async () => {
    const p = await presentedRequest();
    expect(
      (await deliver(invoiceEvent(p, 'invoice.finalized', { status: 'open' }))).body.outcome,
    ).toBe('processed');
    expect(await request(p)).toMatchObject({
      status: 'pending',
      stripeInvoice: { id: p.invoiceId, number: `TALLY-${seq}-0001` },
    });
  });

  it('invoice.payment_failed re-reads the invoice on the connected account and records a failure; a later invoice.paid records the payment', async () => {
    const p = await presentedRequest();
    const t = now() - 60;
    recorder.take();
    expect(
      (await deliver(invoiceEvent(p, 'invoice.payment_failed', { created: t }))).body.outcome,
    ).toBe('processed');
    expect(recorder.take()).toEqual([
      {
        method: 'GET',
        path: `/v1/invoices/${p.invoiceId}`,
        account: p.accountId,
        idempotencyKey: null,
        params: {},
      },
    ]);
    expect(await request(p)).toMatchObject({ status: 'failed', failedAt: expect.any(String) });

    await deliver(invoiceEvent(p, 'invoice.paid', { created: t + 30 }));
    expect((await request(p)).status).toBe('paid');
    expect(await outcomeEvents(p)).toEqual(['payment_request.failed', 'payment_request.paid']);
  });

  it('invoice.payment_action_required is a failed attempt until the client authenticates and pays', async () => {
    const p = await presentedRequest();
    await deliver(invoiceEvent(p, 'invoice.payment_action_required'));
    expect((await request(p)).status).toBe('failed');
    await deliver(invoiceEvent(p, 'invoice.paid'));
    expect((await request(p)).status).toBe('paid');
  });
});

describe('invoice events never move a request backwards', () => {
  it('a failure delivered after the success (older or newer) is ignored: paid stays paid', async () => {
    const p = await presentedRequest();
    const t = now() - 120;
    await deliver(invoiceEvent(p, 'invoice.paid', { created: t }));
    recorder.take();
    for (const [type, created] of [
      ['invoice.payment_failed', t - 30],
      ['invoice.payment_action_required', t - 10],
      ['invoice.payment_failed', t + 30],
    ] as const) {
      const res = await deliver(invoiceEvent(p, type, { created }));
      expect(res).toEqual({ status: 200, body: { received: true, outcome: 'processed' } });
    }
    // Settled: nothing is re-read, nothing recorded.
    expect(recorder.take()).toEqual([]);
    expect((await request(p)).status).toBe('paid');
    expect(await outcomeEvents(p)).toEqual(['payment_request.paid']);
  });

  it('a late payment_intent.canceled never flips a paid request (lago-api #5630)', async () => {
    const p = await presentedRequest();
    await deliver(invoiceEvent(p, 'invoice.paid'));
    const canceled = stripeEventBody({
      type: 'payment_intent.canceled',
      account: p.accountId,
      object: {
        id: `pi_test_${seq}`,
        object: 'payment_intent',
        status: 'canceled',
        invoice: p.invoiceId,
        metadata: { tally_request_id: p.requestId },
      },
    });
    expect((await deliver(canceled)).body.outcome).toBe('stored');
    expect((await request(p)).status).toBe('paid');
    expect(await outcomeEvents(p)).toEqual(['payment_request.paid']);
  });

  it('a paid event that arrives after the manual mark records nothing more', async () => {
    const p = await presentedRequest();
    const mark = await api.call(
      'POST',
      `/v1/payment-requests/${p.requestId}/mark`,
      { status: 'paid', externalReference: 'wire-42' },
      p.key,
    );
    expect(mark.status).toBe(200);
    expect((await deliver(invoiceEvent(p, 'invoice.paid'))).status).toBe(200);
    expect(await request(p)).toMatchObject({ status: 'paid', externalReference: 'wire-42' });
    expect(await outcomeEvents(p)).toEqual(['payment_request.paid']);
  });

  it('the ordering rule itself: paid is final, older failures and unpayable invoices change nothing', () => {
    const base = {
      type: 'invoice.payment_failed' as const,
      created: new Date(2_000_000),
      applied: null,
      requestStatus: 'pending',
      eventStatus: 'open',
      reread: 'open',
    };
    expect(decideInvoiceOutcome(base)).toEqual({ apply: 'failed' });
    expect(decideInvoiceOutcome({ ...base, applied: new Date(3_000_000) })).toEqual({
      apply: null,
      why: 'older_than_applied',
    });
    // Same second as the last applied: not older.
    expect(decideInvoiceOutcome({ ...base, applied: new Date(2_000_000) })).toEqual({
      apply: 'failed',
    });
    // Stripe says paid now: the success event is late; record it.
    expect(decideInvoiceOutcome({ ...base, reread: 'paid', applied: new Date(3e6) })).toEqual({
      apply: 'paid',
    });
    expect(decideInvoiceOutcome({ ...base, reread: 'void' })).toEqual({
      apply: null,
      why: 'invoice_not_payable',
    });
    // A draft re-read (stripe-mock's fixture) says nothing: the event's object decides.
    expect(decideInvoiceOutcome({ ...base, reread: 'draft', eventStatus: 'paid' })).toEqual({
      apply: 'paid',
    });
    expect(decideInvoiceOutcome({ ...base, reread: 'draft' })).toEqual({ apply: 'failed' });
    for (const requestStatus of ['paid', 'canceled'])
      for (const type of [
        'invoice.paid',
        'invoice.payment_failed',
        'invoice.payment_action_required',
      ] as const)
        expect(decideInvoiceOutcome({ ...base, type, requestStatus })).toEqual({
          apply: null,
          why: 'request_settled',
        });
    expect(
      decideInvoiceOutcome({
        ...base,
        type: 'invoice.paid',
        applied: new Date(9e9),
        requestStatus: 'failed',
        reread: null,
      }),
    ).toEqual({ apply: 'paid' });
  });
});

describe('the payment request’s Stripe invoice in the API document', () => {
  it('is documented on PaymentRequest (id, number, hosted page, PDF; null outside stripe mode)', async () => {
    const doc: any = await (await api.app.request('/openapi.json')).json();
    const schemas = doc.components.schemas;
    expect(schemas.PaymentRequest.properties.stripeInvoice).toBeDefined();
    expect(schemas.PaymentRequest.required).toContain('stripeInvoice');
    expect(Object.keys(schemas.PaymentRequestStripeInvoice.properties).sort()).toEqual([
      'hostedInvoiceUrl',
      'id',
      'invoicePdf',
      'number',
    ]);
    const p = await presentedRequest({ recordInvoice: false });
    expect((await request(p)).stripeInvoice).toBeNull();
  });
});

describe('invoice events: routing', () => {
  it('an unknown account: 200, logged, nothing changed; another agency’s request is never touched', async () => {
    const p = await presentedRequest();
    const other = await presentedRequest();
    const unknown = await deliver(invoiceEvent(p, 'invoice.paid', { account: 'acct_nobody' }));
    expect(unknown).toEqual({ status: 200, body: { received: true, outcome: 'unknown_account' } });
    // The other agency's account names this request in its metadata: not its request.
    const foreign = invoiceEvent({ ...other, invoiceId: `in_foreign_${seq}` }, 'invoice.paid', {
      metadataRequestId: p.requestId,
    });
    expect((await deliver(foreign)).status).toBe(200);
    expect((await request(p)).status).toBe('pending');
    expect((await request(other)).status).toBe('pending');
  });

  it('Stripe unreachable for the re-read: 503 and nothing stored, so Stripe’s redelivery is handled', async () => {
    const p = await presentedRequest();
    const down = await createTestApi(db.sql, temporal, {
      stripe: testStripePlatform({ apiBase: 'http://127.0.0.1:1' }).platform,
    });
    const body = invoiceEvent(p, 'invoice.payment_failed');
    const res = await down.app.request('/stripe/webhooks', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload(body) },
      body,
    });
    expect(res.status).toBe(503);
    expect((await request(p)).status).toBe('pending');
    expect(await getStripeEvent(db.sql, JSON.parse(body).id)).toBeNull();
    // Redelivered once Stripe answers: handled.
    expect((await deliver(body)).body.outcome).toBe('processed');
    expect((await request(p)).status).toBe('failed');
  });

  it('a bad or stale signature on an invoice event: 400 and nothing recorded', async () => {
    const p = await presentedRequest();
    const body = invoiceEvent(p, 'invoice.paid');
    expect((await deliver(body, signStripePayload(body, { secret: 'whsec_other' }))).status).toBe(
      400,
    );
    expect((await deliver(body, signStripePayload(body, { timestamp: now() - 3600 }))).status).toBe(
      400,
    );
    expect((await request(p)).status).toBe('pending');
  });
});
