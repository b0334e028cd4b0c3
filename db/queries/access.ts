/**
 * Access states: whether each client may run campaigns, and why not. Reads are one indexed join
 * (the calling platform asks before every call); changes are computed under a per-client lock,
 * stored with a version, recorded as an `access.changed` event and queued for the agency's
 * webhook in the same transaction (the outbox).
 */
import {
  INITIAL_ACCESS,
  accessEventType,
  accessState,
  cardRequired,
  sameAccess,
  type AccessReason,
  type AccessState,
  type LiveSubscriptionStatus,
} from '../../billing/access';
import { newId } from '../../lib/ids';
import type { AnySql } from '../client';
import { recordEvent } from './events';

/**
 * What the process knows that the rows do not: whether the platform has a Stripe set-up (the
 * API and the worker parse the same STRIPE_* group). Without one no client needs a card.
 */
export interface AccessPolicy {
  stripeConfigured: boolean;
}

/** The client-row facts of the card rule, selected as "billingMode", "collectionMethod", "hasCard". */
const cardFacts = (sql: AnySql) => sql`
  c.billing_mode as "billingMode", c.collection_method as "collectionMethod",
  c.payment_method_id is not null as "hasCard"`;

interface CardFacts {
  billingMode: string;
  collectionMethod: string;
  hasCard: boolean;
}

const paymentMethodMissing = (policy: AccessPolicy, f: CardFacts) =>
  cardRequired({ ...policy, ...f }) && !f.hasCard;

export interface ClientAccess extends AccessState {
  clientId: string;
  /** Increases by one at every change; 0 before the first. */
  version: number;
  changedAt: Date | null;
}

/** The client's access, or null for an unknown client (or another agency's). */
export async function readClientAccess(
  sql: AnySql,
  agencyId: string,
  clientId: string,
  policy: AccessPolicy,
): Promise<ClientAccess | null> {
  const [row] = await sql<
    (CardFacts & {
      disabled: boolean;
      allowed: boolean | null;
      reasons: AccessReason[] | null;
      version: number | null;
      changedAt: Date | null;
    })[]
  >`
    select c.disabled, ${cardFacts(sql)}, a.allowed, a.reasons, a.version, a.changed_at as "changedAt"
    from clients c left join access_states a on a.client_id = c.id
    where c.id = ${clientId} and c.agency_id = ${agencyId}`;
  if (!row) return null;
  if (row.allowed === null) {
    // Nothing stored yet: the client never had a running subscription.
    const s = accessState({
      clientDisabled: row.disabled,
      subscriptionStatus: null,
      holds: [],
      paymentMethodMissing: paymentMethodMissing(policy, row),
    });
    return { clientId, ...s, version: 0, changedAt: null };
  }
  return {
    clientId,
    allowed: row.allowed,
    reasons: row.reasons ?? [],
    version: row.version ?? 0,
    changedAt: row.changedAt,
  };
}

export interface AccessChange {
  agencyId: string;
  clientId: string;
  state: AccessState;
  previous: AccessState;
  version: number;
  eventId: string;
  /** The webhook outbox row, when the agency has an endpoint. */
  deliveryId: string | null;
}

/**
 * Recomputes a client's access from the client row (disabled, the card rule under `policy`) and
 * its live subscription, and stores it if it changed: state, event and webhook outbox row, all in the caller's transaction. Callers
 * serialize on the client with a transaction-scoped advisory lock, so concurrent recomputes
 * (the worker after a status change, the API after a client is disabled) never lose a change.
 */
export async function recomputeAccess(
  tx: AnySql,
  clientId: string,
  policy: AccessPolicy,
): Promise<AccessChange | null> {
  await tx`select pg_advisory_xact_lock(hashtext(${`access:${clientId}`}))`;
  const [f] = await tx<
    (CardFacts & {
      agencyId: string;
      externalId: string | null;
      disabled: boolean;
      subscriptionId: string | null;
      status: LiveSubscriptionStatus | null;
      holds: string[] | null;
      allowed: boolean | null;
      reasons: AccessReason[] | null;
      version: number | null;
      webhookUrl: string | null;
    })[]
  >`
    select c.agency_id as "agencyId", c.external_id as "externalId", c.disabled, ${cardFacts(tx)},
      s.id as "subscriptionId", s.status, s.access_holds as holds,
      a.allowed, a.reasons, a.version, g.webhook_url as "webhookUrl"
    from clients c
    join agencies g on g.id = c.agency_id
    left join subscriptions s on s.client_id = c.id and s.status <> 'canceled'
    left join access_states a on a.client_id = c.id
    where c.id = ${clientId}`;
  if (!f) return null;
  const state = accessState({
    clientDisabled: f.disabled,
    subscriptionStatus: f.status,
    holds: f.holds ?? [],
    paymentMethodMissing: paymentMethodMissing(policy, f),
  });
  const previous: AccessState =
    f.allowed === null ? INITIAL_ACCESS : { allowed: f.allowed, reasons: f.reasons ?? [] };
  if (sameAccess(state, previous)) return null;
  const version = (f.version ?? 0) + 1;
  const changedAt = new Date();
  await tx`
    insert into access_states (client_id, agency_id, allowed, reasons, version, changed_at)
    values (${clientId}, ${f.agencyId}, ${state.allowed}, ${state.reasons}, ${version}, ${changedAt})
    on conflict (client_id) do update set allowed = excluded.allowed, reasons = excluded.reasons,
      version = excluded.version, changed_at = excluded.changed_at`;
  const data = {
    clientId,
    externalId: f.externalId,
    subscriptionId: f.subscriptionId,
    allowed: state.allowed,
    reasons: state.reasons,
    previousReasons: previous.reasons,
    version,
  };
  const eventId = (await recordEvent(tx, {
    agencyId: f.agencyId,
    type: 'access.changed',
    clientId,
    subjectType: 'client',
    subjectId: clientId,
    data,
    dedupeKey: `access:${clientId}:${version}`,
  }))!;
  let deliveryId: string | null = null;
  if (f.webhookUrl) {
    deliveryId = newId('whd');
    const payload = {
      id: eventId,
      type: accessEventType(state),
      createdAt: changedAt.toISOString(),
      data,
    };
    await tx`
      insert into webhook_deliveries (id, agency_id, event_id, url, payload)
      values (${deliveryId}, ${f.agencyId}, ${eventId}, ${f.webhookUrl}, ${tx.json(payload as never)})`;
  }
  return { agencyId: f.agencyId, clientId, state, previous, version, eventId, deliveryId };
}
