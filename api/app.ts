/**
 * The HTTP API (Hono + zod-openapi): the OpenAPI document is built from the route definitions.
 * `createApp(deps)` is what tests call in process with `app.request()`.
 */
import { randomUUID } from 'node:crypto';
import { HTTPException } from 'hono/http-exception';
import { isDatabaseUnreachable } from '../db/client';
import { isTemporalUnreachable } from '../temporal/connection';
import type { ApiDeps } from './context';
import { registerDocs } from './docs';
import { newApp, requestHeader } from './hono';
import { errorBody, ErrorStatus } from './errors';
import { ApiError } from '../lib/errors';
import { portalRoutes } from './portal/routes';
import { healthRoutes } from './routes/health';
import { stripeWebhookRoutes } from './routes/stripe/webhooks';
import { v1Routes } from './routes/v1';

/**
 * Postgres refusing a value as given: bad encoding (a NUL: 22021), untranslatable text in JSON
 * (22P05), a date-time out of range or malformed (22008, 22007), a number out of range (22003).
 */
const REFUSED_INPUT_CODES = new Set(['22021', '22P05', '22008', '22007', '22003']);
function isRefusedInput(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && REFUSED_INPUT_CODES.has(code);
}

export function createApp(deps: ApiDeps) {
  const app = newApp();

  app.use(async (c, next) => {
    const requestId = requestHeader(c, 'x-request-id')?.slice(0, 64) || randomUUID();
    c.set('requestId', requestId);
    c.set('deps', deps);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    deps.log.info(
      {
        requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  });

  app.onError((err, c) => {
    const requestId = c.var.requestId ?? 'unknown';
    if (err instanceof ApiError) {
      return c.json(
        errorBody(err.code, err.message, requestId, err.details),
        ErrorStatus[err.code],
      );
    }
    if (err instanceof HTTPException) {
      // Hono's own (e.g. malformed JSON body): keep its status, use our shape.
      const code = (Object.entries(ErrorStatus).find(([, s]) => s === err.status)?.[0] ??
        'validation_failed') as keyof typeof ErrorStatus;
      return c.json(errorBody(code, err.message || 'bad request', requestId), err.status);
    }
    if (isTemporalUnreachable(err)) {
      deps.log.warn({ requestId, err }, 'workflow service unavailable');
      return c.json(
        errorBody('unavailable', 'the workflow service did not answer; try again', requestId),
        503,
      );
    }
    if (isDatabaseUnreachable(err)) {
      deps.log.warn({ requestId, err }, 'database unavailable');
      return c.json(
        errorBody('unavailable', 'the database did not answer; try again', requestId),
        503,
      );
    }
    if (isRefusedInput(err)) {
      // A value the validators let through and Postgres refused: bad input, not our failure;
      // the statement (and its transaction) did nothing. Logged, so a missing check is found.
      deps.log.warn({ requestId, err }, 'input refused by the database');
      return c.json(
        errorBody('validation_failed', 'a value of the request cannot be stored', requestId),
        400,
      );
    }
    deps.log.error({ requestId, err }, 'unhandled error');
    return c.json(errorBody('internal', 'internal error', requestId), 500);
  });

  app.notFound((c) =>
    c.json(
      errorBody(
        'not_found',
        `no route for ${c.req.method} ${c.req.path}`,
        c.var.requestId ?? 'unknown',
      ),
      404,
    ),
  );

  app.route('/', healthRoutes());
  // Outside /v1: authenticated by Stripe's signature, not by an API key.
  app.route('/', stripeWebhookRoutes());
  app.route('/v1', v1Routes());
  // The client portal: a portal session cookie, not an API key (api/portal/routes.ts).
  app.route('/', portalRoutes() as never);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'portalSession', {
    type: 'apiKey',
    in: 'cookie',
    name: 'tally_portal',
    description: 'The client portal session, set by opening a portal session link',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Tally API',
      version: '1.0.0',
      description:
        'Durable billing for agencies reselling voice-AI and chat agents. Money is integers in minor units; rates are decimal strings of minor units per minute.',
    },
    security: [{ bearer: [] }],
  });
  registerDocs(app);
  return app;
}

export type App = ReturnType<typeof createApp>;
