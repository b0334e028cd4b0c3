/**
 * The /v1 route table. Order matters: admin bootstrap, then key auth, then Idempotency-Key
 * handling for every POST, then agency-only routes.
 */
import { authenticate, requireKeyKind } from '../middleware/auth';
import { documentIdempotency, idempotency } from '../middleware/idempotency';
import { newApp } from '../hono';
import { agencyAdminRoutes } from './agencies';
import { agencyRoutes } from './agency';
import { agencyStripeRoutes } from './agency/stripe';
import { webhookSecretRoutes } from './agency/webhook-secret';
import { apiKeyRoutes } from './api-keys';
import { apiKeyRevokeRoutes } from './api-keys/revoke';
import { clientRoutes } from './clients';
import { accessRoutes } from './clients/access';
import { agentRoutes } from './clients/agents';
import { clientPackApplyRoutes, clientPackRoutes } from './clients/packs';
import { paymentMethodRoutes } from './clients/payment-method';
import { clientPlanRoutes } from './clients/plan';
import { portalUserRoutes } from './clients/portal-users';
import { portalSessionCreateRoutes } from './clients/portal-sessions';
import { portalSessionRevokeRoutes } from './portal-sessions';
import { reportRoutes } from './clients/usage';
import { walletRoutes } from './clients/wallet';
import { eventRoutes } from './events';
import { couponRoutes } from './coupons';
import { oneTimeProductRoutes } from './one-time-products';
import { packRoutes } from './packs';
import { paymentRequestRoutes } from './payment-requests';
import { paymentRequestMarkRoutes } from './payment-requests/mark';
import { invoicePdfRoutes } from './payment-requests/pdf';
import { planRoutes } from './plans';
import { subscriptionRoutes } from './subscriptions';
import { subscriptionCancelRoutes } from './subscriptions/cancel';
import { subscriptionChangeRoutes } from './subscriptions/change';
import { subscriptionCouponRoutes } from './subscriptions/coupon';
import { usageIngestRoutes } from './usage';

export function v1Routes() {
  const v1 = newApp();
  v1.route('/', agencyAdminRoutes());
  v1.use('*', authenticate);
  v1.use('*', idempotency);
  // Routes ingest keys may call are mounted here, before the agency-only guard.
  v1.route('/', usageIngestRoutes());
  v1.use('*', requireKeyKind('agency'));
  v1.route('/', planRoutes());
  v1.route('/', clientRoutes());
  v1.route('/', agencyRoutes());
  v1.route('/', webhookSecretRoutes());
  v1.route('/', agencyStripeRoutes());
  v1.route('/', apiKeyRoutes());
  v1.route('/', apiKeyRevokeRoutes());
  v1.route('/', clientPlanRoutes());
  v1.route('/', agentRoutes());
  v1.route('/', portalUserRoutes());
  v1.route('/', portalSessionCreateRoutes());
  v1.route('/', portalSessionRevokeRoutes());
  v1.route('/', packRoutes());
  v1.route('/', clientPackRoutes());
  v1.route('/', couponRoutes());
  v1.route('/', oneTimeProductRoutes());
  v1.route('/', subscriptionRoutes());
  v1.route('/', subscriptionCancelRoutes());
  v1.route('/', subscriptionCouponRoutes());
  v1.route('/', subscriptionChangeRoutes());
  v1.route('/', paymentRequestRoutes());
  v1.route('/', paymentRequestMarkRoutes());
  v1.route('/', invoicePdfRoutes());
  v1.route('/', clientPackApplyRoutes());
  v1.route('/', walletRoutes());
  v1.route('/', reportRoutes());
  v1.route('/', eventRoutes());
  v1.route('/', accessRoutes());
  v1.route('/', paymentMethodRoutes());
  documentIdempotency(v1);
  return v1;
}
