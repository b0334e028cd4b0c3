/** What an event handler of the Connect webhook endpoint is given (services/stripe-events.ts). */
import type { Client } from '@temporalio/client';
import type Stripe from 'stripe';
import type { AccessChange } from '../db/queries/access';
import type { Sql, TransactionSql } from '../db/client';
import type { AgencyStripeAccount } from '../db/queries/stripe';
import type { Logger } from '../lib/logger';

export interface StripeEventContext {
  tx: TransactionSql;
  /** For writes that must not run in `tx` (a payment outcome goes through the workflow). */
  sql: Sql;
  /** The subscription workflows' client; absent: outcomes cannot be recorded (they throw). */
  temporal: Client | undefined;
  stripe: Stripe;
  event: Stripe.Event;
  /** The agency's account the event is about, locked for this transaction. */
  account: AgencyStripeAccount;
  log: Logger;
  /** Pushes an access change stored in `tx` to the agency's webhook once `tx` committed. */
  pushAccess(change: AccessChange): void;
}

export type StripeEventHandler = (ctx: StripeEventContext) => Promise<void>;
