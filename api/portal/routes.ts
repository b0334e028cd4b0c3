/**
 * The client portal, outside /v1 and without an API key: a session link opens a cookie session
 * (services/portal-sessions.ts) that reads only its own client.
 * - GET /portal/session/{token}: the single-use link; sets the cookie and redirects to /portal.
 * - GET /portal: the billing page (server-rendered; no script).
 * - GET /portal/api/billing: the same data as JSON, for agencies embedding their own UI.
 * - GET /portal/payment-requests/{id}/pdf: a request of this client as PDF; 404 for any other.
 * - POST /portal/sign-out: ends the session (CSRF token from the page's form).
 * Every answer carries a strict CSP and no-store.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { LivePortalSession } from '../../db/queries/portal-sessions';
import { ApiError } from '../../lib/errors';
import { paymentRequestPdf } from '../../services/invoice-pdf';
import { portalBilling } from '../../services/portal-billing';
import {
  csrfMatches,
  csrfTokenOf,
  endPortalSession,
  openPortalLink,
  portalSessionOf,
  SESSION_TTL_MS,
} from '../../services/portal-sessions';
import type { AppEnv } from '../context';
import { ErrorBodySchema } from '../errors';
import { defaultHook, requestHeader } from '../hono';
import { IdParam, jsonResponse } from '../schemas';
import { PortalBillingSchema, presentPortalBilling } from './billing-json';
import { formatter, localeOf } from './format';
import { isSecure, portalHeaders, publicOrigin, SESSION_COOKIE } from './http';
import { billingPage, messagePage } from './page';
import { PORTAL_CSS } from './style';

export interface PortalEnv {
  Variables: AppEnv['Variables'] & { portal: LivePortalSession; portalCookie: string };
}

const COOKIE_PATH = '/portal';
const tags = ['client portal'];

const htmlResponse = (description: string) => ({
  description,
  content: { 'text/html': { schema: z.string() } },
});

const TokenParam = z.object({
  token: z
    .string()
    .min(1)
    .max(128)
    .openapi({ param: { name: 'token', in: 'path' } }),
});

const REFUSED = {
  unknown: [404, 'This sign-in link is not valid', 'Ask your agency for a new link.'],
  used: [
    410,
    'This sign-in link was already used',
    'A sign-in link works once. Ask your agency for a new link.',
  ],
  expired: [
    410,
    'This sign-in link has expired',
    'Sign-in links work for a few minutes only. Ask your agency for a new link.',
  ],
  revoked: [410, 'This sign-in link was revoked', 'Ask your agency for a new link.'],
} as const;

const NOT_SIGNED_IN = [
  'You are not signed in',
  'Your session has ended or was never started. Open the sign-in link your agency sends you.',
] as const;

/** The session of the request's cookie, or an answer saying there is none (HTML or JSON). */
function requireSession(kind: 'html' | 'json'): MiddlewareHandler<PortalEnv> {
  return async (c, next) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = cookie ? await portalSessionOf(c.var.deps.sql, cookie) : null;
    if (!cookie || !session) {
      if (cookie) deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH });
      if (kind === 'json') throw new ApiError('unauthorized', 'no portal session: sign in again');
      return c.html(messagePage(...NOT_SIGNED_IN), 401);
    }
    c.set('portal', session);
    c.set('portalCookie', cookie);
    await next();
  };
}

const fmt = (c: Context) => formatter(localeOf(requestHeader(c, 'accept-language')));

export function portalRoutes() {
  const app = new OpenAPIHono<PortalEnv>({ defaultHook });

  app.use('/portal', async (c, next) => {
    await next();
    portalHeaders(c);
  });
  app.use('/portal/*', async (c, next) => {
    await next();
    portalHeaders(c);
  });

  app.get('/portal/assets/portal.css', (c) => {
    c.header('content-type', 'text/css; charset=utf-8');
    return c.body(PORTAL_CSS);
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/portal/session/{token}',
      tags,
      summary:
        'Open a portal session link (once, before it expires): sets the session cookie and redirects to /portal',
      security: [],
      request: { params: TokenParam },
      responses: {
        303: {
          description:
            'Signed in: an HttpOnly, SameSite=Lax cookie (Secure behind TLS) for /portal',
        },
        404: htmlResponse('No such link'),
        410: htmlResponse('The link was used already, expired or was revoked'),
      },
    }),
    async (c) => {
      const opened = await openPortalLink(c.var.deps.sql, c.req.valid('param').token);
      if ('refused' in opened) {
        const [status, title, message] = REFUSED[opened.refused];
        return c.html(messagePage(title, message), status);
      }
      setCookie(c, SESSION_COOKIE, opened.cookieToken, {
        path: COOKIE_PATH,
        httpOnly: true,
        sameSite: 'Lax',
        secure: isSecure(c),
        maxAge: Math.floor(SESSION_TTL_MS / 1000),
      });
      return c.redirect('/portal', 303);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/portal/signed-out',
      tags,
      summary: 'The page a signed-out portal user lands on',
      security: [],
      responses: { 200: htmlResponse('Signed out') },
    }),
    (c) =>
      c.html(
        messagePage(
          'You are signed out',
          'To see your billing again, open a new sign-in link from your agency.',
        ),
      ),
  );

  app.use('/portal', requireSession('html'));
  app.use('/portal/payment-requests/*', requireSession('html'));
  app.use('/portal/sign-out', requireSession('html'));
  app.use('/portal/api/*', requireSession('json'));

  app.openapi(
    createRoute({
      method: 'get',
      path: '/portal',
      tags,
      summary: 'The client\u2019s billing page (server-rendered HTML, no script)',
      security: [{ portalSession: [] }],
      responses: {
        200: htmlResponse('The billing page'),
        401: htmlResponse('Not signed in'),
      },
    }),
    async (c) => {
      const s = c.var.portal;
      const billing = await portalBilling(c.var.deps, s.agencyId, s.clientId);
      return c.html(
        billingPage(billing, fmt(c), { email: s.email, csrf: csrfTokenOf(c.var.portalCookie) }),
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/portal/api/billing',
      tags,
      summary:
        'The signed-in client\u2019s billing, as the portal page shows it (portal session cookie)',
      security: [{ portalSession: [] }],
      responses: {
        200: jsonResponse(PortalBillingSchema, 'The client\u2019s billing'),
        401: jsonResponse(ErrorBodySchema, 'No portal session (or it ended)'),
      },
    }),
    async (c) => {
      const s = c.var.portal;
      return c.json(
        presentPortalBilling(await portalBilling(c.var.deps, s.agencyId, s.clientId)),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/portal/payment-requests/{id}/pdf',
      tags,
      summary: 'One of the signed-in client\u2019s payment requests as PDF',
      security: [{ portalSession: [] }],
      request: { params: IdParam },
      responses: {
        200: {
          description: 'The PDF',
          content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } },
        },
        401: htmlResponse('Not signed in'),
        404: htmlResponse('Not this client\u2019s request (or none)'),
      },
    }),
    async (c) => {
      const s = c.var.portal;
      const { id } = c.req.valid('param');
      const pdf = await paymentRequestPdf(c.var.deps.sql, s.agencyId, id, s.clientId);
      if (!pdf) {
        return c.html(messagePage('Not found', 'There is no such payment request.'), 404);
      }
      return c.body(new Uint8Array(pdf), 200, {
        'content-type': 'application/pdf',
        'content-disposition': `attachment; filename="${id}.pdf"`,
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/portal/sign-out',
      tags,
      summary:
        'End the portal session (the form on the page; its csrf field must match the session)',
      security: [{ portalSession: [] }],
      request: {
        body: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: z.object({
                csrf: z
                  .string()
                  .optional()
                  .openapi({ description: 'From the page\u2019s sign-out form' }),
              }),
            },
          },
        },
      },
      responses: {
        303: { description: 'Signed out: the cookie is cleared; to /portal/signed-out' },
        401: htmlResponse('Not signed in'),
        403: htmlResponse('CSRF token missing or wrong, or another origin: nothing changed'),
      },
    }),
    async (c) => {
      const origin = requestHeader(c, 'origin');
      const form = await c.req.parseBody();
      const csrf = typeof form.csrf === 'string' ? form.csrf : undefined;
      if ((origin && origin !== publicOrigin(c)) || !csrfMatches(c.var.portalCookie, csrf)) {
        return c.html(
          messagePage(
            'Request refused',
            'This form was not sent from your billing page. Nothing changed.',
          ),
          403,
        );
      }
      await endPortalSession(c.var.deps.sql, c.var.portal.agencyId, c.var.portal.id);
      deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: isSecure(c) });
      return c.redirect('/portal/signed-out', 303);
    },
  );

  return app;
}
