/**
 * The one place that builds the `stripe` SDK client, from the platform's settings. Everything
 * that talks to Stripe receives the client built here (routes through ApiDeps, activities
 * through their deps), so tests can hand in a client aimed at stripe-mock with a recording
 * HTTP client.
 */
import Stripe from 'stripe';
import type { StripeSettings } from '../../lib/config';

/**
 * The API version every request is pinned to: the one the installed SDK's types describe (a
 * test fails when an SDK upgrade changes it, so the bump is a decision, not an accident).
 */
export const STRIPE_API_VERSION = '2026-10-28.endive';

/**
 * Retries by the SDK on a network error or a 409/429/5xx, with the same idempotency key. Kept
 * small: the callers (activities, webhook redelivery) retry on their own schedule.
 */
export const STRIPE_NETWORK_RETRIES = 1;

/** The platform's Stripe set-up as the API and worker carry it: settings and their client. */
export interface StripePlatform {
  settings: StripeSettings;
  stripe: Stripe;
}

export interface StripeClientOptions {
  /** Replaces the SDK's Node HTTP client (tests record every request through it). */
  httpClient?: Stripe.HttpClient;
}

/** Builds the SDK client: pinned API version, few retries, `apiBase` as host/port/protocol. */
export function createStripeClient(
  settings: StripeSettings,
  options: StripeClientOptions = {},
): Stripe {
  return new Stripe(settings.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: STRIPE_NETWORK_RETRIES,
    timeout: 30_000,
    // No request-latency telemetry headers sent to Stripe on our behalf.
    telemetry: false,
    appInfo: { name: 'tally' },
    ...(settings.apiBase ? apiHost(settings.apiBase) : {}),
    ...(options.httpClient ? { httpClient: options.httpClient } : {}),
  });
}

/** Settings plus their client, for ApiDeps and the worker's deps. */
export function createStripePlatform(
  settings: StripeSettings,
  options: StripeClientOptions = {},
): StripePlatform {
  return { settings, stripe: createStripeClient(settings, options) };
}

function apiHost(base: string): { host: string; port: number; protocol: 'http' | 'https' } {
  const url = new URL(base);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443,
    protocol,
  };
}
