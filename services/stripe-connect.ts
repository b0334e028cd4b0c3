/**
 * Agency onboarding to Stripe Connect: the agency's connected account is created once (an
 * idempotency key derived from the agency, so a retried or concurrent connect gets the same
 * account), and every connect hands out a fresh single-use Account Link. The account's status
 * is seeded from Stripe's creation answer and afterwards moves only with account.updated
 * (services/stripe-events.ts), never with the browser's return from onboarding.
 */
import Stripe from 'stripe';
import type { StripePlatform } from '../collection/stripe/client';
import type { Sql } from '../db/client';
import {
  getAgencyStripeAccount,
  saveStripeAccount,
  type AgencyStripeAccount,
  type StripeAccountStatus,
  type StripeAccountType,
} from '../db/queries/stripe';

/** Stripe mode is off: the platform has no Stripe set-up. */
export class StripeNotConfiguredError extends Error {
  override name = 'StripeNotConfiguredError';
  constructor() {
    super(
      'stripe mode is off: the platform has no Stripe set-up (STRIPE_SECRET_KEY and the Connect settings are unset)',
    );
  }
}

/** The agency asked for another account type than the one it has (or is being created). */
export class StripeAccountTypeConflictError extends Error {
  override name = 'StripeAccountTypeConflictError';
}

/** Where the agency stands with Stripe, derived from the stored row. */
export type StripeConnectionState = 'not_connected' | 'onboarding' | 'enabled' | 'disconnected';

/** The state shown to the agency: `enabled` once Stripe allows charges on the account. */
export function stripeConnectionState(row: AgencyStripeAccount | null): StripeConnectionState {
  if (!row) return 'not_connected';
  if (row.disconnectedAt) return 'disconnected';
  return row.chargesEnabled ? 'enabled' : 'onboarding';
}

/** The status fields of a Stripe account object. */
export function accountStatusOf(account: Stripe.Account): StripeAccountStatus {
  return {
    chargesEnabled: account.charges_enabled ?? false,
    payoutsEnabled: account.payouts_enabled ?? false,
    detailsSubmitted: account.details_submitted ?? false,
    requirementsDue: account.requirements?.currently_due ?? [],
    disabledReason: account.requirements?.disabled_reason ?? null,
  };
}

/**
 * The idempotency key of an account creation: the same for every attempt of one agency's
 * generation (retries, concurrent calls, a crash between Stripe's answer and our insert), a
 * new one after a deauthorization.
 */
export function accountCreationKey(agencyId: string, generation: number): string {
  return `tally:connect-account:${agencyId}:${generation}`;
}

export interface StripeConnectDeps {
  sql: Sql;
  stripe: StripePlatform | null | undefined;
}

/** The platform's Stripe set-up, or StripeNotConfiguredError. */
export function requireStripe(stripe: StripePlatform | null | undefined): StripePlatform {
  if (!stripe) throw new StripeNotConfiguredError();
  return stripe;
}

export interface OnboardingLink {
  account: AgencyStripeAccount;
  url: string;
  expiresAt: Date;
}

/**
 * Connects the agency: creates its connected account unless it has a live one (Standard unless
 * asked otherwise), then returns a fresh onboarding link for it. A disconnected account is
 * replaced by a new one.
 */
export async function connectStripeAccount(
  deps: StripeConnectDeps,
  agencyId: string,
  requestedType: StripeAccountType | undefined,
): Promise<OnboardingLink> {
  const { stripe, settings } = requireStripe(deps.stripe);
  let account = await getAgencyStripeAccount(deps.sql, agencyId);
  if (account && !account.disconnectedAt) {
    if (requestedType && requestedType !== account.type) {
      throw new StripeAccountTypeConflictError(
        `the agency's Stripe account ${account.accountId} is ${account.type}, not ${requestedType}`,
      );
    }
  } else {
    const type = requestedType ?? 'standard';
    const generation = account ? account.generation + 1 : 1;
    const created = await createAccount(stripe, agencyId, type, generation);
    account = await saveStripeAccount(
      deps.sql,
      { agencyId, accountId: created.id, type, generation },
      accountStatusOf(created),
    );
  }
  // No idempotency key of ours: each connect must get a new link (links are single-use and
  // expire within minutes); the SDK keys its own network retry.
  const link = await stripe.accountLinks.create({
    account: account.accountId,
    type: 'account_onboarding',
    return_url: settings.connectReturnUrl,
    refresh_url: settings.connectRefreshUrl,
  });
  return { account, url: link.url, expiresAt: new Date(link.expires_at * 1000) };
}

async function createAccount(
  stripe: Stripe,
  agencyId: string,
  type: StripeAccountType,
  generation: number,
): Promise<Stripe.Account> {
  try {
    return await stripe.accounts.create(
      {
        type,
        metadata: { tally_agency_id: agencyId },
        // Express accounts get only what they request; card payments and transfers are what
        // invoices paid on the account with an application fee need. Standard ones get all.
        ...(type === 'express'
          ? { capabilities: { card_payments: { requested: true }, transfers: { requested: true } } }
          : {}),
      },
      { idempotencyKey: accountCreationKey(agencyId, generation) },
    );
  } catch (err) {
    // The same key with other parameters: an earlier attempt asked for the other type.
    if (err instanceof Stripe.errors.StripeIdempotencyError) {
      throw new StripeAccountTypeConflictError(
        `a ${type} account cannot be created now: an earlier connect of this agency asked for another type; repeat it with that type`,
      );
    }
    throw err;
  }
}

/** The agency's stored Stripe account, or null. */
export function getStripeConnection(sql: Sql, agencyId: string) {
  return getAgencyStripeAccount(sql, agencyId);
}
