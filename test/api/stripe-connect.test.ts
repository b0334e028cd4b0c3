/**
 * Agency onboarding to Stripe Connect against stripe-mock: the account is created once with an
 * idempotency key derived from the agency, every connect returns a fresh onboarding link with
 * the configured URLs, the stored status is what GET shows, and without a platform set-up the
 * routes say so with a 409.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disconnectStripeAccount } from '../../db/queries/stripe';
import { accountCreationKey } from '../../services/stripe-connect';
import { createTestApi, type TestApi } from '../helpers/api';
import { createTestDb, type TestDb } from '../helpers/db';
import { unreachableTemporalClient } from '../helpers/lazy-temporal';
import { testStripePlatform, testStripeSettings } from '../helpers/stripe';

let db: TestDb;
let off: TestApi;
let api: TestApi;
const temporal = unreachableTemporalClient();
const { platform, recorder } = testStripePlatform();
const settings = testStripeSettings();

beforeAll(async () => {
  db = await createTestDb();
  off = await createTestApi(db.sql, temporal);
  api = await createTestApi(db.sql, temporal, { stripe: platform });
});
afterAll(async () => {
  await temporal.connection.close();
  await db?.drop();
});

const onboardingLink = (account: string) => ({
  method: 'POST',
  path: '/v1/account_links',
  account: null,
  idempotencyKey: expect.any(String),
  params: {
    account,
    type: 'account_onboarding',
    return_url: settings.connectReturnUrl,
    refresh_url: settings.connectRefreshUrl,
  },
});

describe('stripe mode off (no platform set-up)', () => {
  it('POST /v1/agency/stripe/connect answers 409 saying the platform has no Stripe set-up', async () => {
    const res = await off.call('POST', '/v1/agency/stripe/connect', {});
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'conflict', requestId: expect.any(String) });
    expect(res.body.error.message).toMatch(/no Stripe set-up/);
  });

  it('GET /v1/agency/stripe shows that the platform is not configured', async () => {
    const res = await off.call('GET', '/v1/agency/stripe');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      object: 'stripe_connection',
      platformConfigured: false,
      state: 'not_connected',
      accountId: null,
    });
  });
});

describe('POST /v1/agency/stripe/connect', () => {
  it('creates a Standard account once, keyed by the agency, and returns an onboarding link', async () => {
    recorder.take();
    const res = await api.call('POST', '/v1/agency/stripe/connect', {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const accountId = res.body.connection.accountId;
    expect(accountId).toMatch(/^acct_/);
    expect(res.body).toMatchObject({
      object: 'stripe_account_link',
      url: expect.stringMatching(/^https:\/\//),
      expiresAt: expect.any(String),
      connection: { state: 'onboarding', type: 'standard', platformConfigured: true },
    });
    expect(recorder.take()).toEqual([
      {
        method: 'POST',
        path: '/v1/accounts',
        account: null,
        idempotencyKey: accountCreationKey(api.agencyId, 1),
        params: { type: 'standard', 'metadata[tally_agency_id]': api.agencyId },
      },
      onboardingLink(accountId),
    ]);

    // A second connect reuses the stored account: only a new link.
    const again = await api.call('POST', '/v1/agency/stripe/connect', {});
    expect(again.status).toBe(200);
    expect(again.body.connection.accountId).toBe(accountId);
    expect(recorder.take()).toEqual([onboardingLink(accountId)]);

    const agency = await api.call('GET', '/v1/agency');
    expect(agency.body.stripeAccountId).toBe(accountId);
  });

  it('creates an Express account when asked, with the capabilities invoices need', async () => {
    const other = await api.newAgency('Express agency');
    recorder.take();
    const res = await api.call('POST', '/v1/agency/stripe/connect', { type: 'express' }, other.key);
    expect(res.status).toBe(200);
    expect(res.body.connection.type).toBe('express');
    const [create] = recorder.take();
    expect(create).toEqual({
      method: 'POST',
      path: '/v1/accounts',
      account: null,
      idempotencyKey: accountCreationKey(other.agencyId, 1),
      params: {
        type: 'express',
        'metadata[tally_agency_id]': other.agencyId,
        'capabilities[card_payments][requested]': 'true',
        'capabilities[transfers][requested]': 'true',
      },
    });
    const conflict = await api.call(
      'POST',
      '/v1/agency/stripe/connect',
      { type: 'standard' },
      other.key,
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.message).toMatch(/is express, not standard/);
  });

  it('takes no body at all (Standard), and refuses an unknown type naming the field', async () => {
    const other = await api.newAgency('No body agency');
    const res = await api.app.request('/v1/agency/stripe/connect', {
      method: 'POST',
      headers: { authorization: `Bearer ${other.key}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).connection.type).toBe('standard');
    const bad = await api.call('POST', '/v1/agency/stripe/connect', { type: 'custom' }, other.key);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('type');
  });

  it('two connects at once keep one account for the agency', async () => {
    const other = await api.newAgency('Racing agency');
    recorder.take();
    const [a, b] = await Promise.all([
      api.call('POST', '/v1/agency/stripe/connect', {}, other.key),
      api.call('POST', '/v1/agency/stripe/connect', {}, other.key),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    // stripe-mock answers each create with a new id; Stripe would answer both with one, since
    // they carry the same key. Either way, one account is stored and both answers show it.
    const creates = recorder.take().filter((r) => r.path === '/v1/accounts');
    expect(new Set(creates.map((r) => r.idempotencyKey))).toEqual(
      new Set([accountCreationKey(other.agencyId, 1)]),
    );
    const stored = await api.call('GET', '/v1/agency/stripe', undefined, other.key);
    expect(a.body.connection.accountId).toBe(stored.body.accountId);
    expect(b.body.connection.accountId).toBe(stored.body.accountId);
  });

  it('does not keep the single-use link for an idempotent replay', async () => {
    const other = await api.newAgency('Replay agency');
    const headers = { 'idempotency-key': 'connect-once' };
    const first = await api.call('POST', '/v1/agency/stripe/connect', {}, other.key, headers);
    expect(first.body.url).toMatch(/^https:\/\//);
    recorder.take();
    const replay = await api.call('POST', '/v1/agency/stripe/connect', {}, other.key, headers);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.url).toBeNull();
    expect(replay.body.connection.accountId).toBe(first.body.connection.accountId);
    expect(recorder.take()).toEqual([]);
  });

  it('after a deauthorization, creates a new account under a new key', async () => {
    const other = await api.newAgency('Reconnecting agency');
    const first = await api.call('POST', '/v1/agency/stripe/connect', {}, other.key);
    const oldAccount = first.body.connection.accountId;
    await db.sql.begin((tx) => disconnectStripeAccount(tx, oldAccount, new Date()));
    expect((await api.call('GET', '/v1/agency/stripe', undefined, other.key)).body.state).toBe(
      'disconnected',
    );
    recorder.take();
    const res = await api.call('POST', '/v1/agency/stripe/connect', {}, other.key);
    expect(res.status).toBe(200);
    const [create, link] = recorder.take();
    expect(create).toMatchObject({
      path: '/v1/accounts',
      idempotencyKey: accountCreationKey(other.agencyId, 2),
    });
    expect(res.body.connection).toMatchObject({ state: 'onboarding', disconnectedAt: null });
    expect(res.body.connection.accountId).not.toBe(oldAccount);
    expect(link).toEqual(onboardingLink(res.body.connection.accountId));
  });
});

describe('GET /v1/agency/stripe', () => {
  it("shows the stored account and status, and only the caller's", async () => {
    const res = await api.call('GET', '/v1/agency/stripe');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      object: 'stripe_connection',
      platformConfigured: true,
      state: 'onboarding',
      accountId: expect.stringMatching(/^acct_/),
      type: 'standard',
      chargesEnabled: false,
      payoutsEnabled: false,
      detailsSubmitted: false,
      // stripe-mock's account fixture: what a new account still owes Stripe
      requirementsDue: expect.arrayContaining(['external_account', 'tos_acceptance.date']),
      disabledReason: 'requirements.past_due',
      disconnectedAt: null,
      statusUpdatedAt: null,
    });
    const stranger = await api.newAgency('Stranger');
    const theirs = await api.call('GET', '/v1/agency/stripe', undefined, stranger.key);
    expect(theirs.body).toMatchObject({ state: 'not_connected', accountId: null });
  });
});
