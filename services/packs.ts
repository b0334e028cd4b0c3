/**
 * A client's packs: assigning one (the only packs that client sees or can buy; in its plan's
 * currency), unassigning, listing; and the rule that a pack assigned to clients keeps its currency.
 *
 * Applying an add-on pack (assigned to the client, where its plan allows packs): the wallet is
 * credited at once and a `pack` payment request issued, pending or already paid as the agency
 * says, in one transaction. Pack requests have no grace period and never touch a subscription's
 * status. The wallet is a ledger that never expires and outlives periods and subscriptions.
 */
import type { RequestDraft } from '../billing/invoice';
import { addDaysMs } from '../billing/periods';
import type { AnySql, Sql } from '../db/client';
import { lockClient } from '../db/queries/clients';
import { recordEvent } from '../db/queries/events';
import {
  assignPack,
  countPackAssignments,
  getPack,
  isPackAssigned,
  listClientPacks,
  unassignPack,
  type PackRow,
} from '../db/queries/packs';
import {
  getPaymentRequestLines,
  insertPaymentRequestIn,
  type PaymentRequestLineRow,
  type PaymentRequestRow,
} from '../db/queries/payment-requests';
import { getPlan } from '../db/queries/plans';
import { getLiveSubscription } from '../db/queries/subscriptions';
import { queueUsageSignal } from '../db/queries/usage';
import { addLedgerRow, walletBalance } from '../db/queries/wallet';
import { ApiError, invalidField, notFound } from '../lib/errors';
import { newId } from '../lib/ids';
import { requireClient } from './clients';

/** Assigns pack `packId` to client `id`; `created` is false when it already was. */
export async function assignClientPack(
  sql: Sql,
  agencyId: string,
  id: string,
  packId: string,
): Promise<{ pack: PackRow; created: boolean }> {
  return sql.begin(async (tx) => {
    // Locked against a concurrent plan assignment with another currency.
    const client = await lockClient(tx, agencyId, id);
    if (!client) throw notFound('client', id);
    const pack = await getPack(tx, agencyId, packId);
    if (!pack) throw invalidField('packId', `no pack ${packId}`);
    if (pack.archivedAt) throw invalidField('packId', `pack ${packId} is archived`);
    const plan = client.planId ? await getPlan(tx, agencyId, client.planId) : null;
    if (plan && plan.currency !== pack.currency) {
      throw invalidField(
        'packId',
        `pack ${packId} is in ${pack.currency} but the client\u2019s plan is in ${plan.currency}`,
      );
    }
    return { pack, created: await assignPack(tx, agencyId, id, packId) };
  });
}

/** The packs assigned to client `id` (a 404 when it is not the agency's), one page. */
export async function listPacksOfClient(
  sql: AnySql,
  f: Parameters<typeof listClientPacks>[1],
): Promise<PackRow[]> {
  await requireClient(sql, f.agencyId, f.clientId);
  return listClientPacks(sql, f);
}

/** Unassigns pack `packId` from client `id`; a 404 when the client or the assignment is not there. */
export async function unassignClientPack(
  sql: AnySql,
  agencyId: string,
  id: string,
  packId: string,
): Promise<void> {
  await requireClient(sql, agencyId, id);
  if (!(await unassignPack(sql, agencyId, id, packId)))
    throw notFound('pack assignment', `${packId} on client ${id}`);
}

/** Refuses a change of `current`'s currency while the pack is assigned to clients (a 409). */
export async function checkPackUpdate(
  tx: AnySql,
  agencyId: string,
  current: PackRow,
  change: { currency?: string | undefined },
): Promise<void> {
  if (
    change.currency !== undefined &&
    change.currency !== current.currency &&
    (await countPackAssignments(tx, agencyId, current.id)) > 0
  ) {
    throw new ApiError(
      'conflict',
      `currency: pack ${current.id} is assigned to clients, so its currency stays ${current.currency}`,
      [{ field: 'currency', message: 'cannot change while the pack is assigned' }],
    );
  }
}

/** Terms that decide whether packs may be applied: the live subscription's, else the plan's. */
async function packTerms(tx: AnySql, agencyId: string, clientId: string, planId: string | null) {
  const sub = await getLiveSubscription(tx, agencyId, clientId);
  if (sub) return { subscriptionId: sub.id, terms: sub.terms, name: sub.terms.name };
  const plan = planId ? await getPlan(tx, agencyId, planId) : null;
  if (!plan) return null;
  return { subscriptionId: null, terms: plan, name: plan.name };
}

/** What an application did: the pack request with its lines, the credit, the balance after. */
export interface PackApplication {
  request: PaymentRequestRow;
  lines: PaymentRequestLineRow[];
  seconds: number;
  balance: number;
}

/** Applies pack `packId` to client `id`; its request starts `status`. */
export async function applyPack(
  sql: Sql,
  agencyId: string,
  id: string,
  packId: string,
  status: 'pending' | 'paid',
): Promise<PackApplication> {
  return sql.begin(async (tx) => {
    const client = await lockClient(tx, agencyId, id);
    if (!client) throw notFound('client', id);
    const pack = await getPack(tx, agencyId, packId);
    if (!pack) throw notFound('pack', packId);
    if (pack.archivedAt) throw new ApiError('conflict', `pack ${packId} is archived`);
    if (!(await isPackAssigned(tx, agencyId, id, packId)))
      throw new ApiError('conflict', `pack ${packId} is not assigned to client ${id}`);
    const plan = await packTerms(tx, agencyId, id, client.planId);
    if (!plan) throw new ApiError('conflict', `client ${id} has no plan: packs apply under a plan`);
    if (!plan.terms.packsAllowed)
      throw new ApiError('conflict', `plan ${plan.name} does not allow add-on packs`);
    if (plan.terms.currency !== pack.currency)
      throw new ApiError(
        'conflict',
        `pack ${packId} is in ${pack.currency} but the plan is in ${plan.terms.currency}`,
      );
    const now = Date.now();
    const draft: RequestDraft = {
      currency: pack.currency,
      lines: [
        {
          kind: 'pack',
          description: `Add-on pack ${pack.name}: ${pack.minutes} minutes`,
          quantity: '1',
          unitAmountMinor: String(pack.priceMinor),
          amountMinor: pack.priceMinor,
          periodStartMs: null,
          periodEndMs: null,
          details: { packId: pack.id, minutes: pack.minutes },
        },
      ],
      subtotalMinor: pack.priceMinor,
      discountMinor: 0,
      taxMinor: 0,
      totalMinor: pack.priceMinor,
    };
    const { request } = await insertPaymentRequestIn(tx, {
      agencyId,
      clientId: id,
      // The wallet is the client's and outlives subscriptions: the request names none.
      subscriptionId: null,
      type: 'pack',
      periodIndex: null,
      status,
      draft,
      issuedAt: new Date(now),
      dueAt: new Date(addDaysMs(now, plan.terms.dueDays)),
      graceEndsAt: null, // pack requests have no grace period
      idempotencyKey: `pack:${newId('req')}`,
    });
    const seconds = pack.minutes * 60;
    await addLedgerRow(tx, {
      agencyId,
      clientId: id,
      seconds,
      reason: 'pack',
      reference: `pack:${request.id}`,
    });
    for (const [type, data] of [
      ['payment_request.issued', { type: 'pack', packId, totalMinor: pack.priceMinor, status }],
      ['wallet.credited', { packId, seconds, requestId: request.id }],
    ] as const) {
      await recordEvent(tx, {
        agencyId,
        type,
        clientId: id,
        subjectType: type === 'wallet.credited' ? 'client' : 'payment_request',
        subjectId: type === 'wallet.credited' ? id : request.id,
        data,
        dedupeKey: `${type}:${request.id}`,
      });
    }
    // The workflow re-reads its counters: minutes may be available again.
    if (plan.subscriptionId) await queueUsageSignal(tx, [plan.subscriptionId]);
    // Everything the answer shows is read here: once committed, the credit stands, and a
    // read failing after it would answer an error for a change that was made.
    return {
      request,
      seconds,
      balance: await walletBalance(tx, id),
      lines: await getPaymentRequestLines(tx, request.id),
    };
  });
}
