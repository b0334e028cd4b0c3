/**
 * A stripe-mode client's card on file: GET /v1/clients/{id}/payment-method shows it, and
 * POST /v1/clients/{id}/payment-method/setup opens a Stripe Checkout session (setup mode, on the
 * agency's connected account) where the client saves one. The card is stored only when Stripe
 * reports the session completed (checkout.session.completed), never on the browser's return.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  getClientPaymentMethod,
  startPaymentMethodSetup,
} from '../../../services/stripe-customers';
import {
  commonErrorResponses,
  conflictResponse,
  ErrorBodySchema,
  unprocessableResponse,
} from '../../errors';
import { newApp } from '../../hono';
import { IdParam, jsonBody, jsonResponse, Timestamp } from '../../schemas';
import { stripeApiError } from '../../stripe-errors';

const httpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });

const SetupSchema = z
  .object({
    successUrl: httpUrl.optional().openapi({
      description:
        'Where Stripe sends the browser once the card is saved (default: STRIPE_SETUP_SUCCESS_URL). Shows nothing Tally trusts: the card arrives by webhook.',
    }),
    cancelUrl: httpUrl.optional().openapi({
      description: 'Where Stripe sends the browser on cancel (default: STRIPE_SETUP_CANCEL_URL)',
    }),
  })
  .strict();

const SetupSessionSchema = z
  .object({
    object: z.literal('payment_method_setup'),
    clientId: z.string(),
    url: z.string().openapi({ description: 'The Checkout page on Stripe; open it for the client' }),
    sessionId: z.string().openapi({ example: 'cs_test_a1b2c3' }),
    expiresAt: Timestamp,
    customerId: z.string().openapi({
      description: 'The client\u2019s Stripe Customer on the agency\u2019s connected account',
    }),
  })
  .openapi('PaymentMethodSetup');

const CardSchema = z
  .object({
    paymentMethodId: z.string(),
    brand: z.string().openapi({ example: 'visa' }),
    last4: z.string().openapi({ example: '4242' }),
    expMonth: z.number().int().openapi({ example: 8 }),
    expYear: z.number().int().openapi({ example: 2030 }),
    updatedAt: Timestamp,
  })
  .openapi('Card');

const PaymentMethodSchema = z
  .object({
    object: z.literal('client_payment_method'),
    clientId: z.string(),
    billingMode: z.enum(['stripe', 'manual', 'track_only']),
    collectionMethod: z.enum(['charge_automatically', 'send_invoice']),
    customerId: z.string().nullable(),
    card: CardSchema.nullable().openapi({
      description:
        'The card on file (the customer\u2019s default invoice payment method); null: none yet, or it was removed',
    }),
  })
  .openapi('ClientPaymentMethod');

const tags = ['clients'];

export function paymentMethodRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/clients/{id}/payment-method/setup',
      tags,
      summary: 'Open a Stripe Checkout session where a stripe-mode client saves its card',
      description:
        'Creates the client\u2019s Stripe Customer on the agency\u2019s connected account the first time (once: an idempotency key derived from the client), then a Checkout session in setup mode for it. Answers the session\u2019s `url`. The card is stored when Stripe sends checkout.session.completed. 409 when the platform has no Stripe set-up, the client is not in stripe mode, or the agency has no connected account with charges enabled.',
      request: { params: IdParam, body: { ...jsonBody(SetupSchema), required: false } },
      responses: {
        200: jsonResponse(SetupSessionSchema, 'The Checkout session to open'),
        ...commonErrorResponses,
        ...conflictResponse,
        ...unprocessableResponse,
        503: jsonResponse(ErrorBodySchema, 'Stripe did not answer; try again'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json') ?? {};
      try {
        const setup = await startPaymentMethodSetup(c.var.deps, c.var.agencyId, id, body);
        return c.json(
          {
            object: 'payment_method_setup' as const,
            clientId: id,
            url: setup.url,
            sessionId: setup.sessionId,
            expiresAt: setup.expiresAt.toISOString(),
            customerId: setup.customerId,
          },
          200,
        );
      } catch (err) {
        throw stripeApiError(err);
      }
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clients/{id}/payment-method',
      tags,
      summary: 'The client\u2019s card on file (brand, last 4, expiry), or null',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(PaymentMethodSchema, 'The card on file, if any'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const pm = await getClientPaymentMethod(c.var.deps.sql, c.var.agencyId, id);
      return c.json(
        {
          object: 'client_payment_method' as const,
          clientId: pm.clientId,
          billingMode: pm.billingMode as 'stripe' | 'manual' | 'track_only',
          collectionMethod: pm.collectionMethod,
          customerId: pm.customerId,
          card: pm.card ? { ...pm.card, updatedAt: pm.card.updatedAt.toISOString() } : null,
        },
        200,
      );
    },
  );

  return app;
}
