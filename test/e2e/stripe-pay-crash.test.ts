/**
 * A real crash between a pay call and its record: the worker (`worker/main.ts`, its own process,
 * Stripe set up against stripe-mock through a recording proxy) presents an auto-charge request
 * as an invoice; the proxy lets the pay call reach Stripe and, before the answer gets back,
 * kills the worker with SIGKILL. Restarted, the worker presents the request again once the lease
 * runs out: every step with the same idempotency key (so Stripe, which answers a repeated key
 * with its first answer, charges once), and the invoice.paid that follows records one payment.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { collectionKey } from '../../collection/idempotency';
import { saveStripeCustomer, setClientCard } from '../../db/queries/client-stripe';
import { getCollection } from '../../db/queries/collection';
import { insertPaymentRequest } from '../../db/queries/payment-requests';
import { saveStripeAccount } from '../../db/queries/stripe';
import { createTestApi, type TestApi } from '../helpers/api';
import { newRequest } from '../helpers/collection';
import { createTestDb, type TestDb } from '../helpers/db';
import { startTestProcesses, waitUntil, type TestProcesses } from '../helpers/processes';
import {
  TEST_WEBHOOK_SECRET,
  signStripePayload,
  stripeEventBody,
  testStripePlatform,
} from '../helpers/stripe';

interface ProxiedCall {
  method: string;
  path: string;
  account: string | null;
  idempotencyKey: string | null;
}

let db: TestDb;
let processes: TestProcesses;
let connection: Connection;
let api: TestApi;
let proxy: Server;
let proxyUrl: string;
const calls: ProxiedCall[] = [];
/** Called when a pay call's answer is back from stripe-mock; true: drop it (the worker died). */
let onPayAnswered: () => boolean = () => false;

/**
 * A proxy in front of stripe-mock that records every call and can cut the pay answer off. A POST
 * with a key already answered gets that first answer again, as Stripe does (stripe-mock keeps no
 * state: it would name a new invoice, which the collector refuses to charge).
 */
function startProxy(target: string): Promise<Server> {
  const upstream = new URL(target);
  const answered = new Map<string, { status: number; headers: object; body: Buffer }>();
  const server = createServer((req, res) => {
    const header = (name: string) => {
      const v = req.headers[name];
      return typeof v === 'string' ? v : null;
    };
    const path = (req.url ?? '').split('?')[0]!;
    calls.push({
      method: req.method ?? '',
      path,
      account: header('stripe-account'),
      idempotencyKey: header('idempotency-key'),
    });
    const key = req.method === 'POST' ? header('idempotency-key') : null;
    const first = key ? answered.get(key) : undefined;
    if (first) {
      req.resume();
      res.writeHead(first.status, first.headers as never);
      res.end(first.body);
      return;
    }
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          if (key)
            answered.set(key, {
              status: answer.statusCode ?? 502,
              headers: answer.headers,
              body: Buffer.concat(chunks),
            });
          if (/^\/v1\/invoices\/[^/]+\/pay$/.test(path) && onPayAnswered()) {
            res.socket?.destroy();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(Buffer.concat(chunks));
        });
      },
    );
    forward.on('error', () => res.socket?.destroy());
    req.pipe(forward);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function startWorker() {
  return processes.startWorker({
    DATABASE_URL: db.url,
    STRIPE_SECRET_KEY: 'sk_test_tally',
    STRIPE_CONNECT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    STRIPE_CONNECT_RETURN_URL: 'https://agency.example/stripe/return',
    STRIPE_CONNECT_REFRESH_URL: 'https://agency.example/stripe/refresh',
    STRIPE_API_BASE: proxyUrl,
  });
}

beforeAll(async () => {
  db = await createTestDb();
  processes = await startTestProcesses('pay-crash');
  connection = await Connection.connect({ address: processes.temporal.address });
  api = await createTestApi(db.sql, new Client({ connection, namespace: 'default' }), {
    stripe: testStripePlatform().platform,
  });
  proxy = await startProxy(inject('stripeMockUrl'));
  const address = proxy.address();
  if (!address || typeof address === 'string') throw new Error('proxy has no port');
  proxyUrl = `http://127.0.0.1:${address.port}`;
}, 120_000);

afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await connection?.close();
  await processes?.stopAll();
  await db?.drop();
});

describe('worker crash between the pay call and its record', () => {
  it('SIGKILL after Stripe took the pay call, restart: one pay key, one paid record', async () => {
    const accountId = `acct_test_crash_${process.pid}`;
    await saveStripeAccount(
      db.sql,
      { agencyId: api.agencyId, accountId, type: 'standard', generation: 1 },
      {
        chargesEnabled: true,
        payoutsEnabled: true,
        detailsSubmitted: true,
        requirementsDue: [],
        disabledReason: null,
      },
    );
    const client = await api.call('POST', '/v1/clients', {
      name: 'Card client',
      billingMode: 'stripe',
      collectionMethod: 'charge_automatically',
    });
    expect(client.status).toBe(201);
    const clientId = client.body.id as string;
    await saveStripeCustomer(db.sql, api.agencyId, clientId, accountId, 'cus_test_crash');
    await setClientCard(
      db.sql,
      clientId,
      {
        paymentMethodId: 'pm_test_crash',
        brand: 'visa',
        last4: '4242',
        expMonth: 8,
        expYear: 2030,
      },
      new Date(),
    );

    let first: ChildProcess | null = null;
    let killed = false;
    onPayAnswered = () => {
      if (killed || !first) return false;
      killed = true;
      first.kill('SIGKILL');
      return true;
    };
    first = await startWorker();
    const exited = new Promise((r) => first!.once('exit', r));
    const { request } = await insertPaymentRequest(db.sql, newRequest(api.agencyId, clientId));
    await waitUntil(async () => killed, 'the pay call', 60_000);
    await exited;
    // Killed before recording: the row is still leased, not presented.
    expect(await getCollection(db.sql, request.id)).toMatchObject({
      status: 'pending',
      attempts: 1,
    });
    const payKey = collectionKey(request.id, 'pay');
    expect(calls.filter((c) => c.path.endsWith('/pay')).map((c) => c.idempotencyKey)).toEqual([
      payKey,
    ]);

    await startWorker();
    // The lease (5 min) runs out: moved to now rather than waited for.
    await db.sql`update collection_outbox set next_attempt_at = now() where request_id = ${request.id}`;
    await waitUntil(
      async () => (await getCollection(db.sql, request.id))?.status === 'presented',
      'presented again',
      60_000,
    );
    const row = (await getCollection(db.sql, request.id))!;
    expect(row.attempts).toBe(2);

    // Every call on the connected account; each step once per presentation, one key per step.
    expect(calls.every((c) => c.account === accountId)).toBe(true);
    const pays = calls.filter((c) => c.path.endsWith('/pay'));
    expect(pays).toHaveLength(2);
    expect(new Set(pays.map((c) => c.idempotencyKey))).toEqual(new Set([payKey]));
    const creates = calls.filter((c) => c.method === 'POST' && c.path === '/v1/invoices');
    expect(creates.map((c) => c.idempotencyKey)).toEqual([
      collectionKey(request.id, 'invoice'),
      collectionKey(request.id, 'invoice'),
    ]);

    // Stripe's invoice.paid (once, then redelivered): one paid record.
    const shown = await api.call('GET', `/v1/payment-requests/${request.id}`);
    const invoiceId = shown.body.stripeInvoice.id as string;
    const body = stripeEventBody({
      type: 'invoice.paid',
      account: accountId,
      object: {
        id: invoiceId,
        object: 'invoice',
        status: 'paid',
        metadata: { tally_request_id: request.id },
      },
    });
    for (const outcome of ['processed', 'duplicate']) {
      const res = await api.app.request('/stripe/webhooks', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': signStripePayload(body),
        },
        body,
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { outcome: string }).outcome).toBe(outcome);
    }
    const paid = await db.sql<{ type: string }[]>`
      select type from events where subject_id = ${request.id} and type = 'payment_request.paid'`;
    expect(paid).toHaveLength(1);
    expect((await api.call('GET', `/v1/payment-requests/${request.id}`)).body.status).toBe('paid');
  }, 240_000);
});
