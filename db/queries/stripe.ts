/**
 * Stripe Connect rows: each agency's connected account with the status Stripe reported, and
 * the Connect webhook events received (each stored once, by its id).
 */
import type { AnySql, Sql } from '../client';

export type StripeAccountType = 'standard' | 'express';

/** What Stripe says about a connected account (from account.updated, or the creation answer). */
export interface StripeAccountStatus {
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
  requirementsDue: string[];
  disabledReason: string | null;
}

export interface AgencyStripeAccount extends StripeAccountStatus {
  agencyId: string;
  accountId: string;
  type: StripeAccountType;
  generation: number;
  /** `created` of the account.updated event applied last; null: only the creation answer. */
  statusEventCreated: Date | null;
  disconnectedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const accountColumns = (sql: AnySql) => sql`
  agency_id as "agencyId", account_id as "accountId", account_type as "type", generation,
  charges_enabled as "chargesEnabled", payouts_enabled as "payoutsEnabled",
  details_submitted as "detailsSubmitted", requirements_due as "requirementsDue",
  disabled_reason as "disabledReason", status_event_created as "statusEventCreated",
  disconnected_at as "disconnectedAt", created_at as "createdAt", updated_at as "updatedAt"`;

/** The agency's connected account (live or disconnected), or null when it never connected. */
export async function getAgencyStripeAccount(
  sql: AnySql,
  agencyId: string,
): Promise<AgencyStripeAccount | null> {
  const [row] = await sql<AgencyStripeAccount[]>`
    select ${accountColumns(sql)} from agency_stripe_accounts where agency_id = ${agencyId}`;
  return row ?? null;
}

/**
 * Stores a newly created connected account for the agency: a first account, or one replacing
 * a disconnected account of an earlier generation. A live account already there (a concurrent
 * connect got in first) is kept and returned. agencies.stripe_account_id follows the row.
 */
export async function saveStripeAccount(
  sql: Sql,
  a: { agencyId: string; accountId: string; type: StripeAccountType; generation: number },
  status: StripeAccountStatus,
): Promise<AgencyStripeAccount> {
  return sql.begin(async (tx) => {
    const [saved] = await tx<AgencyStripeAccount[]>`
      insert into agency_stripe_accounts (agency_id, account_id, account_type, generation,
        charges_enabled, payouts_enabled, details_submitted, requirements_due, disabled_reason)
      values (${a.agencyId}, ${a.accountId}, ${a.type}, ${a.generation}, ${status.chargesEnabled},
        ${status.payoutsEnabled}, ${status.detailsSubmitted}, ${status.requirementsDue},
        ${status.disabledReason})
      on conflict (agency_id) do update set
        account_id = excluded.account_id, account_type = excluded.account_type,
        generation = excluded.generation, charges_enabled = excluded.charges_enabled,
        payouts_enabled = excluded.payouts_enabled,
        details_submitted = excluded.details_submitted,
        requirements_due = excluded.requirements_due, disabled_reason = excluded.disabled_reason,
        status_event_created = null, disconnected_at = null, created_at = now(), updated_at = now()
      where agency_stripe_accounts.disconnected_at is not null
        and agency_stripe_accounts.generation < excluded.generation
      returning ${accountColumns(tx)}`;
    if (!saved) return (await getAgencyStripeAccount(tx, a.agencyId))!;
    await tx`
      update agencies set stripe_account_id = ${saved.accountId}, updated_at = now()
      where id = ${a.agencyId}`;
    return saved;
  });
}

/**
 * The account a Connect event is about, locked until the transaction ends, so that the events
 * of one account are handled one at a time (the ordering check then reads a settled row).
 */
export async function lockStripeAccount(
  sql: AnySql,
  accountId: string,
): Promise<AgencyStripeAccount | null> {
  const [row] = await sql<AgencyStripeAccount[]>`
    select ${accountColumns(sql)} from agency_stripe_accounts where account_id = ${accountId}
    for update`;
  return row ?? null;
}

/** Stores an account.updated status and the `created` of the event it came with. */
export async function setStripeAccountStatus(
  sql: AnySql,
  accountId: string,
  status: StripeAccountStatus,
  eventCreated: Date,
): Promise<void> {
  await sql`
    update agency_stripe_accounts set
      charges_enabled = ${status.chargesEnabled}, payouts_enabled = ${status.payoutsEnabled},
      details_submitted = ${status.detailsSubmitted}, requirements_due = ${status.requirementsDue},
      disabled_reason = ${status.disabledReason}, status_event_created = ${eventCreated},
      updated_at = now()
    where account_id = ${accountId}`;
}

/**
 * Marks the account disconnected (the platform's access was revoked); returns the agency, or
 * null when it was already disconnected. The agency's stripe_account_id is cleared with it.
 */
export async function disconnectStripeAccount(
  sql: AnySql,
  accountId: string,
  at: Date,
): Promise<{ agencyId: string } | null> {
  const [row] = await sql<{ agencyId: string }[]>`
    update agency_stripe_accounts set disconnected_at = ${at}, updated_at = now()
    where account_id = ${accountId} and disconnected_at is null
    returning agency_id as "agencyId"`;
  if (!row) return null;
  await sql`
    update agencies set stripe_account_id = null, updated_at = now()
    where id = ${row.agencyId} and stripe_account_id = ${accountId}`;
  return row;
}

/**
 * The connected account stripe-mode collection may charge on, or null: none, disconnected, or
 * charges not (yet) enabled. Collection asks this before every Stripe call on the agency's behalf.
 */
export async function chargeableStripeAccount(
  sql: AnySql,
  agencyId: string,
): Promise<string | null> {
  const [row] = await sql<{ accountId: string }[]>`
    select account_id as "accountId" from agency_stripe_accounts
    where agency_id = ${agencyId} and disconnected_at is null and charges_enabled`;
  return row?.accountId ?? null;
}

export interface NewStripeEvent {
  id: string;
  account: string | null;
  type: string;
  created: Date;
  agencyId: string | null;
}

/** Stores a received event; false when its id was stored before (a redelivery or replay). */
export async function insertStripeEvent(sql: AnySql, e: NewStripeEvent): Promise<boolean> {
  const rows = await sql`
    insert into stripe_events (id, account, type, created, agency_id)
    values (${e.id}, ${e.account}, ${e.type}, ${e.created}, ${e.agencyId})
    on conflict (id) do nothing
    returning id`;
  return rows.length === 1;
}

/** Records that a handler ran for the event. */
export async function markStripeEventProcessed(sql: AnySql, id: string): Promise<void> {
  await sql`update stripe_events set processed_at = now() where id = ${id}`;
}

export interface StripeEventRow extends NewStripeEvent {
  receivedAt: Date;
  processedAt: Date | null;
}

/** One stored event (tests and operators). */
export async function getStripeEvent(sql: AnySql, id: string): Promise<StripeEventRow | null> {
  const [row] = await sql<StripeEventRow[]>`
    select id, account, type, created, agency_id as "agencyId", received_at as "receivedAt",
      processed_at as "processedAt"
    from stripe_events where id = ${id}`;
  return row ?? null;
}
