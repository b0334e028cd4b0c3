/** The /v1 route table. Order matters: admin bootstrap, then key auth, then agency-only routes. */
import { authenticate, requireKeyKind } from '../middleware/auth';
import { newApp } from '../hono';
import { agencyAdminRoutes } from './agencies';
import { clientRoutes } from './clients';
import { paymentRequestRoutes } from './payment-requests';
import { planRoutes } from './plans';
import { subscriptionRoutes } from './subscriptions';

export function v1Routes() {
  const v1 = newApp();
  v1.route('/', agencyAdminRoutes());
  v1.use('*', authenticate);
  // Routes ingest keys may call are mounted here, before the agency-only guard.
  v1.use('*', requireKeyKind('agency'));
  v1.route('/', planRoutes());
  v1.route('/', clientRoutes());
  v1.route('/', subscriptionRoutes());
  v1.route('/', paymentRequestRoutes());
  return v1;
}
