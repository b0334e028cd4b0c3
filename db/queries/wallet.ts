/**
 * The wallet: a per-client ledger of seconds (packs credit it, period closes debit it). It never
 * expires and outlives subscriptions; the balance is the sum of the ledger. Every row carries a
 * unique reference derived from what caused it, so a retried credit or debit writes once.
 */
import type { AnySql } from '../client';

export interface LedgerRow {
  id: string;
  seconds: number;
  reason: 'pack' | 'usage' | 'adjustment';
  reference: string;
  createdAt: Date;
}

/** The client's balance in seconds. */
export async function walletBalance(sql: AnySql, clientId: string): Promise<number> {
  const [row] = await sql<{ seconds: number }[]>`
    select coalesce(sum(seconds), 0)::bigint as seconds from wallet_ledger where client_id = ${clientId}`;
  return row!.seconds;
}

/** Serializes debits of one client's wallet for the rest of the transaction. */
export async function lockWallet(tx: AnySql, clientId: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtext(${`wallet:${clientId}`}))`;
}

/** Adds a ledger row (positive credits, negative debits); false when the reference was used. */
export async function addLedgerRow(
  tx: AnySql,
  r: {
    agencyId: string;
    clientId: string;
    seconds: number;
    reason: LedgerRow['reason'];
    reference: string;
  },
): Promise<boolean> {
  const rows = await tx`
    insert into wallet_ledger (agency_id, client_id, seconds, reason, reference)
    values (${r.agencyId}, ${r.clientId}, ${r.seconds}, ${r.reason}, ${r.reference})
    on conflict (reference) do nothing returning id`;
  return rows.length === 1;
}

/** Ledger rows newest first; `after` is the id of the last row of the previous page. */
export async function listLedger(
  sql: AnySql,
  f: { agencyId: string; clientId: string; after?: string | undefined; limit: number },
): Promise<LedgerRow[]> {
  return sql<LedgerRow[]>`
    select id::text as id, seconds, reason, reference, created_at as "createdAt"
    from wallet_ledger where agency_id = ${f.agencyId} and client_id = ${f.clientId}
      ${f.after && /^\d{1,18}$/.test(f.after) ? sql`and id < ${f.after}::bigint` : sql``}
    order by id desc limit ${f.limit}`;
}
