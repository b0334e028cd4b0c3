/**
 * The Connect webhook endpoint, driven by events signed the way Stripe signs them and POSTed
 * raw: signature and timestamp checks, each event id handled once, routing by account (an
 * unknown one is acknowledged and changes nothing), account.updated ordering, and
 * deauthorization disconnecting the agency.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargeableStripeAccount, getStripeEvent } from '../../db/queries/stripe';
import { STRIPE_SIGNATURE_TOLERANCE_SECONDS } from '../../services/stripe-events';
import { createTestApi, type TestApi } from '../helpers/api';
import { createTestDb, type TestDb } from '../helpers/db';
import { unreachableTemporalClient } from '../helpers/lazy-temporal';
import { signStripePayload, stripeEventBody, testStripePlatform } from '../helpers/stripe';

let db: TestDb;
let api: TestApi;
let off: TestApi;
const temporal = unreachableTemporalClient();
const { platform, recorder } = testStripePlatform();

beforeAll(async () => {
  db = await createTestDb();
  api = await createTestApi(db.sql, temporal, { stripe: platform });
  off = await createTestApi(db.sql, temporal);
});
afterAll(async () => {
  await temporal.connection.close();
  await db?.drop();
});

/** A new agency connected to Stripe: its key and connected account. */
async function connectedAgency(name: string) {
  const agency = await api.newAgency(name);
  const res = await api.call('POST', '/v1/agency/stripe/connect', {}, agency.key);
  expect(res.status).toBe(200);
  recorder.take();
  return { ...agency, accountId: res.body.connection.accountId as string };
}

async function deliver(
  body: string,
  signature: string | null = signStripePayload(body),
  app = api.app,
) {
  const res = await app.request('/stripe/webhooks', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature !== null ? { 'stripe-signature': signature } : {}),
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

const status = async (key: string) =>
  (await api.call('GET', '/v1/agency/stripe', undefined, key)).body;
const storedEvents = async () =>
  (await db.sql<{ n: number }[]>`select count(*)::int as n from stripe_events`)[0]!.n;

const now = () => Math.floor(Date.now() / 1000);

/** An account.updated body for the account, with the given status and `created`. */
function accountUpdated(
  accountId: string,
  s: { charges: boolean; payouts?: boolean; due?: string[] },
  created = now(),
) {
  return stripeEventBody({
    type: 'account.updated',
    account: accountId,
    created,
    object: {
      id: accountId,
      object: 'account',
      charges_enabled: s.charges,
      payouts_enabled: s.payouts ?? s.charges,
      details_submitted: true,
      requirements: { currently_due: s.due ?? [], disabled_reason: null },
    },
  });
}

describe('POST /stripe/webhooks: signature', () => {
  it('a good signature: 200, and the event is handled', async () => {
    const a = await connectedAgency('Signed agency');
    const created = now() - 60;
    const res = await deliver(accountUpdated(a.accountId, { charges: true }, created));
    expect(res).toEqual({ status: 200, body: { received: true, outcome: 'processed' } });
    expect(await status(a.key)).toMatchObject({
      state: 'enabled',
      chargesEnabled: true,
      payoutsEnabled: true,
      detailsSubmitted: true,
      requirementsDue: [],
      disabledReason: null,
      statusUpdatedAt: new Date(created * 1000).toISOString(),
    });
  });

  it('a wrong signature, a changed body or no signature: 400 with our error body, nothing stored', async () => {
    const a = await connectedAgency('Forged agency');
    const body = accountUpdated(a.accountId, { charges: true });
    const before = await storedEvents();
    const forged = signStripePayload(body, { secret: 'whsec_someone_else' });
    expect(body).toContain('"charges_enabled": true');
    const tampered = body.replace('"charges_enabled": true', '"charges_enabled": false');
    for (const [payload, signature] of [
      [body, forged],
      [tampered, signStripePayload(body)],
      [body, null],
      [body, 'not-a-signature'],
    ] as const) {
      const res = await deliver(payload, signature);
      expect(res.status, String(signature)).toBe(400);
      expect(res.body.error).toMatchObject({
        code: 'validation_failed',
        requestId: expect.any(String),
        details: [{ field: 'Stripe-Signature', message: 'bad_signature' }],
      });
    }
    expect(await storedEvents()).toBe(before);
    expect((await status(a.key)).chargesEnabled).toBe(false);
  });

  it('a timestamp older than the tolerance: 400, nothing stored', async () => {
    const a = await connectedAgency('Stale agency');
    const body = accountUpdated(a.accountId, { charges: true });
    const before = await storedEvents();
    const stale = signStripePayload(body, {
      timestamp: now() - STRIPE_SIGNATURE_TOLERANCE_SECONDS - 5,
    });
    const res = await deliver(body, stale);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(/more than 300 s old/),
      details: [{ field: 'Stripe-Signature', message: 'stale_timestamp' }],
    });
    expect(await storedEvents()).toBe(before);
    expect((await status(a.key)).chargesEnabled).toBe(false);
    // Within the tolerance it is accepted.
    const fresh = signStripePayload(body, { timestamp: now() - 60 });
    expect((await deliver(body, fresh)).status).toBe(200);
  });

  it('is documented outside the API-key scheme (the signature is the authentication)', async () => {
    const doc: any = await (await api.app.request('/openapi.json')).json();
    expect(doc.paths['/stripe/webhooks'].post.security).toEqual([]);
    const noKey = await deliver(accountUpdated('acct_any', { charges: false }));
    expect(noKey.status).toBe(200);
  });

  it('without a platform set-up: 409', async () => {
    const body = stripeEventBody({ type: 'account.updated', account: 'acct_x', object: {} });
    const res = await deliver(body, signStripePayload(body), off.app);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/no Stripe set-up/);
  });
});

describe('POST /stripe/webhooks: each event once, routed by account', () => {
  it('the same event twice is handled once: the replay answers 200 and does nothing', async () => {
    const a = await connectedAgency('Replayed agency');
    const created = now() - 30;
    const first = accountUpdated(a.accountId, { charges: true }, created);
    expect((await deliver(first)).body.outcome).toBe('processed');
    const id = JSON.parse(first).id;
    const stored = await getStripeEvent(db.sql, id);
    expect(stored).toMatchObject({
      type: 'account.updated',
      account: a.accountId,
      agencyId: a.agencyId,
    });
    expect(stored!.processedAt).toBeInstanceOf(Date);

    // Handled again, the same `created` would make the handler re-read the account from Stripe.
    const replay = await deliver(first);
    expect(replay).toEqual({ status: 200, body: { received: true, outcome: 'duplicate' } });
    expect(recorder.take()).toEqual([]);
    expect(await getStripeEvent(db.sql, id)).toEqual(stored);
    expect(await status(a.key)).toMatchObject({ chargesEnabled: true, state: 'enabled' });
  });

  it('an event for an account no agency has: 200, stored, nothing changed', async () => {
    const a = await connectedAgency('Bystander agency');
    const before = await status(a.key);
    for (const account of ['acct_nobody_has_this', null]) {
      const body = stripeEventBody({
        type: 'account.application.deauthorized',
        account,
        object: { id: 'ca_platform', object: 'application' },
      });
      const res = await deliver(body);
      expect(res).toEqual({ status: 200, body: { received: true, outcome: 'unknown_account' } });
      expect(await getStripeEvent(db.sql, JSON.parse(body).id)).toMatchObject({
        account,
        agencyId: null,
        processedAt: null,
      });
    }
    expect(await status(a.key)).toEqual(before);
    const events = await api.call(
      'GET',
      '/v1/events?type=stripe_account.disconnected',
      undefined,
      a.key,
    );
    expect(events.body.data).toEqual([]);
  });

  it('an event type nothing handles yet is stored and acknowledged', async () => {
    const a = await connectedAgency('Invoice agency');
    const body = stripeEventBody({
      type: 'charge.refunded',
      account: a.accountId,
      object: { id: 'ch_1', object: 'charge' },
    });
    expect(await deliver(body)).toEqual({
      status: 200,
      body: { received: true, outcome: 'stored' },
    });
    expect(await getStripeEvent(db.sql, JSON.parse(body).id)).toMatchObject({
      agencyId: a.agencyId,
      processedAt: null,
    });
  });
});

describe('account.updated out of order', () => {
  it('an older event after a newer one leaves the newer status', async () => {
    const a = await connectedAgency('Ordered agency');
    const t = now() - 120;
    const newer = accountUpdated(a.accountId, { charges: true }, t);
    const older = accountUpdated(
      a.accountId,
      { charges: false, due: ['external_account'] },
      t - 10,
    );
    expect((await deliver(newer)).body.outcome).toBe('processed');
    expect((await deliver(older)).body.outcome).toBe('processed');
    expect(await status(a.key)).toMatchObject({
      state: 'enabled',
      chargesEnabled: true,
      requirementsDue: [],
      statusUpdatedAt: new Date(t * 1000).toISOString(),
    });
    // A later one moves it on.
    const later = accountUpdated(
      a.accountId,
      { charges: false, due: ['external_account'] },
      t + 10,
    );
    await deliver(later);
    expect(await status(a.key)).toMatchObject({
      state: 'onboarding',
      chargesEnabled: false,
      requirementsDue: ['external_account'],
    });
  });

  it('one from the same second as the last is settled by re-reading the account from Stripe', async () => {
    const a = await connectedAgency('Same-second agency');
    const t = now() - 60;
    await deliver(accountUpdated(a.accountId, { charges: true }, t));
    recorder.take();
    await deliver(accountUpdated(a.accountId, { charges: true, due: ['claimed'] }, t));
    expect(recorder.take()).toEqual([
      expect.objectContaining({ method: 'GET', path: `/v1/accounts/${a.accountId}` }),
    ]);
    // stripe-mock's account: charges not enabled, requirements due.
    expect(await status(a.key)).toMatchObject({
      chargesEnabled: false,
      requirementsDue: expect.arrayContaining(['external_account']),
    });
  });
});

describe('account.application.deauthorized', () => {
  it('disconnects the agency, says so in its event feed, and stops stripe-mode collection', async () => {
    const a = await connectedAgency('Leaving agency');
    const t = now() - 60;
    await deliver(accountUpdated(a.accountId, { charges: true }, t));
    expect(await chargeableStripeAccount(db.sql, a.agencyId)).toBe(a.accountId);

    const body = stripeEventBody({
      type: 'account.application.deauthorized',
      account: a.accountId,
      created: t + 5,
      object: { id: 'ca_platform', object: 'application', name: 'Tally' },
    });
    expect((await deliver(body)).body.outcome).toBe('processed');
    expect(await status(a.key)).toMatchObject({
      state: 'disconnected',
      accountId: a.accountId,
      disconnectedAt: new Date((t + 5) * 1000).toISOString(),
    });
    expect(await chargeableStripeAccount(db.sql, a.agencyId)).toBeNull();
    expect((await api.call('GET', '/v1/agency', undefined, a.key)).body.stripeAccountId).toBeNull();

    const feed = await api.call('GET', '/v1/events', undefined, a.key);
    expect(feed.body.data).toEqual([
      expect.objectContaining({
        type: 'stripe_account.disconnected',
        clientId: null,
        subjectType: 'stripe_account',
        subjectId: a.accountId,
        data: {
          accountId: a.accountId,
          reason: 'account.application.deauthorized',
          stripeEventId: JSON.parse(body).id,
        },
      }),
    ]);

    // A late account.updated does not bring the connection back.
    await deliver(accountUpdated(a.accountId, { charges: true }, t + 10));
    expect((await status(a.key)).state).toBe('disconnected');
    expect(await chargeableStripeAccount(db.sql, a.agencyId)).toBeNull();
  });
});
