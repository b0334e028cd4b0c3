/**
 * The Stripe collector against stripe-mock: a stripe-mode request becomes an invoice on the
 * agency's connected account (items, invoice with the platform fee, finalize, and pay for
 * auto-charge), every call with the account's Stripe-Account and its own stable idempotency key.
 * stripe-mock keeps no state and returns fixtures, so the tests assert on the recorded requests.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RequestDraft } from '../../billing/invoice';
import { presentDueRequests } from '../../background/collection-presenter';
import { collectorsFor } from '../../background/sweepers';
import { collectionKey } from '../../collection/idempotency';
import { manualCollector } from '../../collection/manual';
import { getClientStripe, saveStripeCustomer, setClientCard } from '../../db/queries/client-stripe';
import { getCollection } from '../../db/queries/collection';
import { saveStripeAccount } from '../../db/queries/stripe';
import { createTestApi, type TestApi } from '../helpers/api';
import { issueRequests, newRequest } from '../helpers/collection';
import { createTestDb, type TestDb } from '../helpers/db';
import { unreachableTemporalClient } from '../helpers/lazy-temporal';
import { testStripePlatform } from '../helpers/stripe';
import { customerCreationKey } from '../../services/stripe-customers';
import { insertPaymentRequest } from '../../db/queries/payment-requests';
import { getRequestInvoiceId } from '../../db/queries/request-stripe';

let db: TestDb;
let api: TestApi;
const temporal = unreachableTemporalClient();
// 2.5% of the flat lines, plus 15 minor units per billable minute.
const { platform, recorder } = testStripePlatform({ flatFeeBps: 250 });
const stripe = { platform, platformRateMinorPerMinute: '15' };

beforeAll(async () => {
  db = await createTestDb();
  api = await createTestApi(db.sql, temporal, { stripe: platform });
});
afterAll(async () => {
  await temporal.connection.close();
  await db?.drop();
});
beforeEach(async () => {
  await db.sql`delete from collection_outbox`;
  recorder.take();
});

let seq = 0;
const soon = () => new Date(Date.now() + 1_000);

/** An agency with a connected account that can take charges (or not). */
async function agencyWithAccount(chargesEnabled = true) {
  const agency = await api.newAgency(`Collector agency ${++seq}`);
  const accountId = `acct_test_collector_${seq}`;
  await saveStripeAccount(
    db.sql,
    { agencyId: agency.agencyId, accountId, type: 'standard', generation: 1 },
    {
      chargesEnabled,
      payoutsEnabled: chargesEnabled,
      detailsSubmitted: true,
      requirementsDue: [],
      disabledReason: null,
    },
  );
  return { ...agency, accountId };
}

/** A stripe-mode client with its customer on the account and a card on file. */
async function stripeClient(
  a: { key: string; agencyId: string; accountId: string },
  collectionMethod: 'charge_automatically' | 'send_invoice',
) {
  const res = await api.call(
    'POST',
    '/v1/clients',
    { name: `Stripe client ${++seq}`, billingMode: 'stripe', collectionMethod },
    a.key,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const clientId = res.body.id as string;
  const customerId = `cus_test_${seq}`;
  await saveStripeCustomer(db.sql, a.agencyId, clientId, a.accountId, customerId);
  await setClientCard(
    db.sql,
    clientId,
    { paymentMethodId: `pm_test_${seq}`, brand: 'visa', last4: '4242', expMonth: 8, expYear: 2030 },
    new Date(),
  );
  return { clientId, customerId };
}

/** A cycle request: flat fee 100.00, 125 billable minutes at 0.50 = 62.50, coupon -10.00. */
function cycleDraft(): RequestDraft {
  return {
    currency: 'USD',
    lines: [
      {
        kind: 'recurring',
        description: 'Growth flat fee',
        quantity: '1',
        unitAmountMinor: '10000',
        amountMinor: 10_000,
        periodStartMs: null,
        periodEndMs: null,
        details: null,
      },
      {
        kind: 'usage',
        description: 'Usage: 125 billable minutes',
        quantity: '125',
        unitAmountMinor: '50',
        amountMinor: 6_250,
        periodStartMs: null,
        periodEndMs: null,
        details: { totalSeconds: 9_000, includedSeconds: 1_500, billableSeconds: 7_500 },
      },
      {
        kind: 'discount',
        description: 'Coupon WELCOME',
        quantity: null,
        unitAmountMinor: null,
        amountMinor: -1_000,
        periodStartMs: null,
        periodEndMs: null,
        details: { couponId: 'cpn_x' },
      },
    ],
    subtotalMinor: 16_250,
    discountMinor: 1_000,
    taxMinor: 0,
    totalMinor: 15_250,
  };
}
// 125 min x 15 = 1875, plus 2.5% of 10000 = 250.
const FEE = 2_125;

async function issueCycle(agencyId: string, clientId: string, days = 7) {
  const issuedAt = new Date();
  const { request } = await insertPaymentRequest(
    db.sql,
    newRequest(agencyId, clientId, {
      type: 'cycle',
      periodIndex: 1,
      draft: cycleDraft(),
      issuedAt,
      dueAt: new Date(issuedAt.getTime() + days * 86_400_000),
    }),
  );
  return request.id;
}

const present = () =>
  presentDueRequests({ sql: db.sql, collectors: collectorsFor(db.sql, stripe), now: soon() });

/** The recorded calls of one presentation of an auto-charge or send_invoice client. */
function expectedCalls(
  requestId: string,
  a: { agencyId: string; accountId: string },
  customerId: string,
  invoice: Record<string, string>,
  pay: boolean,
) {
  const meta = { 'metadata[tally_request_id]': requestId, 'metadata[tally_agency_id]': a.agencyId };
  const call = (path: string, step: string, params: Record<string, string>) => ({
    method: 'POST',
    path,
    account: a.accountId,
    idempotencyKey: collectionKey(requestId, step),
    params,
  });
  const invoiceId = expect.stringMatching(/^in_/);
  const item = (position: number, kind: string, amount: string, description: string) =>
    call('/v1/invoiceitems', `item.${position}`, {
      customer: customerId,
      invoice: invoiceId,
      currency: 'usd',
      amount,
      description,
      ...meta,
      'metadata[tally_line_position]': String(position),
      'metadata[tally_kind]': kind,
    });
  return [
    call('/v1/invoices', 'invoice', {
      customer: customerId,
      currency: 'usd',
      auto_advance: 'false',
      pending_invoice_items_behavior: 'exclude',
      application_fee_amount: String(FEE),
      ...invoice,
      ...meta,
    }),
    item(1, 'recurring', '10000', 'Growth flat fee'),
    item(2, 'usage', '6250', 'Usage: 125 billable minutes'),
    item(3, 'discount', '-1000', 'Coupon WELCOME'),
    call(expect.stringMatching(/^\/v1\/invoices\/in_[^/]+\/finalize$/), 'finalize', {}),
    ...(pay ? [call(expect.stringMatching(/^\/v1\/invoices\/in_[^/]+\/pay$/), 'pay', {})] : []),
  ];
}

describe('the Stripe collector', () => {
  it('presents an auto-charge client’s cycle request as an invoice on the connected account, and a retry sends the same keys', async () => {
    const a = await agencyWithAccount();
    const { clientId, customerId } = await stripeClient(a, 'charge_automatically');
    const requestId = await issueCycle(a.agencyId, clientId);

    expect(await present()).toEqual({ presented: 1, skipped: 0, retrying: 0, gaveUp: 0 });
    const calls = recorder.take();
    expect(calls).toEqual(
      expectedCalls(requestId, a, customerId, { collection_method: 'charge_automatically' }, true),
    );
    // The items go onto the invoice just created, finalize and pay name it too.
    const invoiceId = calls[1]!.params['invoice']!;
    expect(calls[4]!.path).toBe(`/v1/invoices/${invoiceId}/finalize`);
    expect(calls[5]!.path).toBe(`/v1/invoices/${invoiceId}/pay`);
    expect(await getCollection(db.sql, requestId)).toMatchObject({
      status: 'presented',
      collector: 'stripe',
      externalId: invoiceId,
    });
    // The request records its invoice (invoice events find it by that id); stripe-mock's
    // finalized fixture has no number or URLs yet (invoice.finalized brings them).
    const shown = await api.call('GET', `/v1/payment-requests/${requestId}`, undefined, a.key);
    expect(shown.body.stripeInvoice).toEqual({
      id: invoiceId,
      number: null,
      hostedInvoiceUrl: null,
      invoicePdf: null,
    });

    // The same row presented again (a presenter that died before recording): the same calls.
    await db.sql`
      update collection_outbox set status = 'pending', next_attempt_at = now()
      where request_id = ${requestId}`;
    // stripe-mock, keeping no state, names a new invoice where Stripe would answer the same key
    // with the first one again: answered here as Stripe would (the collector refuses a second
    // invoice for a request).
    recorder.answer = (r) =>
      r.method === 'POST' && r.path === '/v1/invoices'
        ? { patch: (body) => ({ ...body, id: invoiceId }) }
        : null;
    try {
      expect((await present()).presented).toBe(1);
    } finally {
      recorder.answer = null;
    }
    const retry = recorder.take();
    expect(retry.map((c) => c.idempotencyKey)).toEqual(calls.map((c) => c.idempotencyKey));
    // Same parameters too (Stripe refuses a key reused with others).
    expect(retry).toEqual(
      expectedCalls(requestId, a, customerId, { collection_method: 'charge_automatically' }, true),
    );
  });

  it('sends a send_invoice client’s invoice with days_until_due and charges nothing', async () => {
    const a = await agencyWithAccount();
    const { clientId, customerId } = await stripeClient(a, 'send_invoice');
    const requestId = await issueCycle(a.agencyId, clientId, 14);

    expect((await present()).presented).toBe(1);
    expect(recorder.take()).toEqual(
      expectedCalls(
        requestId,
        a,
        customerId,
        { collection_method: 'send_invoice', days_until_due: '14' },
        false,
      ),
    );
  });

  it('fails the row permanently when the agency has no account that can take charges', async () => {
    const a = await agencyWithAccount(false);
    const { clientId } = await stripeClient(a, 'charge_automatically');
    const requestId = await issueCycle(a.agencyId, clientId);

    expect(await present()).toEqual({ presented: 0, skipped: 0, retrying: 0, gaveUp: 1 });
    expect(recorder.take()).toEqual([]);
    const row = await getCollection(db.sql, requestId);
    expect(row).toMatchObject({ status: 'failed_permanently' });
    expect(row!.lastError).toMatch(
      /PermanentCollectionError: .*no Stripe account that can take charges/,
    );
  });

  it('refuses a request whose lines do not add up to its total: no call to Stripe', async () => {
    const a = await agencyWithAccount();
    const { clientId } = await stripeClient(a, 'charge_automatically');
    const requestId = await issueCycle(a.agencyId, clientId);
    await db.sql`update payment_requests set total_minor = total_minor + 1 where id = ${requestId}`;

    expect(await present()).toEqual({ presented: 0, skipped: 0, retrying: 0, gaveUp: 1 });
    expect(recorder.take()).toEqual([]);
    expect((await getCollection(db.sql, requestId))!.lastError).toMatch(
      /its lines add up to 15250, its total is 15251/,
    );
  });

  it('leaves manual clients to the manual collector, and without Stripe stripe mode stays manual', async () => {
    const a = await agencyWithAccount();
    const res = await api.call('POST', '/v1/clients', { name: 'Manual client' }, a.key);
    expect(res.status).toBe(201);
    const [requestId] = await issueRequests(db.sql, a.agencyId, res.body.id as string, 1);

    expect((await present()).presented).toBe(1);
    expect(recorder.take()).toEqual([]);
    expect(await getCollection(db.sql, requestId!)).toMatchObject({
      status: 'presented',
      collector: 'manual',
      externalId: null,
    });
    expect(collectorsFor(db.sql, null).stripe).toBe(manualCollector);
    expect(collectorsFor(db.sql, stripe).stripe.name).toBe('stripe');
  });

  it('answers presented when the card is declined, and retries any other failure of pay', async () => {
    const a = await agencyWithAccount();
    const { clientId } = await stripeClient(a, 'charge_automatically');
    const declining = testStripePlatform({ flatFeeBps: 250 });
    let payError: Error = new Stripe.errors.StripeCardError({
      type: 'card_error',
      code: 'card_declined',
      message: 'Your card was declined.',
    });
    // stripe-mock never declines: this client's pay answers with the error instead.
    declining.platform.stripe.invoices.pay = () => Promise.reject(payError);
    const collectors = collectorsFor(db.sql, {
      platform: declining.platform,
      platformRateMinorPerMinute: '15',
    });
    const declined = await issueCycle(a.agencyId, clientId);
    expect(await presentDueRequests({ sql: db.sql, collectors, now: soon() })).toMatchObject({
      presented: 1,
    });
    expect(await getCollection(db.sql, declined)).toMatchObject({
      status: 'presented',
      externalId: expect.stringMatching(/^in_/),
    });

    await db.sql`delete from collection_outbox`;
    payError = new Stripe.errors.StripeAPIError({ type: 'api_error', message: 'try again' });
    const failed = await issueCycle(a.agencyId, clientId);
    expect(await presentDueRequests({ sql: db.sql, collectors, now: soon() })).toMatchObject({
      presented: 0,
      retrying: 1,
    });
    expect(await getCollection(db.sql, failed)).toMatchObject({ status: 'pending' });
  });

  it('creates the client’s customer once on the account when it has none yet', async () => {
    const a = await agencyWithAccount();
    const res = await api.call(
      'POST',
      '/v1/clients',
      { name: 'No customer yet', billingMode: 'stripe', collectionMethod: 'send_invoice' },
      a.key,
    );
    expect(res.status).toBe(201);
    const clientId = res.body.id as string;
    await issueCycle(a.agencyId, clientId);

    expect((await present()).presented).toBe(1);
    const calls = recorder.take();
    expect(calls[0]).toMatchObject({
      path: '/v1/customers',
      account: a.accountId,
      idempotencyKey: customerCreationKey(clientId, a.accountId),
    });
    const stored = await getClientStripe(db.sql, a.agencyId, clientId);
    expect(stored).toMatchObject({ customerAccount: a.accountId });
    expect(calls[1]).toMatchObject({
      path: '/v1/invoices',
      params: { customer: stored!.customerId, collection_method: 'send_invoice' },
    });
  });
});

describe('the Stripe collector after Stripe forgot its keys (24 h)', () => {
  /** The row due again as a retry (its first claim spent) queued `hours` ago. */
  const queuedAgo = (requestId: string, hours: number) => db.sql`
    update collection_outbox set status = 'pending', next_attempt_at = now(),
      attempts = greatest(attempts, 1), created_at = now() - make_interval(hours => ${hours})
    where request_id = ${requestId}`;

  it('a retry queued more than 23 h ago resumes the recorded invoice instead of creating another', async () => {
    const a = await agencyWithAccount();
    const { clientId, customerId } = await stripeClient(a, 'charge_automatically');
    const requestId = await issueCycle(a.agencyId, clientId);
    expect((await present()).presented).toBe(1);
    const invoiceId = recorder.take()[1]!.params['invoice']!;
    expect(await getRequestInvoiceId(db.sql, requestId)).toBe(invoiceId);

    // Within the keys' lifetime a retry sends the same calls (see above); 25 h later it looks first.
    await queuedAgo(requestId, 25);
    expect((await present()).presented).toBe(1);
    const calls = recorder.take();
    const read = (path: string) => ({
      method: 'GET',
      path,
      account: a.accountId,
      idempotencyKey: null,
      params: expect.any(Object),
    });
    // stripe-mock's invoice is always a draft with no Tally lines: every item goes on it, then
    // finalize and pay (a real resumed invoice past draft skips them; one paid is not paid again).
    const expected = expectedCalls(
      requestId,
      a,
      customerId,
      { collection_method: 'charge_automatically' },
      true,
    ).slice(1);
    expect(calls).toEqual([
      read(`/v1/invoices/${invoiceId}`),
      read(`/v1/invoices/${invoiceId}/lines`),
      ...expected,
    ]);
    expect(calls.filter((c) => c.method === 'POST' && c.path === '/v1/invoices')).toEqual([]);
    expect(
      calls.filter((c) => c.params['invoice']).every((c) => c.params['invoice'] === invoiceId),
    ).toBe(true);
  });

  it('with no invoice recorded (a crash between create and record), it searches the account by request id before creating', async () => {
    const a = await agencyWithAccount();
    const { clientId } = await stripeClient(a, 'send_invoice');
    const requestId = await issueCycle(a.agencyId, clientId);
    await queuedAgo(requestId, 30);
    expect((await present()).presented).toBe(1);
    const calls = recorder.take();
    expect(calls[0]).toEqual({
      method: 'GET',
      path: '/v1/invoices/search',
      account: a.accountId,
      idempotencyKey: null,
      params: { query: `metadata['tally_request_id']:'${requestId}'`, limit: '10' },
    });
    // stripe-mock's search answers an invoice of no request of ours: so it creates, same key.
    expect(calls[1]).toMatchObject({
      method: 'POST',
      path: '/v1/invoices',
      account: a.accountId,
      idempotencyKey: collectionKey(requestId, 'invoice'),
    });
  });

  it('a first claim, or a retry within 23 h, looks nothing up', async () => {
    const a = await agencyWithAccount();
    const { clientId } = await stripeClient(a, 'send_invoice');
    const requestId = await issueCycle(a.agencyId, clientId);
    await queuedAgo(requestId, 22);
    expect((await present()).presented).toBe(1);
    expect(recorder.take()[0]).toMatchObject({ method: 'POST', path: '/v1/invoices' });
  });

  it('a request settled while it was being presented is not charged', async () => {
    const a = await agencyWithAccount();
    const { clientId } = await stripeClient(a, 'charge_automatically');
    const racing = testStripePlatform({ flatFeeBps: 250 });
    const finalize = racing.platform.stripe.invoices.finalizeInvoice.bind(
      racing.platform.stripe.invoices,
    );
    let requestId = '';
    // The agency marks it paid (or invoice.paid lands) between finalize and pay.
    racing.platform.stripe.invoices.finalizeInvoice = (async (
      ...args: Parameters<typeof finalize>
    ) => {
      const answer = await finalize(...args);
      await db.sql`update payment_requests set status = 'paid', paid_at = now() where id = ${requestId}`;
      return answer;
    }) as typeof finalize;
    const collectors = collectorsFor(db.sql, {
      platform: racing.platform,
      platformRateMinorPerMinute: '15',
    });
    requestId = await issueCycle(a.agencyId, clientId);
    expect((await presentDueRequests({ sql: db.sql, collectors, now: soon() })).presented).toBe(1);
    const paths = racing.recorder.take().map((c) => c.path);
    expect(paths.some((p) => p.endsWith('/finalize'))).toBe(true);
    expect(paths.filter((p) => p.endsWith('/pay'))).toEqual([]);
  });

  it('a request that already names another invoice: the new one is neither finalized nor paid', async () => {
    const a = await agencyWithAccount();
    const { clientId } = await stripeClient(a, 'charge_automatically');
    const requestId = await issueCycle(a.agencyId, clientId);
    await db.sql`update payment_requests set stripe_invoice_id = ${`in_other_${requestId}`}
      where id = ${requestId}`;
    recorder.take();
    expect(await present()).toEqual({ presented: 0, skipped: 0, retrying: 0, gaveUp: 1 });
    const paths = recorder.take().map((c) => c.path);
    expect(paths).toContain('/v1/invoices');
    expect(paths.filter((p) => p.endsWith('/finalize') || p.endsWith('/pay'))).toEqual([]);
    const row = await getCollection(db.sql, requestId);
    expect(row!.lastError).toMatch(/already presented as another Stripe invoice/);
    const [stored] =
      await db.sql`select stripe_invoice_id from payment_requests where id = ${requestId}`;
    expect(stored!.stripe_invoice_id).toBe(`in_other_${requestId}`);
  });
});
