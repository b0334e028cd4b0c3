/**
 * The collection presenter against a real Postgres: each due row is presented once (run twice,
 * or two runs at once), a failing collector is retried with backoff and its error kept, a row
 * whose presenter died is taken again once its lease runs out, and the manual collector leaves
 * the request exactly as issued.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { presentDueRequests } from '../../background/collection-presenter';
import { PermanentCollectionError } from '../../collection/collector';
import { defaultCollectors, type Collectors } from '../../collection/registry';
import {
  claimDueCollections,
  getCollection,
  recordCollectionFailure,
  recordPresented,
  recordSkipped,
} from '../../db/queries/collection';
import { useTestApi } from '../helpers/api';
import { issueRequests, newClient, recordingCollector } from '../helpers/collection';

const { db, api } = useTestApi();

const every = (c: Collectors[keyof Collectors]): Collectors => ({
  manual: c,
  stripe: c,
  track_only: c,
});
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
/** A moment every row issued so far is due at. */
const soon = () => new Date(Date.now() + 1_000);

// Every test starts with nothing owed (rows of earlier tests would be presented too).
beforeEach(async () => {
  await db.sql`delete from collection_outbox`;
});

describe('presentDueRequests', () => {
  it('presents each due row once, and a second run presents nothing', async () => {
    const clientId = await newClient(api);
    const ids = await issueRequests(db.sql, api.agencyId, clientId, 12);
    const collector = recordingCollector();
    const now = soon();

    const first = await presentDueRequests({
      sql: db.sql,
      collectors: every(collector),
      now,
      batch: 5,
    });
    expect(first).toEqual({ presented: 12, skipped: 0, retrying: 0, gaveUp: 0 });
    const second = await presentDueRequests({
      sql: db.sql,
      collectors: every(collector),
      now,
      batch: 5,
    });
    expect(second).toEqual({ presented: 0, skipped: 0, retrying: 0, gaveUp: 0 });

    expect(collector.calls).toHaveLength(12);
    for (const id of ids) {
      expect(collector.callsFor(id)).toBe(1);
      expect(await getCollection(db.sql, id)).toMatchObject({
        status: 'presented',
        attempts: 1,
        collector: 'recording',
        externalId: `inv_${id}`,
        hostedUrl: `https://pay.example/${id}`,
        presentedAt: now,
      });
    }
    // What the collector was handed: the request as stored, with its lines.
    expect(collector.calls[0]).toMatchObject({
      agencyId: api.agencyId,
      clientId,
      billingMode: 'manual',
      type: 'pack',
      status: 'pending',
      currency: 'USD',
      totalMinor: 4500,
      attempt: 1,
      lines: [expect.objectContaining({ kind: 'pack', amountMinor: 4500 })],
    });
  });

  it('presents each row once when two presenters run at once', async () => {
    const clientId = await newClient(api);
    const ids = await issueRequests(db.sql, api.agencyId, clientId, 20);
    // Slow enough that the two runs overlap on every batch.
    const collector = recordingCollector(
      (r) =>
        new Promise((resolve) =>
          setTimeout(
            () => resolve({ status: 'presented', externalId: r.requestId, hostedUrl: null }),
            20,
          ),
        ),
    );
    const run = () =>
      presentDueRequests({ sql: db.sql, collectors: every(collector), now: soon(), batch: 3 });
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.presented + b.presented).toBe(20);
    expect(a.presented).toBeGreaterThan(0);
    expect(b.presented).toBeGreaterThan(0);
    expect(collector.calls).toHaveLength(20);
    for (const id of ids) expect(collector.callsFor(id)).toBe(1);
  });

  it('retries a failing collector with backoff, keeping its error, until it presents', async () => {
    const clientId = await newClient(api);
    const [id] = await issueRequests(db.sql, api.agencyId, clientId, 1);
    const collector = recordingCollector((r, call) =>
      call <= 2
        ? Promise.reject(new Error(`provider down (${call})`))
        : Promise.resolve({ status: 'presented', externalId: 'inv_1', hostedUrl: null }),
    );
    const present = (now: Date) =>
      presentDueRequests({ sql: db.sql, collectors: every(collector), now, backoffMs: 30_000 });
    const t0 = soon();

    expect(await present(t0)).toMatchObject({ presented: 0, retrying: 1 });
    expect(await getCollection(db.sql, id!)).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'Error: provider down (1)',
      nextAttemptAt: at(t0, 30_000),
    });
    expect(await present(at(t0, 29_999))).toMatchObject({ presented: 0, retrying: 0 });
    expect(collector.calls).toHaveLength(1);

    // The second failure waits twice as long.
    const t1 = at(t0, 30_000);
    expect(await present(t1)).toMatchObject({ retrying: 1 });
    expect(await getCollection(db.sql, id!)).toMatchObject({
      status: 'pending',
      attempts: 2,
      lastError: 'Error: provider down (2)',
      nextAttemptAt: at(t1, 60_000),
    });
    expect(await present(at(t1, 59_999))).toMatchObject({ presented: 0, retrying: 0 });

    const t2 = at(t1, 60_000);
    expect(await present(t2)).toMatchObject({ presented: 1, retrying: 0 });
    expect(collector.calls).toHaveLength(3);
    expect(await getCollection(db.sql, id!)).toMatchObject({
      status: 'presented',
      attempts: 3,
      externalId: 'inv_1',
      presentedAt: t2,
    });
    // Every attempt was the same request again (its steps' idempotency keys derive from its id).
    expect(collector.calls.map((c) => [c.requestId, c.attempt])).toEqual([
      [id, 1],
      [id, 2],
      [id, 3],
    ]);
  });

  it('gives up on a permanent error at once, and on any error after the last attempt', async () => {
    const clientId = await newClient(api);
    const [permanent, flaky] = await issueRequests(db.sql, api.agencyId, clientId, 2);
    const collector = recordingCollector((r) =>
      Promise.reject(
        r.requestId === permanent
          ? new PermanentCollectionError('agency has no connected account')
          : new Error('timeout'),
      ),
    );
    const present = (now: Date) =>
      presentDueRequests({ sql: db.sql, collectors: every(collector), now, maxAttempts: 2 });
    const t0 = soon();
    expect(await present(t0)).toMatchObject({ retrying: 1, gaveUp: 1 });
    expect(await getCollection(db.sql, permanent!)).toMatchObject({
      status: 'failed_permanently',
      attempts: 1,
      lastError: 'PermanentCollectionError: agency has no connected account',
    });
    expect(await present(at(t0, 3_600_000))).toMatchObject({ retrying: 0, gaveUp: 1 });
    expect(await getCollection(db.sql, flaky!)).toMatchObject({
      status: 'failed_permanently',
      attempts: 2,
      lastError: 'Error: timeout',
    });
    expect(await present(at(t0, 30 * 86_400_000))).toMatchObject({ retrying: 0, gaveUp: 0 });
    expect(collector.callsFor(permanent!)).toBe(1);
    expect(collector.callsFor(flaky!)).toBe(2);
  });

  it('takes a row again once the lease of a presenter that died runs out', async () => {
    const clientId = await newClient(api);
    const [id] = await issueRequests(db.sql, api.agencyId, clientId, 1);
    const t0 = soon();
    // A presenter claims the row and dies before recording anything.
    const [stale] = await claimDueCollections(db.sql, { now: t0, limit: 10, leaseMs: 300_000 });
    expect(stale).toMatchObject({ requestId: id, attempt: 1 });

    const collector = recordingCollector();
    const present = (now: Date) =>
      presentDueRequests({ sql: db.sql, collectors: every(collector), now, leaseMs: 300_000 });
    expect(await present(at(t0, 299_999))).toMatchObject({ presented: 0 });
    expect(collector.calls).toHaveLength(0);
    expect(await present(at(t0, 300_000))).toMatchObject({ presented: 1 });
    expect(collector.calls).toMatchObject([{ requestId: id, attempt: 2 }]);
    // The dead presenter's claim records nothing, should it wake up after all.
    expect(
      await recordPresented(db.sql, stale!, {
        collector: 'late',
        externalId: 'x',
        hostedUrl: null,
      }),
    ).toBe(false);
    expect(await getCollection(db.sql, id!)).toMatchObject({ collector: 'recording', attempts: 2 });
  });

  it('records only the latest claim of a row, not a stale one still pending', async () => {
    const clientId = await newClient(api);
    const [id] = await issueRequests(db.sql, api.agencyId, clientId, 1);
    const t0 = soon();
    const lease = { limit: 10, leaseMs: 60_000 };
    const [stale] = await claimDueCollections(db.sql, { now: t0, ...lease });
    const [fresh] = await claimDueCollections(db.sql, { now: at(t0, 60_000), ...lease });
    expect([stale?.attempt, fresh?.attempt]).toEqual([1, 2]);
    // While the fresh claim's call runs, the stale one wakes up and records: refused.
    const fail = { error: 'late', retryInMs: 86_400_000, now: at(t0, 61_000) };
    expect(await recordCollectionFailure(db.sql, stale!, fail)).toBe(false);
    expect(await recordSkipped(db.sql, stale!)).toBe(false);
    const presented = { collector: 'late', externalId: null, hostedUrl: null };
    expect(await recordPresented(db.sql, stale!, presented)).toBe(false);
    expect(await getCollection(db.sql, id!)).toMatchObject({
      status: 'pending',
      lastError: null,
      collector: null,
      nextAttemptAt: at(t0, 120_000),
    });
    expect(await recordPresented(db.sql, fresh!, { ...presented, collector: 'fresh' })).toBe(true);
    expect(await getCollection(db.sql, id!)).toMatchObject({
      status: 'presented',
      collector: 'fresh',
    });
  });

  it('counts nothing for a row whose claim went stale during its call', async () => {
    const clientId = await newClient(api);
    const [id] = await issueRequests(db.sql, api.agencyId, clientId, 1);
    const t0 = soon();
    // While the collector runs, the lease runs out and another presenter claims the row.
    const collector = recordingCollector(async () => {
      await claimDueCollections(db.sql, { now: at(t0, 61_000), limit: 10, leaseMs: 60_000 });
      return { status: 'presented', externalId: null, hostedUrl: null };
    });
    expect(
      await presentDueRequests({
        sql: db.sql,
        collectors: every(collector),
        now: t0,
        leaseMs: 60_000,
      }),
    ).toEqual({ presented: 0, skipped: 0, retrying: 0, gaveUp: 0 });
    expect(collector.calls).toHaveLength(1);
    expect(await getCollection(db.sql, id!)).toMatchObject({ status: 'pending', attempts: 2 });
  });

  it('skips a request paid or canceled before its turn', async () => {
    const clientId = await newClient(api);
    const [paid] = await issueRequests(db.sql, api.agencyId, clientId, 1, { status: 'paid' });
    const [canceled] = await issueRequests(db.sql, api.agencyId, clientId, 1);
    await db.sql`update payment_requests set status = 'canceled' where id = ${canceled!}`;
    const collector = recordingCollector();
    expect(
      await presentDueRequests({ sql: db.sql, collectors: every(collector), now: soon() }),
    ).toEqual({ presented: 0, skipped: 2, retrying: 0, gaveUp: 0 });
    expect(collector.calls).toHaveLength(0);
    for (const id of [paid!, canceled!])
      expect(await getCollection(db.sql, id)).toMatchObject({ status: 'skipped', collector: null });
  });
});

describe('the manual collector', () => {
  it('presents manual and stripe-mode requests and leaves the request untouched', async () => {
    const manual = await newClient(api, 'manual');
    const stripe = await newClient(api, 'stripe');
    const ids = [
      ...(await issueRequests(db.sql, api.agencyId, manual, 1)),
      ...(await issueRequests(db.sql, api.agencyId, stripe, 1)),
    ];
    const snapshot = async () => ({
      requests: await db.sql`select * from payment_requests where id in ${db.sql(ids)} order by id`,
      lines: await db.sql`select * from payment_request_lines where request_id in ${db.sql(ids)}
        order by request_id, position`,
      events: await db.sql`select * from events where agency_id = ${api.agencyId} order by id`,
    });
    const before = await snapshot();
    expect(before.requests.map((r) => r.status)).toEqual(['pending', 'pending']);

    expect(
      await presentDueRequests({ sql: db.sql, collectors: defaultCollectors, now: soon() }),
    ).toEqual({
      presented: 2,
      skipped: 0,
      retrying: 0,
      gaveUp: 0,
    });
    expect(await snapshot()).toEqual(before);
    for (const id of ids) {
      expect(await getCollection(db.sql, id)).toMatchObject({
        status: 'presented',
        collector: 'manual',
        externalId: null,
        hostedUrl: null,
      });
    }
    expect((await getCollection(db.sql, ids[1]!))?.billingMode).toBe('stripe');
  });
});
