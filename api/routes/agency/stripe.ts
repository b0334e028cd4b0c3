/**
 * The agency's Stripe Connect account: connect (create it once, get a fresh onboarding link)
 * and its status as Stripe last reported it through account.updated.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  connectStripeAccount,
  getStripeConnection,
  StripeAccountTypeConflictError,
  stripeConnectionState,
  StripeNotConfiguredError,
} from '../../../services/stripe-connect';
import type { AgencyStripeAccount } from '../../../db/queries/stripe';
import {
  commonErrorResponses,
  conflictResponse,
  ErrorBodySchema,
  unprocessableResponse,
} from '../../errors';
import { ApiError } from '../../../lib/errors';
import { newApp } from '../../hono';
import { stripeApiError } from '../../stripe-errors';
import { markSecret } from '../../middleware/idempotency';
import { iso, jsonBody, jsonResponse, Timestamp } from '../../schemas';

const AccountType = z.enum(['standard', 'express']);

const StripeConnectionSchema = z
  .object({
    object: z.literal('stripe_connection'),
    platformConfigured: z.boolean().openapi({
      description: 'Whether the platform has a Stripe set-up at all (false: stripe mode is off)',
    }),
    state: z.enum(['not_connected', 'onboarding', 'enabled', 'disconnected']).openapi({
      description:
        '`onboarding` until Stripe enables charges on the account, then `enabled`; `disconnected` once the account revoked the platform\u2019s access (nothing is charged on it any more)',
    }),
    accountId: z.string().nullable().openapi({ example: 'acct_1PgafTB7WZ01zgkW' }),
    type: AccountType.nullable(),
    chargesEnabled: z.boolean(),
    payoutsEnabled: z.boolean(),
    detailsSubmitted: z.boolean(),
    requirementsDue: z.array(z.string()).openapi({
      description: 'What Stripe still needs from the agency (requirements.currently_due)',
    }),
    disabledReason: z.string().nullable(),
    disconnectedAt: Timestamp.nullable(),
    statusUpdatedAt: Timestamp.nullable().openapi({
      description: 'When Stripe sent the account.updated event shown (null: none yet)',
    }),
  })
  .openapi('StripeConnection');

const ConnectSchema = z
  .object({
    type: AccountType.optional().openapi({
      description:
        'For a new account: `standard` (the default) or `express`. Given for an existing account, it must match.',
    }),
  })
  .strict();

const AccountLinkSchema = z
  .object({
    object: z.literal('stripe_account_link'),
    url: z.string().nullable().openapi({
      description:
        'Single-use onboarding link on Stripe; open it in the agency\u2019s browser. Null when this answer is an idempotent replay: connect again for a fresh link',
    }),
    expiresAt: Timestamp,
    connection: StripeConnectionSchema,
  })
  .openapi('StripeAccountLink');

function presentConnection(row: AgencyStripeAccount | null, platformConfigured: boolean) {
  return {
    object: 'stripe_connection' as const,
    platformConfigured,
    state: stripeConnectionState(row),
    accountId: row?.accountId ?? null,
    type: row?.type ?? null,
    chargesEnabled: row?.chargesEnabled ?? false,
    payoutsEnabled: row?.payoutsEnabled ?? false,
    detailsSubmitted: row?.detailsSubmitted ?? false,
    requirementsDue: row?.requirementsDue ?? [],
    disabledReason: row?.disabledReason ?? null,
    disconnectedAt: iso(row?.disconnectedAt ?? null),
    statusUpdatedAt: iso(row?.statusEventCreated ?? null),
  };
}

/** Our errors for the service's and Stripe's; anything else is the app's 500. */
function translate(err: unknown): unknown {
  if (err instanceof StripeNotConfiguredError) return new ApiError('conflict', err.message);
  if (err instanceof StripeAccountTypeConflictError) return new ApiError('conflict', err.message);
  return stripeApiError(err);
}

const tags = ['agency'];

export function agencyStripeRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/agency/stripe/connect',
      tags,
      summary:
        'Connect the agency to Stripe: its connected account (created once) and a fresh onboarding link',
      description:
        'The first call creates the agency\u2019s connected account (Standard unless `type` says `express`); later calls reuse it. Every call returns a new single-use Account Link; when one expires, Stripe sends the browser to the platform\u2019s refresh URL, which calls this again. The status changes only when Stripe reports it (account.updated), never on the browser\u2019s return. 409 when the platform has no Stripe set-up.',
      request: { body: { ...jsonBody(ConnectSchema), required: false } },
      responses: {
        200: jsonResponse(AccountLinkSchema, 'The onboarding link and the stored account'),
        ...commonErrorResponses,
        ...conflictResponse,
        ...unprocessableResponse,
        503: jsonResponse(ErrorBodySchema, 'Stripe did not answer; try again'),
      },
    }),
    async (c) => {
      const { sql, stripe } = c.var.deps;
      const body = c.req.valid('json') ?? {};
      try {
        const link = await connectStripeAccount({ sql, stripe }, c.var.agencyId, body.type);
        // The link signs the agency in at Stripe: never kept for an idempotent replay.
        markSecret(c, 'url');
        return c.json(
          {
            object: 'stripe_account_link' as const,
            url: link.url,
            expiresAt: link.expiresAt.toISOString(),
            connection: presentConnection(link.account, true),
          },
          200,
        );
      } catch (err) {
        throw translate(err);
      }
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/agency/stripe',
      tags,
      summary: 'The agency\u2019s Stripe account and its status, as Stripe last reported it',
      responses: {
        200: jsonResponse(StripeConnectionSchema, 'The stored account and status'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const { sql, stripe } = c.var.deps;
      const row = await getStripeConnection(sql, c.var.agencyId);
      return c.json(presentConnection(row, Boolean(stripe)), 200);
    },
  );

  return app;
}
