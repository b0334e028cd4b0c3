/**
 * A stripe-mode client's Stripe side: its Customer on the agency's connected account and the card
 * on file (the customer's default invoice payment method, as a completed setup session set it).
 */
import type { AnySql } from '../client';
import type { CollectionMethod } from './clients';

/** The card on file as shown: never the number, only what Stripe lets us show. */
export interface ClientCard {
  paymentMethodId: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  /** When Tally stored it. */
  updatedAt: Date;
}

export interface ClientStripe {
  clientId: string;
  agencyId: string;
  name: string;
  email: string | null;
  billingMode: string;
  collectionMethod: CollectionMethod;
  /** The currency of the client's assigned plan (ISO 4217, upper case), or null without one. */
  planCurrency: string | null;
  /** The customer and the connected account it lives on; null until first needed. */
  customerId: string | null;
  customerAccount: string | null;
  card: ClientCard | null;
  /** `created` of the event that set the card (an older one never replaces it). */
  cardEventCreated: Date | null;
}

interface Row extends Omit<ClientStripe, 'card'> {
  paymentMethodId: string | null;
  brand: string | null;
  last4: string | null;
  expMonth: number | null;
  expYear: number | null;
  cardUpdatedAt: Date | null;
}

const columns = (sql: AnySql) => sql`
  id as "clientId", agency_id as "agencyId", name, email, billing_mode as "billingMode",
  collection_method as "collectionMethod", stripe_customer_id as "customerId",
  stripe_customer_account as "customerAccount", payment_method_id as "paymentMethodId",
  card_brand as brand, card_last4 as last4, card_exp_month as "expMonth",
  card_exp_year as "expYear", card_updated_at as "cardUpdatedAt",
  card_event_created as "cardEventCreated",
  (select p.currency from plans p where p.id = clients.plan_id) as "planCurrency"`;

function fromRow(r: Row): ClientStripe {
  const { paymentMethodId, brand, last4, expMonth, expYear, cardUpdatedAt, ...rest } = r;
  const card =
    paymentMethodId === null
      ? null
      : {
          paymentMethodId,
          brand: brand ?? 'unknown',
          last4: last4 ?? '',
          expMonth: expMonth ?? 0,
          expYear: expYear ?? 0,
          updatedAt: cardUpdatedAt!,
        };
  return { ...rest, card };
}

/** The client's Stripe side, or null when it is not this agency's. */
export async function getClientStripe(
  sql: AnySql,
  agencyId: string,
  clientId: string,
): Promise<ClientStripe | null> {
  const [row] = await sql<Row[]>`
    select ${columns(sql)} from clients where id = ${clientId} and agency_id = ${agencyId}`;
  return row ? fromRow(row) : null;
}

/**
 * Stores the client's customer on `accountId`, unless it already has one there (a concurrent
 * setup got in first: its customer is kept, and Stripe answered both with the same one since
 * they carried one key). A customer on another (earlier) account is replaced, and the card with
 * it: that card belongs to the old account. Returns the customer now stored.
 */
export async function saveStripeCustomer(
  sql: AnySql,
  agencyId: string,
  clientId: string,
  accountId: string,
  customerId: string,
): Promise<string> {
  await sql`
    update clients set stripe_customer_id = ${customerId}, stripe_customer_account = ${accountId},
      payment_method_id = null, card_brand = null, card_last4 = null, card_exp_month = null,
      card_exp_year = null, card_event_created = null, card_updated_at = null, updated_at = now()
    where id = ${clientId} and agency_id = ${agencyId}
      and (stripe_customer_id is null or stripe_customer_account is distinct from ${accountId})`;
  const [row] = await sql<{ customerId: string }[]>`
    select stripe_customer_id as "customerId" from clients
    where id = ${clientId} and agency_id = ${agencyId}`;
  return row!.customerId;
}

/** The client whose customer this is on the account, locked for the transaction; or null. */
export async function lockClientByCustomer(
  tx: AnySql,
  accountId: string,
  customerId: string,
): Promise<ClientStripe | null> {
  const [row] = await tx<Row[]>`
    select ${columns(tx)} from clients
    where stripe_customer_account = ${accountId} and stripe_customer_id = ${customerId}
    for update`;
  return row ? fromRow(row) : null;
}

/** Stores the card on file and the `created` of the event it came with. */
export async function setClientCard(
  tx: AnySql,
  clientId: string,
  card: Omit<ClientCard, 'updatedAt'>,
  eventCreated: Date,
): Promise<void> {
  await tx`
    update clients set payment_method_id = ${card.paymentMethodId}, card_brand = ${card.brand},
      card_last4 = ${card.last4}, card_exp_month = ${card.expMonth},
      card_exp_year = ${card.expYear}, card_event_created = ${eventCreated},
      card_updated_at = now(), updated_at = now()
    where id = ${clientId}`;
}

/**
 * Removes the card on file when it is this payment method (a detached card cannot be attached
 * again, so nothing later brings it back); returns the client, or null when it had another.
 */
export async function clearClientCard(
  tx: AnySql,
  accountId: string,
  paymentMethodId: string,
): Promise<{ clientId: string; agencyId: string } | null> {
  const [row] = await tx<{ clientId: string; agencyId: string }[]>`
    update clients set payment_method_id = null, card_brand = null, card_last4 = null,
      card_exp_month = null, card_exp_year = null, card_updated_at = now(), updated_at = now()
    where stripe_customer_account = ${accountId} and payment_method_id = ${paymentMethodId}
    returning id as "clientId", agency_id as "agencyId"`;
  return row ?? null;
}
