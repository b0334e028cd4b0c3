/**
 * Client portal sessions and the client-scoped API, in process: the agency creates a single-use,
 * short-lived link; opening it sets an HttpOnly SameSite cookie (Secure behind TLS); the link
 * is refused a second time, after it expired, or once revoked; the cookie session expires, is
 * ended by a CSRF-checked sign-out or the agency's revoke, and reads only its own client.
 */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../helpers/api';
import { asAgency } from '../helpers/usage-fixtures';
import {
  portalClient,
  portalLink,
  portalPack,
  portalRequest,
  portalUsage,
  portalWallet,
  signIn,
} from '../helpers/portal';

const { api, db } = useTestApi();

const get = (path: string, cookie?: string, headers: Record<string, string> = {}) =>
  api.app.request(path, { headers: { ...(cookie ? { cookie } : {}), ...headers } });

const billing = async (cookie: string) => {
  const res = await get('/portal/api/billing', cookie);
  return { status: res.status, body: (await res.json()) as any };
};

const signOut = (
  cookie: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) =>
  api.app.request('/portal/sign-out', {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });

/** The sign-out form's CSRF token, read from the page as a browser would. */
async function csrfOf(cookie: string): Promise<string> {
  const page = await (await get('/portal', cookie)).text();
  return /name="csrf" value="([^"]+)"/.exec(page)![1]!;
}

describe('POST /v1/clients/{id}/portal-sessions', () => {
  it('answers a single-use link good for 10 minutes, storing only its hash', async () => {
    const c = await portalClient(api, db.sql);
    const before = Date.now();
    const s = await portalLink(api, c);
    expect(s.url).toMatch(/^http:\/\/localhost\/portal\/session\/pst_[\w-]{43}$/);
    const ttl = Date.parse(s.expiresAt) - before;
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000 + 5_000);
    const token = s.url.split('/').pop()!;
    const [row] = await db.sql`select * from portal_sessions where id = ${s.id}`;
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row!.client_id).toBe(c.clientId);
  });

  it('links to the origin the browser uses behind a TLS proxy', async () => {
    const c = await portalClient(api, db.sql);
    const res = await api.call(
      'POST',
      `/v1/clients/${c.clientId}/portal-sessions`,
      { portalUserId: c.userId },
      undefined,
      { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'billing.agency.example' },
    );
    expect(res.body.url).toMatch(/^https:\/\/billing\.agency\.example\/portal\/session\/pst_/);
  });

  it('names portalUserId when it is missing, unknown, another client\u2019s or lacks manage_billing', async () => {
    const c = await portalClient(api, db.sql);
    const other = await portalClient(api, db.sql, { subscription: null });
    const path = `/v1/clients/${c.clientId}/portal-sessions`;
    for (const body of [{}, { portalUserId: 'usr_missing' }, { portalUserId: other.userId }]) {
      const res = await api.call('POST', path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.details[0].field).toBe('portalUserId');
    }
    await db.sql`update portal_users set permissions = '{}' where id = ${c.userId}`;
    const res = await api.call('POST', path, { portalUserId: c.userId });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].field).toBe('portalUserId');
    expect(
      await db.sql`select 1 from portal_sessions where client_id = ${c.clientId}`,
    ).toHaveLength(0);
  });

  it('answers 404 for another agency\u2019s client', async () => {
    const c = await portalClient(api, db.sql);
    const other = asAgency(api, await api.newAgency('Other agency'));
    const res = await other.call('POST', `/v1/clients/${c.clientId}/portal-sessions`, {
      portalUserId: c.userId,
    });
    expect(res.status).toBe(404);
  });
});

describe('GET /portal/session/{token}', () => {
  it('sets an HttpOnly SameSite=Lax cookie for /portal and redirects; the link works once', async () => {
    const c = await portalClient(api, db.sql);
    const s = await portalLink(api, c);
    const path = new URL(s.url).pathname;
    const res = await get(path);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/portal');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^tally_portal=psc_[\w-]+;/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/portal');
    expect(cookie).toContain('Max-Age=3600');
    expect(cookie).not.toContain('Secure');
    const again = await get(path);
    expect(again.status).toBe(410);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toContain('already used');
  });

  it('sets a Secure cookie behind TLS', async () => {
    const c = await portalClient(api, db.sql);
    const s = await portalLink(api, c);
    const res = await get(new URL(s.url).pathname, undefined, { 'x-forwarded-proto': 'https' });
    expect(res.headers.get('set-cookie')).toContain('Secure');
  });

  it('refuses an expired link, a revoked one and an unknown one', async () => {
    const c = await portalClient(api, db.sql);
    const expired = await portalLink(api, c);
    await db.sql`update portal_sessions set link_expires_at = now() - interval '1 second' where id = ${expired.id}`;
    const res = await get(new URL(expired.url).pathname);
    expect(res.status).toBe(410);
    expect(await res.text()).toContain('expired');

    const revoked = await portalLink(api, c);
    expect((await api.call('DELETE', `/v1/portal-sessions/${revoked.id}`)).status).toBe(204);
    const r2 = await get(new URL(revoked.url).pathname);
    expect(r2.status).toBe(410);
    expect(await r2.text()).toContain('revoked');

    expect((await get('/portal/session/pst_nope')).status).toBe(404);
  });
});

describe('the cookie session', () => {
  it('reads its own client\u2019s billing, and nothing without a cookie', async () => {
    const c = await portalClient(api, db.sql, { name: 'Own Client' });
    await portalClient(api, db.sql, { name: 'Someone Else' });
    const cookie = await signIn(api, (await portalLink(api, c)).url);
    const { status, body } = await billing(cookie);
    expect(status).toBe(200);
    expect(body.client).toEqual({ id: c.clientId, name: 'Own Client', billingMode: 'manual' });
    expect(body.agency.name).toBe('Acme Voice Agency');
    expect((await get('/portal/api/billing')).status).toBe(401);
    expect((await get('/portal/api/billing', 'tally_portal=psc_forged')).status).toBe(401);
    const page = await get('/portal');
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('not signed in');
  });

  it('expires', async () => {
    const c = await portalClient(api, db.sql);
    const s = await portalLink(api, c);
    const cookie = await signIn(api, s.url);
    expect((await billing(cookie)).status).toBe(200);
    await db.sql`update portal_sessions set expires_at = now() - interval '1 second' where id = ${s.id}`;
    expect((await billing(cookie)).status).toBe(401);
  });

  it('ends when the agency revokes it or removes the portal user', async () => {
    const c = await portalClient(api, db.sql);
    const s = await portalLink(api, c);
    const cookie = await signIn(api, s.url);
    expect((await api.call('DELETE', `/v1/portal-sessions/${s.id}`)).status).toBe(204);
    expect((await billing(cookie)).status).toBe(401);
    const other = asAgency(api, await api.newAgency('Other agency'));
    expect((await other.call('DELETE', `/v1/portal-sessions/${s.id}`)).status).toBe(404);

    const again = await signIn(api, (await portalLink(api, c)).url);
    expect((await billing(again)).status).toBe(200);
    await api.call('DELETE', `/v1/clients/${c.clientId}/portal-users/${c.userId}`);
    expect((await billing(again)).status).toBe(401);
  });

  it('signs out only with the page\u2019s CSRF token, from this origin', async () => {
    const c = await portalClient(api, db.sql);
    const cookie = await signIn(api, (await portalLink(api, c)).url);
    const csrf = await csrfOf(cookie);
    expect((await signOut(cookie, {})).status).toBe(403);
    expect((await signOut(cookie, { csrf: 'x'.repeat(csrf.length) })).status).toBe(403);
    expect((await signOut(cookie, { csrf }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await billing(cookie)).status).toBe(200);
    const res = await signOut(cookie, { csrf }, { origin: 'http://localhost' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/portal/signed-out');
    expect(res.headers.get('set-cookie')).toMatch(/^tally_portal=;.*Max-Age=0/);
    expect((await billing(cookie)).status).toBe(401);
  });

  it('downloads its own requests\u2019 PDFs and 404s another client\u2019s', async () => {
    const mine = await portalClient(api, db.sql);
    const theirs = await portalClient(api, db.sql);
    const own = await portalRequest(db.sql, api, mine);
    const other = await portalRequest(db.sql, api, theirs);
    const cookie = await signIn(api, (await portalLink(api, mine)).url);
    const pdf = await get(`/portal/payment-requests/${own}/pdf`, cookie);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    expect((await get(`/portal/payment-requests/${other}/pdf`, cookie)).status).toBe(404);
    expect((await get(`/portal/payment-requests/${own}/pdf`)).status).toBe(401);
    const { body } = await billing(cookie);
    expect(body.paymentRequests.map((r: any) => r.id)).toEqual([own]);
  });

  it('serves every portal answer under a strict CSP, never cached', async () => {
    const c = await portalClient(api, db.sql);
    const cookie = await signIn(api, (await portalLink(api, c)).url);
    for (const path of [
      '/portal',
      '/portal/api/billing',
      '/portal/session/pst_nope',
      '/portal/assets/portal.css',
    ]) {
      const res = await get(path, cookie);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).not.toContain('unsafe-inline');
      expect(res.headers.get('cache-control'), path).toBe('no-store');
    }
  });
});

describe('GET /portal/api/billing', () => {
  it('answers the plan, usage, wallet, packs, requests with lines and banners, without the agency\u2019s economics', async () => {
    const c = await portalClient(api, db.sql);
    await portalUsage(api, c, 91 * 60);
    await portalWallet(db.sql, api, c, 30 * 60);
    await portalPack(api, c, 'Boost 500', 500, 9900);
    const req = await portalRequest(db.sql, api, c, { setStatus: 'overdue' });
    const cookie = await signIn(api, (await portalLink(api, c)).url);
    const { body } = await billing(cookie);
    expect(body.subscription).toMatchObject({
      status: 'active',
      plan: {
        name: 'Growth',
        tier: 'Pro',
        flatFeeMinor: 4900,
        includedMinutes: 100,
        rateMinorPerMinute: '12.5',
      },
    });
    expect(body.usage).toMatchObject({
      usedSeconds: 5460,
      includedPercentUsed: 91,
      warning: true,
      includedRemainingMinutes: '9',
    });
    expect(body.usage.economics).toBeUndefined();
    expect(JSON.stringify(body)).not.toContain('platformFee');
    expect(body.wallet).toEqual({ balanceSeconds: 1800, balanceMinutes: '30', expires: false });
    expect(body.packs).toMatchObject([{ name: 'Boost 500', minutes: 500, priceMinor: 9900 }]);
    expect(body.paymentRequests).toMatchObject([
      {
        id: req,
        status: 'overdue',
        totalMinor: 5025,
        pdfUrl: `/portal/payment-requests/${req}/pdf`,
        lines: [{ amountMinor: 4900 }, { amountMinor: 125 }],
      },
    ]);
    expect(body.banners).toEqual([
      { kind: 'outstanding_balance', amounts: [{ currency: 'USD', amountMinor: 5025 }] },
    ]);
  });

  it('is in the OpenAPI document under the portal session cookie', async () => {
    const doc: any = await (await api.app.request('/openapi.json')).json();
    expect(doc.paths['/portal/api/billing'].get.security).toEqual([{ portalSession: [] }]);
    expect(doc.components.securitySchemes.portalSession).toMatchObject({
      in: 'cookie',
      name: 'tally_portal',
    });
    expect(doc.paths['/v1/clients/{id}/portal-sessions'].post).toBeDefined();
    expect(doc.paths['/v1/portal-sessions/{id}'].delete).toBeDefined();
  });
});
