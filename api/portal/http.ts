/**
 * What the portal's pages and the agency's portal-session routes share about HTTP: the origin a
 * browser reaches this server at (behind a TLS proxy: x-forwarded-proto/-host), the session
 * cookie, and the security headers of every portal answer.
 */
import type { Context } from 'hono';
import { requestHeader } from '../hono';

/** The session cookie's name. */
export const SESSION_COOKIE = 'tally_portal';

const first = (v: string | undefined) => v?.split(',')[0]?.trim() || undefined;

/** Whether the browser reached us over TLS (directly, or through a proxy saying so). */
export function isSecure(c: Context): boolean {
  const proto = first(requestHeader(c, 'x-forwarded-proto'));
  if (proto) return proto === 'https';
  return new URL(c.req.url).protocol === 'https:';
}

/** The origin a browser reaches this server at, e.g. https://billing.example.com. */
export function publicOrigin(c: Context): string {
  const url = new URL(c.req.url);
  const host = first(requestHeader(c, 'x-forwarded-host')) ?? requestHeader(c, 'host') ?? url.host;
  return `${isSecure(c) ? 'https' : 'http'}://${host}`;
}

/**
 * The portal's Content-Security-Policy: its own stylesheet and nothing else (no script at all,
 * no inline style, no framing, forms only to itself).
 */
export const PORTAL_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; " +
  "base-uri 'none'; frame-ancestors 'none'";

/** Headers on every portal answer: the CSP, no caching of billing data, no sniffing. */
export function portalHeaders(c: Context): void {
  c.header('content-security-policy', PORTAL_CSP);
  c.header('cache-control', 'no-store');
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'no-referrer');
}
