/** The agency's event feed: overdue, past due, blocked, canceled, payment recorded, access changed. */
import { newId } from '../../lib/ids';
import type { AnySql, Sql } from '../client';

export interface NewEvent {
  agencyId: string;
  type: string;
  clientId: string | null;
  subjectType: string;
  subjectId: string;
  data: Record<string, unknown>;
  /** Same key, same event: a retried activity records it once. */
  dedupeKey: string | null;
}

export interface EventRow {
  id: string;
  type: string;
  clientId: string | null;
  subjectType: string;
  subjectId: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

/** Records an event; returns its id, or null when the dedupe key was already used. */
export async function recordEvent(sql: AnySql, e: NewEvent): Promise<string | null> {
  const id = newId('evt');
  const rows = await sql<{ id: string }[]>`
    insert into events (id, agency_id, type, client_id, subject_type, subject_id, data, dedupe_key)
    values (${id}, ${e.agencyId}, ${e.type}, ${e.clientId}, ${e.subjectType}, ${e.subjectId},
      ${sql.json(e.data as never)}, ${e.dedupeKey})
    on conflict (dedupe_key) do nothing
    returning id`;
  return rows[0]?.id ?? null;
}

/** Records several events in one statement; a used dedupe key skips its event. */
export async function recordEvents(sql: AnySql, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    id: newId('evt'),
    agency_id: e.agencyId,
    type: e.type,
    client_id: e.clientId,
    subject_type: e.subjectType,
    subject_id: e.subjectId,
    data: e.data,
    dedupe_key: e.dedupeKey,
  }));
  await sql`
    insert into events (id, agency_id, type, client_id, subject_type, subject_id, data, dedupe_key)
    select * from jsonb_to_recordset(${sql.json(rows as never)}) as e(
      id text, agency_id text, type text, client_id text, subject_type text, subject_id text,
      data jsonb, dedupe_key text)
    order by id
    on conflict (dedupe_key) do nothing`;
}

export async function listEvents(
  sql: Sql,
  f: {
    agencyId: string;
    type?: string | undefined;
    clientId?: string | undefined;
    after?: string | undefined;
    limit: number;
  },
): Promise<EventRow[]> {
  return sql<EventRow[]>`
    select id, type, client_id as "clientId", subject_type as "subjectType", subject_id as "subjectId",
      data, created_at as "createdAt"
    from events where agency_id = ${f.agencyId}
      ${f.type ? sql`and type = ${f.type}` : sql``}
      ${f.clientId ? sql`and client_id = ${f.clientId}` : sql``}
      ${f.after ? sql`and id < ${f.after}` : sql``}
    order by id desc limit ${f.limit}`;
}
