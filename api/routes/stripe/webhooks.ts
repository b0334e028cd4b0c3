/**
 * POST /stripe/webhooks: the platform's Connect webhook endpoint. Outside /v1 and its API keys:
 * the Stripe-Signature over the raw body is the authentication. Answers 200 to every verified
 * event, known or not, so Stripe stops redelivering it; 400 to a bad or stale signature.
 */
import { createRoute, z } from '@hono/zod-openapi';
import Stripe from 'stripe';
import {
  receiveStripeEvent,
  StripeSignatureError,
  verifyStripeEvent,
} from '../../../services/stripe-events';
import { StripeNotConfiguredError } from '../../../services/stripe-connect';
import { ErrorBodySchema } from '../../errors';
import { ApiError } from '../../../lib/errors';
import { newApp, requestHeader } from '../../hono';
import { jsonResponse } from '../../schemas';

const ReceivedSchema = z
  .object({
    received: z.literal(true),
    outcome: z.enum(['processed', 'stored', 'duplicate', 'unknown_account']).openapi({
      description:
        '`processed`: handled; `stored`: no handler for the type; `duplicate`: seen before, nothing done; `unknown_account`: no agency has the account',
    }),
  })
  .openapi('StripeWebhookReceived');

const route = createRoute({
  method: 'post',
  path: '/stripe/webhooks',
  tags: ['stripe'],
  security: [],
  summary: 'Receive a Stripe Connect webhook event (signed by Stripe)',
  description:
    'Configure it in Stripe as a Connect webhook endpoint ("events on connected accounts") and put its signing secret in STRIPE_CONNECT_WEBHOOK_SECRET. Handled: account.updated (the agency\u2019s status; an event older than the status shown is ignored), account.application.deauthorized (the agency is disconnected), checkout.session.completed (a setup session\u2019s card becomes the client\u2019s card on file), payment_method.detached (the card on file is removed), invoice.finalized (the invoice\u2019s number and URLs), invoice.paid, invoice.payment_failed and invoice.payment_action_required (the payment outcome of the request the invoice presents, as a manual mark records it; never backwards: a paid request stays paid, an older failure is ignored, a failure is checked against the invoice re-read from Stripe). Every other event is stored and acknowledged. Each event id is handled once.',
  request: {
    // Documented only: the body must reach the signature check byte for byte, unparsed.
    body: {
      required: true,
      description: 'The event exactly as Stripe sent it',
      content: { 'application/json': { schema: { type: 'object' } } },
    },
  },
  responses: {
    200: jsonResponse(ReceivedSchema, 'Verified and stored (or seen before)'),
    400: jsonResponse(ErrorBodySchema, 'Stripe-Signature missing, wrong, or too old'),
    409: jsonResponse(ErrorBodySchema, 'The platform has no Stripe set-up'),
    503: jsonResponse(ErrorBodySchema, 'Stripe did not answer a re-read; Stripe redelivers'),
  },
});

export function stripeWebhookRoutes() {
  return newApp().openapi(route, async (c) => {
    const { sql, stripe, log, temporal } = c.var.deps;
    if (!stripe) throw new ApiError('conflict', new StripeNotConfiguredError().message);
    const raw = new Uint8Array(await c.req.arrayBuffer());
    let event: Stripe.Event;
    try {
      event = verifyStripeEvent(stripe, raw, requestHeader(c, 'stripe-signature'));
    } catch (err) {
      if (err instanceof StripeSignatureError) {
        log.warn({ requestId: c.var.requestId, problem: err.problem }, 'stripe webhook refused');
        throw new ApiError('validation_failed', err.message, [
          { field: 'Stripe-Signature', message: err.problem },
        ]);
      }
      throw err;
    }
    try {
      const outcome = await receiveStripeEvent({ sql, stripe, log, temporal }, event);
      return c.json({ received: true as const, outcome }, 200);
    } catch (err) {
      if (err instanceof Stripe.errors.StripeError) {
        // A 5xx, so that Stripe redelivers once its API answers again.
        throw new ApiError('unavailable', `Stripe did not answer (${err.message}); redeliver`);
      }
      throw err;
    }
  });
}
