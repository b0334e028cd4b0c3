/**
 * Clients in stripe mode against stripe-mock: the Customer created once on the agency's
 * connected account with a key derived from the client, the Checkout session in setup mode, the
 * 409s, the card on file from a signed checkout.session.completed (and removed by
 * payment_method.detached), and the access reason `payment_method_missing` with its events.
 * stripe-mock returns fixtures (a SetupIntent's card is always a Visa 4242, 8/2030), so the tests
 * assert on what the code asked Stripe for and what it stored from the answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recomputeAccess } from '../../db/queries/access';
import { customerCreationKey } from '../../services/stripe-customers';
import { createTestApi, type TestApi } from '../helpers/api';
import { createTestDb, type TestDb } from '../helpers/db';
import { unreachableTemporalClient } from '../helpers/lazy-temporal';
import { signStripePayload, stripeEventBody, testStripePlatform } from '../helpers/stripe';

let db: TestDb;
let api: TestApi;
let off: TestApi;
let withDefaults: TestApi;
const temporal = unreachableTemporalClient();
const { platform, recorder } = testStripePlatform();
const defaults = testStripePlatform({
  setupSuccessUrl: 'https://portal.example/card/saved',
  setupCancelUrl: 'https://portal.example/card/canceled',
});

beforeAll(async () => {
  db = await createTestDb();
  api = await createTestApi(db.sql, temporal, { stripe: platform });
  off = await createTestApi(db.sql, temporal);
  withDefaults = await createTestApi(db.sql, temporal, { stripe: defaults.platform });
});
afterAll(async () => {
  await temporal.connection.close();
  await db?.drop();
});

const now = () => Math.floor(Date.now() / 1000);
const urls = { successUrl: 'https://portal.example/ok', cancelUrl: 'https://portal.example/no' };

async function deliver(body: string, app = api.app) {
  const res = await app.request('/stripe/webhooks', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload(body) },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** A new agency whose connected account has charges enabled (as account.updated reports). */
async function chargeableAgency(name: string, app: TestApi = api) {
  const agency = await app.newAgency(name);
  const res = await app.call('POST', '/v1/agency/stripe/connect', {}, agency.key);
  expect(res.status).toBe(200);
  const accountId = res.body.connection.accountId as string;
  const updated = stripeEventBody({
    type: 'account.updated',
    account: accountId,
    created: now() - 600,
    object: {
      id: accountId,
      object: 'account',
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
      requirements: { currently_due: [], disabled_reason: null },
    },
  });
  expect((await deliver(updated, app.app)).body.outcome).toBe('processed');
  recorder.take();
  defaults.recorder.take();
  return { ...agency, accountId };
}

async function newClient(key: string, fields: Record<string, unknown> = {}, app: TestApi = api) {
  const res = await app.call('POST', '/v1/clients', { name: 'Dental Co', ...fields }, key);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

const access = async (clientId: string, key: string) =>
  (await api.call('GET', `/v1/clients/${clientId}/access`, undefined, key)).body;
const accessEvents = async (clientId: string, key: string) =>
  (
    await api.call('GET', `/v1/events?type=access.changed&clientId=${clientId}`, undefined, key)
  ).body.data.filter((e: any) => e.clientId === clientId);

/** A running subscription row (its workflow is not needed to compute access). */
async function activeSubscription(agencyId: string, clientId: string) {
  const [plan] = await db.sql<{ id: string }[]>`
    insert into plans (id, agency_id, name, currency, flat_fee_minor, rhythm)
    values (${`pln_${Math.random().toString(36).slice(2)}`}, ${agencyId}, 'Growth', 'USD', 1000,
      'month')
    returning id`;
  const id = `sub_${Math.random().toString(36).slice(2)}`;
  await db.sql`
    insert into subscriptions (id, agency_id, client_id, plan_id, terms, billing_mode, status,
      start_at, workflow_id)
    values (${id}, ${agencyId}, ${clientId}, ${plan!.id}, ${db.sql.json({})}, 'stripe', 'active',
      now(), ${`subscription-${id}`})`;
  return id;
}

/** A checkout.session.completed for a setup session of the customer. */
function setupCompleted(
  accountId: string,
  customerId: string,
  o: { created?: number; session?: string; setupIntent?: string } = {},
) {
  return stripeEventBody({
    type: 'checkout.session.completed',
    account: accountId,
    created: o.created ?? now(),
    object: {
      id: o.session ?? `cs_test_${Math.random().toString(36).slice(2)}`,
      object: 'checkout.session',
      mode: 'setup',
      status: 'complete',
      customer: customerId,
      setup_intent: o.setupIntent ?? 'seti_test_card',
    },
  });
}

describe('POST /v1/clients/{id}/payment-method/setup', () => {
  it('creates the customer once on the connected account, then a setup session for it', async () => {
    const a = await chargeableAgency('Setup agency');
    const clientId = await newClient(a.key, { billingMode: 'stripe', email: 'ops@dental.example' });
    const first = await api.call(
      'POST',
      `/v1/clients/${clientId}/payment-method/setup`,
      urls,
      a.key,
    );
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const customerId = first.body.customerId as string;
    expect(customerId).toMatch(/^cus_/);
    expect(first.body).toMatchObject({
      object: 'payment_method_setup',
      clientId,
      url: expect.stringMatching(/^https:\/\/checkout\.stripe\.com\//),
      sessionId: expect.stringMatching(/^cs_/),
      expiresAt: expect.any(String),
    });
    const session = {
      method: 'POST',
      path: '/v1/checkout/sessions',
      account: a.accountId,
      idempotencyKey: expect.any(String),
      params: {
        mode: 'setup',
        customer: customerId,
        currency: 'usd',
        success_url: urls.successUrl,
        cancel_url: urls.cancelUrl,
        client_reference_id: clientId,
        'metadata[tally_client_id]': clientId,
        'setup_intent_data[metadata][tally_client_id]': clientId,
      },
    };
    expect(recorder.take()).toEqual([
      {
        method: 'POST',
        path: '/v1/customers',
        account: a.accountId,
        idempotencyKey: customerCreationKey(clientId, a.accountId),
        params: { 'metadata[tally_client_id]': clientId, 'metadata[tally_agency_id]': a.agencyId },
      },
      session,
    ]);
    const [row] = await db.sql`
      select stripe_customer_id, stripe_customer_account from clients where id = ${clientId}`;
    expect(row).toEqual({ stripe_customer_id: customerId, stripe_customer_account: a.accountId });

    // A second setup reuses the stored customer: one more session, no customer create.
    const second = await api.call(
      'POST',
      `/v1/clients/${clientId}/payment-method/setup`,
      urls,
      a.key,
    );
    expect(second.status).toBe(200);
    expect(second.body.customerId).toBe(customerId);
    expect(recorder.take()).toEqual([session]);
  });

  it('two setups at once ask Stripe with one key, and one customer is stored', async () => {
    const a = await chargeableAgency('Racing setup agency');
    const clientId = await newClient(a.key, { billingMode: 'stripe' });
    const [x, y] = await Promise.all([
      api.call('POST', `/v1/clients/${clientId}/payment-method/setup`, urls, a.key),
      api.call('POST', `/v1/clients/${clientId}/payment-method/setup`, urls, a.key),
    ]);
    expect([x.status, y.status]).toEqual([200, 200]);
    const creates = recorder.take().filter((r) => r.path === '/v1/customers');
    // stripe-mock answers each create anew; Stripe answers both with one customer (one key).
    expect(creates.map((r) => r.idempotencyKey)).toEqual(
      creates.map(() => customerCreationKey(clientId, a.accountId)),
    );
    const [row] = await db.sql`select stripe_customer_id from clients where id = ${clientId}`;
    expect([x.body.customerId, y.body.customerId]).toContain(row!.stripe_customer_id);
  });

  it('uses the configured return URLs when the body gives none, and refuses bad ones', async () => {
    const a = await chargeableAgency('Default URL agency', withDefaults);
    const clientId = await newClient(a.key, { billingMode: 'stripe' }, withDefaults);
    const path = `/v1/clients/${clientId}/payment-method/setup`;
    const res = await withDefaults.app.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.key}` },
    });
    expect(res.status).toBe(200);
    const session = defaults.recorder.take().find((r) => r.path === '/v1/checkout/sessions')!;
    expect(session.params).toMatchObject({
      success_url: 'https://portal.example/card/saved',
      cancel_url: 'https://portal.example/card/canceled',
    });
    for (const bad of [{ successUrl: 'ftp://x.example/' }, { cancelUrl: 'not a url' }]) {
      const r = await withDefaults.call('POST', path, bad, a.key);
      expect(r.status).toBe(400);
      expect(r.body.error.details[0].field).toBe(Object.keys(bad)[0]);
    }
    // Without a configured default, the URL is required.
    const b = await chargeableAgency('No default agency');
    const other = await newClient(b.key, { billingMode: 'stripe' });
    const missing = await api.call(
      'POST',
      `/v1/clients/${other}/payment-method/setup`,
      { cancelUrl: urls.cancelUrl },
      b.key,
    );
    expect(missing.status).toBe(400);
    expect(missing.body.error.details[0]).toMatchObject({ field: 'successUrl' });
    expect(recorder.take()).toEqual([]);
  });

  it('409 when stripe mode is off, the client is not in stripe mode, or the agency cannot charge', async () => {
    const stripeClient = await newClient(off.key, { billingMode: 'stripe' }, off);
    const noPlatform = await off.call(
      'POST',
      `/v1/clients/${stripeClient}/payment-method/setup`,
      urls,
    );
    expect(noPlatform.status).toBe(409);
    expect(noPlatform.body.error.message).toMatch(/no Stripe set-up/);

    const a = await chargeableAgency('Manual client agency');
    const manual = await newClient(a.key, { billingMode: 'manual' });
    const notStripe = await api.call(
      'POST',
      `/v1/clients/${manual}/payment-method/setup`,
      urls,
      a.key,
    );
    expect(notStripe.status).toBe(409);
    expect(notStripe.body.error.message).toMatch(/manual billing mode, not stripe/);

    const unconnected = await api.newAgency('Unconnected agency');
    const c = await newClient(unconnected.key, { billingMode: 'stripe' });
    const noAccount = await api.call(
      'POST',
      `/v1/clients/${c}/payment-method/setup`,
      urls,
      unconnected.key,
    );
    expect(noAccount.status).toBe(409);
    expect(noAccount.body.error.message).toMatch(/no Stripe account that can take charges/);
    // Connected but still onboarding (charges not enabled): the same.
    await api.call('POST', '/v1/agency/stripe/connect', {}, unconnected.key);
    recorder.take();
    const onboarding = await api.call(
      'POST',
      `/v1/clients/${c}/payment-method/setup`,
      urls,
      unconnected.key,
    );
    expect(onboarding.status).toBe(409);
    expect(recorder.take()).toEqual([]);

    const unknown = await api.call('POST', '/v1/clients/cli_nope/payment-method/setup', urls);
    expect(unknown.status).toBe(404);
  });
});

describe('the card on file', () => {
  it('checkout.session.completed re-reads the SetupIntent, sets the default card and stores it', async () => {
    const a = await chargeableAgency('Card agency');
    const clientId = await newClient(a.key, { billingMode: 'stripe' });
    const none = await api.call('GET', `/v1/clients/${clientId}/payment-method`, undefined, a.key);
    expect(none.body).toEqual({
      object: 'client_payment_method',
      clientId,
      billingMode: 'stripe',
      collectionMethod: 'charge_automatically',
      customerId: null,
      card: null,
    });
    const setup = await api.call(
      'POST',
      `/v1/clients/${clientId}/payment-method/setup`,
      urls,
      a.key,
    );
    const customerId = setup.body.customerId as string;
    recorder.take();

    const body = setupCompleted(a.accountId, customerId, { session: 'cs_test_card_1' });
    expect(await deliver(body)).toEqual({
      status: 200,
      body: { received: true, outcome: 'processed' },
    });
    const [read, update] = recorder.take();
    expect(read).toEqual({
      method: 'GET',
      path: '/v1/setup_intents/seti_test_card',
      account: a.accountId,
      idempotencyKey: null,
      params: { 'expand[0]': 'payment_method' },
    });
    // The payment method stripe-mock's SetupIntent carried (expanded).
    expect(update).toMatchObject({
      method: 'POST',
      path: `/v1/customers/${customerId}`,
      account: a.accountId,
      idempotencyKey: 'tally:default-card:cs_test_card_1',
      params: { 'invoice_settings[default_payment_method]': expect.stringMatching(/^pm_/) },
    });
    const paymentMethodId = update!.params['invoice_settings[default_payment_method]'];

    const shown = await api.call('GET', `/v1/clients/${clientId}/payment-method`, undefined, a.key);
    expect(shown.body).toEqual({
      object: 'client_payment_method',
      clientId,
      billingMode: 'stripe',
      collectionMethod: 'charge_automatically',
      customerId,
      card: {
        paymentMethodId,
        brand: 'visa',
        last4: '4242',
        expMonth: 8,
        expYear: 2030,
        updatedAt: expect.any(String),
      },
    });
  });

  it('a completion older than the card on file changes nothing; detaching the card removes it', async () => {
    const a = await chargeableAgency('Late card agency');
    const clientId = await newClient(a.key, { billingMode: 'stripe' });
    const setup = await api.call(
      'POST',
      `/v1/clients/${clientId}/payment-method/setup`,
      urls,
      a.key,
    );
    const customerId = setup.body.customerId as string;
    const t = now() - 100;
    await deliver(setupCompleted(a.accountId, customerId, { created: t }));
    recorder.take();
    const before = (
      await api.call('GET', `/v1/clients/${clientId}/payment-method`, undefined, a.key)
    ).body;
    expect(before.card).not.toBeNull();

    // An older session's completion arriving late: no Stripe call, the card stays.
    expect(
      (await deliver(setupCompleted(a.accountId, customerId, { created: t - 50 }))).status,
    ).toBe(200);
    expect(recorder.take()).toEqual([]);
    expect(
      (await api.call('GET', `/v1/clients/${clientId}/payment-method`, undefined, a.key)).body,
    ).toEqual(before);

    // Another card detached: nothing. The card on file detached: gone, access says so.
    const detached = (id: string) =>
      stripeEventBody({
        type: 'payment_method.detached',
        account: a.accountId,
        object: { id, object: 'payment_method', type: 'card', customer: null },
      });
    await deliver(detached('pm_someone_else'));
    expect(
      (await api.call('GET', `/v1/clients/${clientId}/payment-method`, undefined, a.key)).body.card,
    ).toEqual(before.card);
    await activeSubscription(a.agencyId, clientId);
    await recomputeAccess(db.sql, clientId, { stripeConfigured: true });
    expect((await access(clientId, a.key)).reasons).toEqual([]);
    expect((await deliver(detached(before.card.paymentMethodId))).body.outcome).toBe('processed');
    expect(
      (await api.call('GET', `/v1/clients/${clientId}/payment-method`, undefined, a.key)).body.card,
    ).toBeNull();
    expect(await access(clientId, a.key)).toMatchObject({
      allowed: false,
      reasons: ['payment_method_missing'],
    });
    // The same old completion still cannot bring a card back.
    await deliver(setupCompleted(a.accountId, customerId, { created: t - 10 }));
    expect(recorder.take()).toEqual([]);
  });

  it('a setup session for a customer no client has is acknowledged and changes nothing', async () => {
    const a = await chargeableAgency('Stranger card agency');
    const res = await deliver(setupCompleted(a.accountId, 'cus_nobody'));
    expect(res).toEqual({ status: 200, body: { received: true, outcome: 'processed' } });
    expect(recorder.take()).toEqual([]);
  });
});

describe('access: payment_method_missing', () => {
  it('an auto-charge stripe client without a card may not run campaigns; the card arriving is an access event', async () => {
    const a = await chargeableAgency('Access agency');
    const clientId = await newClient(a.key, { billingMode: 'stripe' });
    expect(await access(clientId, a.key)).toMatchObject({
      allowed: false,
      reasons: ['no_subscription', 'payment_method_missing'],
    });
    // A subscription starts (the worker recomputes as the workflow commits): still no card.
    await activeSubscription(a.agencyId, clientId);
    const started = await recomputeAccess(db.sql, clientId, { stripeConfigured: true });
    expect(started?.state).toEqual({ allowed: false, reasons: ['payment_method_missing'] });
    expect(await access(clientId, a.key)).toMatchObject({
      allowed: false,
      reasons: ['payment_method_missing'],
    });

    const setup = await api.call(
      'POST',
      `/v1/clients/${clientId}/payment-method/setup`,
      urls,
      a.key,
    );
    await deliver(setupCompleted(a.accountId, setup.body.customerId));
    expect(await access(clientId, a.key)).toMatchObject({ allowed: true, reasons: [] });
    const events = await accessEvents(clientId, a.key);
    expect(events[0]).toMatchObject({
      type: 'access.changed',
      subjectId: clientId,
      data: {
        allowed: true,
        reasons: [],
        previousReasons: ['payment_method_missing'],
        version: started!.version + 1,
      },
    });
  });

  it('not for send_invoice or manual clients, nor when the platform has no Stripe set-up', async () => {
    const a = await chargeableAgency('No card needed agency');
    const invoiced = await newClient(a.key, {
      billingMode: 'stripe',
      collectionMethod: 'send_invoice',
    });
    const manual = await newClient(a.key, { billingMode: 'manual' });
    for (const id of [invoiced, manual]) {
      expect((await access(id, a.key)).reasons).toEqual(['no_subscription']);
      await activeSubscription(a.agencyId, id);
      await recomputeAccess(db.sql, id, { stripeConfigured: true });
      expect(await access(id, a.key)).toMatchObject({ allowed: true, reasons: [] });
    }
    const offClient = await newClient(off.key, { billingMode: 'stripe' }, off);
    expect((await off.call('GET', `/v1/clients/${offClient}/access`)).body.reasons).toEqual([
      'no_subscription',
    ]);
    await activeSubscription(off.agencyId, offClient);
    expect((await recomputeAccess(db.sql, offClient, { stripeConfigured: false }))?.state).toEqual({
      allowed: true,
      reasons: [],
    });
  });

  it('a PATCH of the billing mode or collection method recomputes access, as an access event', async () => {
    const a = await chargeableAgency('Patch agency');
    const clientId = await newClient(a.key, { billingMode: 'manual' });
    await activeSubscription(a.agencyId, clientId);
    await recomputeAccess(db.sql, clientId, { stripeConfigured: true });
    expect((await access(clientId, a.key)).allowed).toBe(true);

    const toStripe = await api.call(
      'PATCH',
      `/v1/clients/${clientId}`,
      { billingMode: 'stripe' },
      a.key,
    );
    expect(toStripe.body).toMatchObject({
      billingMode: 'stripe',
      collectionMethod: 'charge_automatically',
    });
    expect(await access(clientId, a.key)).toMatchObject({
      allowed: false,
      reasons: ['payment_method_missing'],
    });
    const toInvoice = await api.call(
      'PATCH',
      `/v1/clients/${clientId}`,
      { collectionMethod: 'send_invoice' },
      a.key,
    );
    expect(toInvoice.body.collectionMethod).toBe('send_invoice');
    expect(await access(clientId, a.key)).toMatchObject({ allowed: true, reasons: [] });
    const events = await accessEvents(clientId, a.key);
    expect(events.slice(0, 2).map((e: any) => [e.data.reasons, e.data.previousReasons])).toEqual([
      [[], ['payment_method_missing']],
      [['payment_method_missing'], []],
    ]);
    // A PATCH of something else recomputes nothing.
    await api.call('PATCH', `/v1/clients/${clientId}`, { name: 'Renamed' }, a.key);
    expect(await accessEvents(clientId, a.key)).toHaveLength(events.length);

    const bad = await api.call(
      'PATCH',
      `/v1/clients/${clientId}`,
      { collectionMethod: 'cash' },
      a.key,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('collectionMethod');
  });
});
