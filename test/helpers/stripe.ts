/**
 * Stripe in tests: a platform client aimed at the run's stripe-mock through a recording HTTP
 * client (method, path, Stripe-Account, Idempotency-Key and decoded form parameters of every
 * request), and events signed the way Stripe signs them. stripe-mock keeps no state, ignores
 * Stripe-Account and sends no webhooks, so tests assert on the recorded requests and drive
 * state with signed events.
 */
import { inject } from 'vitest';
import Stripe from 'stripe';
import { createStripePlatform, type StripePlatform } from '../../collection/stripe/client';
import type { StripeSettings } from '../../lib/config';

export interface RecordedStripeRequest {
  method: string;
  /** Without the query string. */
  path: string;
  /** The Stripe-Account header: the connected account the call acts on, or null. */
  account: string | null;
  idempotencyKey: string | null;
  /** Form body (or query, for GET and DELETE), decoded: `{ 'metadata[agency_id]': 'agy_...' }`. */
  params: Record<string, string>;
}

/**
 * What a test has Stripe answer instead of stripe-mock, which never declines and never pays:
 * a whole answer (`status` and JSON `body`, e.g. a 402 card_error), or stripe-mock's answer
 * changed by `patch`.
 */
export type StripeAnswer = { status: number; body: unknown } | { patch: (body: any) => unknown };

/** A JSON answer made in the test, in the shape stripe-node reads. */
class JsonResponse extends Stripe.HttpClientResponse {
  constructor(
    status: number,
    headers: Record<string, string>,
    private readonly body: unknown,
  ) {
    super(status, headers);
  }
  override getRawResponse(): unknown {
    return this.body;
  }
  override toStream(): never {
    throw new Error('JsonResponse has no stream');
  }
  override toJSON(): Promise<any> {
    return Promise.resolve(this.body);
  }
}

/** Wraps stripe-node's own Node HTTP client, recording each request before it is sent. */
export class RecordingHttpClient extends Stripe.HttpClient {
  readonly requests: RecordedStripeRequest[] = [];
  private readonly inner = Stripe.createNodeHttpClient();
  /** Answers a request in place of stripe-mock (null: stripe-mock answers as it is). */
  answer: ((r: RecordedStripeRequest) => StripeAnswer | null) | null = null;

  override getClientName(): string {
    return 'recording';
  }

  override makeRequest(
    host: string,
    port: string,
    path: string,
    method: string,
    headers: Parameters<Stripe.HttpClient['makeRequest']>[4],
    requestData: string,
    protocol: string,
    timeout: number,
  ) {
    const [pathname = path, query = ''] = path.split('?');
    const header = (name: string) => {
      const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === name);
      return entry ? String(entry[1]) : null;
    };
    const recorded: RecordedStripeRequest = {
      method,
      path: pathname,
      account: header('stripe-account'),
      idempotencyKey: header('idempotency-key'),
      params: Object.fromEntries(
        new URLSearchParams(method === 'GET' || method === 'DELETE' ? query : requestData),
      ),
    };
    this.requests.push(recorded);
    const answer = this.answer?.(recorded) ?? null;
    const jsonHeaders = { 'content-type': 'application/json', 'request-id': 'req_test_answer' };
    if (answer && 'status' in answer)
      return Promise.resolve(new JsonResponse(answer.status, jsonHeaders, answer.body));
    const sent = this.inner.makeRequest(
      host,
      port,
      path,
      method,
      headers,
      requestData,
      protocol,
      timeout,
    );
    if (!answer) return sent;
    return sent.then(
      async (res) =>
        new JsonResponse(res.getStatusCode(), jsonHeaders, answer.patch(await res.toJSON())),
    );
  }

  /** The requests recorded so far, forgetting them. */
  take(): RecordedStripeRequest[] {
    return this.requests.splice(0);
  }
}

export const TEST_WEBHOOK_SECRET = 'whsec_tally_test_connect';

/** Settings of a platform whose API is the run's stripe-mock. */
export function testStripeSettings(overrides: Partial<StripeSettings> = {}): StripeSettings {
  return {
    secretKey: 'sk_test_tally',
    connectWebhookSecret: TEST_WEBHOOK_SECRET,
    connectReturnUrl: 'https://agency.example/stripe/return',
    connectRefreshUrl: 'https://agency.example/stripe/refresh',
    apiBase: inject('stripeMockUrl'),
    flatFeeBps: 0,
    ...overrides,
  };
}

/** A platform on stripe-mock, with the recorder every request went through. */
export function testStripePlatform(overrides: Partial<StripeSettings> = {}): {
  platform: StripePlatform;
  recorder: RecordingHttpClient;
} {
  const recorder = new RecordingHttpClient();
  return {
    platform: createStripePlatform(testStripeSettings(overrides), { httpClient: recorder }),
    recorder,
  };
}

/** The Stripe-Signature header Stripe would send for this raw body. */
export function signStripePayload(
  payload: string,
  options: { secret?: string; timestamp?: number } = {},
): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? TEST_WEBHOOK_SECRET,
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
  });
}

let eventCount = 0;

/**
 * A Connect event body as Stripe sends it: pretty-printed JSON, to be signed and POSTed as is
 * (so a receiver that parsed and re-serialized the body before checking fails the signature).
 */
export function stripeEventBody(e: {
  type: string;
  account: string | null;
  object: Record<string, unknown>;
  /** Unix seconds; default now. */
  created?: number;
  id?: string;
}): string {
  return JSON.stringify(
    {
      id: e.id ?? `evt_test_${process.pid}_${++eventCount}_${Date.now()}`,
      object: 'event',
      api_version: '2026-10-28.endive',
      created: e.created ?? Math.floor(Date.now() / 1000),
      type: e.type,
      ...(e.account ? { account: e.account } : {}),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: e.object },
    },
    null,
    2,
  );
}
