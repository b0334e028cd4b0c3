/**
 * The error conventions (README, "Conventions"): one shape for every error, validation errors
 * naming each field in the message and in `details`, and `x-request-id` on every answer, errors
 * included, matching the `requestId` of the body (the caller's own when it sent one).
 */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../helpers/api';

const { db, api } = useTestApi();

const plan = {
  name: 'Starter',
  currency: 'USD',
  flatFeeMinor: 4900,
  includedMinutes: 500,
  rhythm: 'month',
};

describe('errors', () => {
  it('validation: 400, every bad field named in details, the message naming the first, nothing stored', async () => {
    const res = await api.call('POST', '/v1/plans', {
      ...plan,
      name: 'Bad',
      currency: 'usd',
      flatFeeMinor: 12.5,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'validation_failed',
      requestId: res.headers.get('x-request-id'),
    });
    const fields = (res.body.error.details as any[]).map((d) => d.field).sort();
    expect(fields).toEqual(['currency', 'flatFeeMinor']);
    expect(res.body.error.message).toMatch(/^currency: must be an ISO 4217 currency code/);
    expect((await db.sql`select 1 from plans where name = 'Bad'`).length).toBe(0);
  });

  it.each([
    ['401 without a key', 'GET', '/v1/plans', undefined, null, 401, 'unauthorized'],
    ['403 for an ingest key', 'GET', '/v1/plans', undefined, 'ingest', 403, 'forbidden'],
    ['404 for an unknown id', 'GET', '/v1/plans/pln_nope', undefined, 'agency', 404, 'not_found'],
    ['404 for an unknown route', 'GET', '/v1/nowhere', undefined, 'agency', 404, 'not_found'],
    [
      '400 for a body that is not JSON',
      'POST',
      '/v1/plans',
      '{',
      'agency',
      400,
      'validation_failed',
    ],
  ] as const)(
    '%s: the one shape, with the request id',
    async (_n, method, path, raw, who, status, code) => {
      const key = who === null ? null : who === 'ingest' ? api.ingestKey : api.key;
      const headers: Record<string, string> = { 'x-request-id': `rid-${status}-${code}` };
      if (key) headers.authorization = `Bearer ${key}`;
      if (raw !== undefined) headers['content-type'] = 'application/json';
      const res = await api.app.request(path, {
        method,
        headers,
        ...(raw !== undefined ? { body: raw } : {}),
      });
      expect(res.status).toBe(status);
      expect(res.headers.get('x-request-id')).toBe(`rid-${status}-${code}`);
      const body = await res.json();
      expect(body).toEqual({
        error: expect.objectContaining({
          code,
          message: expect.any(String),
          requestId: `rid-${status}-${code}`,
        }),
      });
    },
  );

  it('Temporal not answering: a subscription start is 503 unavailable and creates nothing', async () => {
    const created = await api.call('POST', '/v1/plans', { ...plan, name: 'Down' });
    const client = await api.call('POST', '/v1/clients', { name: 'Down Co' });
    const body = { clientId: client.body.id, planId: created.body.id };
    const res = await api.call('POST', '/v1/subscriptions', body, api.key, {
      'Idempotency-Key': 'k-down',
    });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({
      code: 'unavailable',
      requestId: res.headers.get('x-request-id'),
    });
    const rows = await db.sql`select 1 from subscriptions where client_id = ${client.body.id}`;
    expect(rows).toHaveLength(0);
    // Nothing was kept for the key either: a retry runs again (and is refused again here).
    const retry = await api.call('POST', '/v1/subscriptions', body, api.key, {
      'Idempotency-Key': 'k-down',
    });
    expect(retry.status).toBe(503);
    expect(retry.headers.get('Idempotent-Replayed')).toBeNull();
  });

  it('an idempotency conflict is 422 idempotency_conflict, with the request id', async () => {
    const post = (name: string) =>
      api.call('POST', '/v1/plans', { ...plan, name }, api.key, { 'Idempotency-Key': 'k-err' });
    expect((await post('One')).status).toBe(201);
    const res = await post('Two');
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'idempotency_conflict',
      requestId: res.headers.get('x-request-id'),
    });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });
});
