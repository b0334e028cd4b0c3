/**
 * The one Stripe client factory: pinned API version, few network retries, the configured API
 * base as host/port/protocol, an injectable HTTP client; and the test harness around it
 * (stripe-mock answers, the recorder sees every request, signed test events verify).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import {
  createStripeClient,
  STRIPE_API_VERSION,
  STRIPE_NETWORK_RETRIES,
} from '../../collection/stripe/client';
import {
  signStripePayload,
  stripeEventBody,
  TEST_WEBHOOK_SECRET,
  testStripePlatform,
  testStripeSettings,
} from '../helpers/stripe';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Remembers where each request was sent and fails it, so nothing leaves the machine. */
class CapturingHttpClient extends Stripe.HttpClient {
  calls: { host: string; port: string; protocol: string; headers: Record<string, unknown> }[] = [];
  override getClientName(): string {
    return 'capturing';
  }
  override makeRequest(
    host: string,
    port: string,
    _path: string,
    _method: string,
    headers: Record<string, unknown>,
    _data: string,
    protocol: string,
  ): Promise<never> {
    this.calls.push({ host, port, protocol, headers });
    return Promise.reject(new Error('captured, not sent'));
  }
}

const versionHeader = (headers: Record<string, unknown>) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === 'stripe-version')?.[1];

describe('createStripeClient', () => {
  it('pins the API version of the installed SDK', () => {
    expect(STRIPE_API_VERSION).toBe(Stripe.API_VERSION);
  });

  it('sends to the configured API base, with the pinned version and few retries', async () => {
    const http = new CapturingHttpClient();
    const stripe = createStripeClient(testStripeSettings({ apiBase: 'http://127.0.0.1:12111' }), {
      httpClient: http,
    });
    await expect(stripe.accounts.retrieve('acct_1')).rejects.toThrow();
    const { host, port, protocol } = http.calls[0]!;
    expect({ host, port: String(port), protocol }).toEqual({
      host: '127.0.0.1',
      port: '12111',
      protocol: 'http',
    });
    expect(versionHeader(http.calls[0]!.headers)).toBe(STRIPE_API_VERSION);
    expect(stripe.getMaxNetworkRetries()).toBe(STRIPE_NETWORK_RETRIES);
    expect(STRIPE_NETWORK_RETRIES).toBeLessThanOrEqual(2);
  });

  it("without an API base, sends to Stripe's own API", async () => {
    const http = new CapturingHttpClient();
    const stripe = createStripeClient(testStripeSettings({ apiBase: null }), { httpClient: http });
    await expect(stripe.accounts.retrieve('acct_1')).rejects.toThrow();
    const { host, port, protocol } = http.calls[0]!;
    expect({ host, port: String(port), protocol }).toEqual({
      host: 'api.stripe.com',
      port: '443',
      protocol: 'https',
    });
  });

  it('is the only place that constructs the SDK client', async () => {
    const offenders: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (['node_modules', '.git', '.data'].includes(entry.name)) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (/\.[cm]?ts$/.test(entry.name)) {
          const text = await readFile(path, 'utf8');
          if (/new\s+Stripe\s*\(|\bStripe\s*\(\s*['"`\w]/.test(text)) {
            offenders.push(relative(repoRoot, path));
          }
        }
      }
    };
    await walk(repoRoot);
    expect(offenders).toEqual(['collection/stripe/client.ts']);
  });
});

describe('the Stripe test harness', () => {
  it('reaches stripe-mock and records method, path, account, idempotency key and parameters', async () => {
    const { platform, recorder } = testStripePlatform();
    const account = await platform.stripe.accounts.create(
      { type: 'express', metadata: { tally_agency_id: 'agy_1' } },
      { idempotencyKey: 'test-key-1' },
    );
    expect(account.id).toMatch(/^acct_/);
    await platform.stripe.customers.list({ limit: 3 }, { stripeAccount: 'acct_connected' });
    expect(recorder.take()).toEqual([
      {
        method: 'POST',
        path: '/v1/accounts',
        account: null,
        idempotencyKey: 'test-key-1',
        params: { type: 'express', 'metadata[tally_agency_id]': 'agy_1' },
      },
      {
        method: 'GET',
        path: '/v1/customers',
        account: 'acct_connected',
        idempotencyKey: null,
        params: { limit: '3' },
      },
    ]);
    expect(recorder.requests).toEqual([]);
  });

  it('stripe-mock refuses an unknown parameter, so a wrong call fails the test', async () => {
    const { platform } = testStripePlatform();
    await expect(
      platform.stripe.accountLinks.create({
        account: 'acct_1',
        type: 'account_onboarding',
        return_url: 'https://agency.example/return',
        refresh_url: 'https://agency.example/refresh',
        nonsense: 1,
      } as never),
    ).rejects.toThrow(/additional properties are not allowed/);
  });

  it('signs event bodies the way Stripe does, so constructEvent accepts them', () => {
    const body = stripeEventBody({ type: 'account.updated', account: 'acct_1', object: {} });
    const header = signStripePayload(body);
    const event = Stripe.webhooks.constructEvent(body, header, TEST_WEBHOOK_SECRET);
    expect(event.type).toBe('account.updated');
    expect(() => Stripe.webhooks.constructEvent(body, header, 'whsec_other')).toThrow();
  });
});
