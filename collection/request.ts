/**
 * Reads what a collector is handed for a claimed outbox row: the request as stored now, with its
 * lines. Kept apart from the presenter so every way of presenting sees the same shape.
 */
import type { Sql } from '../db/client';
import type { ClaimedCollection } from '../db/queries/collection';
import { getPaymentRequest, getPaymentRequestLines } from '../db/queries/payment-requests';
import type { CollectionRequest } from './collector';

/** The claimed row's request and lines; null if the request is gone (it never is: FK). */
export async function loadCollectionRequest(
  sql: Sql,
  claim: ClaimedCollection,
): Promise<CollectionRequest | null> {
  const row = await getPaymentRequest(sql, claim.agencyId, claim.requestId);
  if (!row) return null;
  return {
    requestId: row.id,
    agencyId: row.agencyId,
    clientId: row.clientId,
    subscriptionId: row.subscriptionId,
    billingMode: claim.billingMode,
    type: row.type,
    status: row.status,
    currency: row.currency,
    subtotalMinor: row.subtotalMinor,
    discountMinor: row.discountMinor,
    taxMinor: row.taxMinor,
    totalMinor: row.totalMinor,
    lines: await getPaymentRequestLines(sql, row.id),
    issuedAt: row.issuedAt,
    dueAt: row.dueAt,
    graceEndsAt: row.graceEndsAt,
    attempt: claim.attempt,
    queuedAt: claim.queuedAt,
  };
}
