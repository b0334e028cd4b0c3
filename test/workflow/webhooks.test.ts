/**
 * Access changes pushed to the agency's webhook: a local HTTP receiver (127.0.0.1) that fails
 * the first attempts, a delivery workflow that retries with backoff until it gets a 2xx, and a
 * signature the receiver verifies. Plus the sweeper, for an outbox row a crash left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../activities/webhook-signature';
import { newId } from '../../lib/ids';
import { sweepWebhookDeliveries } from '../../background/webhook-sweeper';
import {
  access,
  createClient,
  createPlan,
  startHarness,
  startSubscription,
  waitFor,
  waitForRequests,
  type Harness,
} from './harness';

interface Received {
  body: string;
  signature: string | undefined;
  status: number;
}

let h: Harness;
let server: Server;
let url: string;
const received: Received[] = [];
/** How many of the next attempts the receiver answers with 503. */
let failNext = 0;

beforeAll(async () => {
  h = await startHarness();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const status = failNext > 0 ? 503 : 204;
      if (failNext > 0) failNext -= 1;
      received.push({ body, signature: req.headers['tally-signature'] as string, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  const set = await h.api.call('PATCH', '/v1/agency', { webhookUrl: url });
  expect(set.status, JSON.stringify(set.body)).toBe(200);
});

afterAll(async () => {
  await h?.stop();
  await new Promise((done) => server?.close(done));
});

async function secret(): Promise<string> {
  const [row] = await h.db.sql<{ secret: string }[]>`
    select webhook_secret as secret from agencies where id = ${h.api.agencyId}`;
  return row!.secret;
}

const delivered = (clientId: string) =>
  received.filter((r) => r.status === 204 && JSON.parse(r.body).data.clientId === clientId);

describe('access webhooks', () => {
  it('delivers campaigns.resumed with retries and a valid signature', async () => {
    failNext = 2;
    const plan = await createPlan(h.api);
    const client = await createClient(h.api);
    const sub = await startSubscription(h.api, { clientId: client.id, planId: plan.id });
    await waitForRequests(h.api, sub.id, 1);
    await waitFor(async () => delivered(client.id).length === 1, 'delivery', 30_000);

    const attempts = received.filter((r) => JSON.parse(r.body).data.clientId === client.id);
    expect(attempts.map((a) => a.status)).toEqual([503, 503, 204]);
    // Every attempt carries the same event, each signed at its own time.
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
    const key = await secret();
    for (const a of attempts) expect(verifySignature(key, a.signature, a.body)).toBe(true);
    expect(verifySignature('whsec_wrong', attempts[2]!.signature, attempts[2]!.body)).toBe(false);

    const event = JSON.parse(attempts[2]!.body);
    expect(event).toMatchObject({
      type: 'campaigns.resumed',
      data: {
        clientId: client.id,
        subscriptionId: sub.id,
        allowed: true,
        reasons: [],
        previousReasons: ['no_subscription'],
        version: 1,
      },
    });
    // The payload's id is the feed's access.changed event.
    const feed = await h.api.call('GET', `/v1/events?type=access.changed&clientId=${client.id}`);
    expect(feed.body.data[0].id).toBe(event.id);
    // The receiver answers before the activity records the outcome: wait for the row.
    const row = async () =>
      (
        await h.db.sql`select status, attempts from webhook_deliveries where event_id = ${event.id}`
      )[0];
    await waitFor(async () => (await row())?.status === 'delivered', 'delivery recorded');
    expect(await row()).toMatchObject({ status: 'delivered', attempts: 3 });

    // Disabling the client pauses it: pushed at once, reasons named.
    const disabled = await h.api.call('POST', `/v1/clients/${client.id}/disable`);
    expect(disabled.status).toBe(200);
    expect(await access(h.api, client.id)).toMatchObject({
      allowed: false,
      reasons: ['client_disabled'],
      version: 2,
    });
    await waitFor(async () => delivered(client.id).length === 2, 'paused delivery');
    const paused = JSON.parse(delivered(client.id)[1]!.body);
    expect(paused).toMatchObject({
      type: 'campaigns.paused',
      data: { allowed: false, reasons: ['client_disabled'], previousReasons: [], version: 2 },
    });
    // Disabling again changes nothing: no event, no delivery.
    await h.api.call('POST', `/v1/clients/${client.id}/disable`);
    expect((await access(h.api, client.id)).version).toBe(2);
    await h.api.call('POST', `/v1/subscriptions/${sub.id}/cancel`, { when: 'now' });
  });

  it('a client disabled, its access change and its webhook row commit together or not at all', async () => {
    const client = await createClient(h.api);
    const before = await access(h.api, client.id);
    const changes = async () =>
      (
        await h.db
          .sql`select 1 from events where type = 'access.changed' and client_id = ${client.id}`
      ).length;
    // The webhook outbox refuses rows, as a full disk or a lost connection would mid-transaction.
    await h.db.sql`
      create function refuse_webhook_row() returns trigger language plpgsql
      as $$ begin raise exception 'injected: webhook outbox unavailable'; end $$`;
    await h.db.sql`
      create trigger refuse_webhook_row before insert on webhook_deliveries
      for each row execute function refuse_webhook_row()`;
    try {
      const failed = await h.api.call('POST', `/v1/clients/${client.id}/disable`);
      expect(failed.status).toBe(500);
      // Nothing changed: not the client, not its access, no event.
      expect((await h.api.call('GET', `/v1/clients/${client.id}`)).body.disabled).toBe(false);
      expect(await access(h.api, client.id)).toEqual(before);
      expect(await changes()).toBe(0);
    } finally {
      await h.db.sql`drop trigger refuse_webhook_row on webhook_deliveries`;
      await h.db.sql`drop function refuse_webhook_row()`;
    }
    // The retry does it all once: client, access, event, delivery.
    const retried = await h.api.call('POST', `/v1/clients/${client.id}/disable`);
    expect(retried.status).toBe(200);
    expect(retried.body.disabled).toBe(true);
    expect(await access(h.api, client.id)).toMatchObject({
      allowed: false,
      reasons: expect.arrayContaining(['client_disabled']),
      version: before.version + 1,
    });
    expect(await changes()).toBe(1);
    await waitFor(async () => delivered(client.id).length === 1, 'paused delivery');
    expect(JSON.parse(delivered(client.id)[0]!.body).type).toBe('campaigns.paused');
  });

  it('the sweeper delivers an outbox row that was never dispatched', async () => {
    const client = await createClient(h.api);
    const eventId = newId('evt');
    const deliveryId = newId('whd');
    const payload = {
      id: eventId,
      type: 'campaigns.paused',
      createdAt: new Date().toISOString(),
      data: { clientId: client.id, allowed: false, reasons: ['client_disabled'], version: 1 },
    };
    // As a crash between commit and start would leave it: committed, never dispatched.
    await h.db.sql.begin(async (tx) => {
      await tx`
        insert into events (id, agency_id, type, client_id, subject_type, subject_id, data)
        values (${eventId}, ${h.api.agencyId}, 'access.changed', ${client.id}, 'client', ${client.id},
          ${tx.json(payload.data)})`;
      await tx`
        insert into webhook_deliveries (id, agency_id, event_id, url, payload, created_at)
        values (${deliveryId}, ${h.api.agencyId}, ${eventId}, ${url}, ${tx.json(payload)},
          now() - interval '1 minute')`;
    });
    // The worker's own sweeper may get there first; either way the row is handed over once.
    expect(await sweepWebhookDeliveries(h.db.sql, h.env.client)).toBeLessThanOrEqual(1);
    await waitFor(async () => delivered(client.id).length === 1, 'swept delivery');
    const [row] = await h.db.sql`
      select status, dispatched_at from webhook_deliveries where id = ${deliveryId}`;
    expect(row!.status).toBe('delivered');
    expect(row!.dispatched_at).not.toBeNull();
    expect(delivered(client.id)).toHaveLength(1);
    // Swept again, a delivered row is left alone.
    expect(await sweepWebhookDeliveries(h.db.sql, h.env.client)).toBe(0);
  });
});
