/**
 * Creating and changing clients, and the two checks their resources' writes share (the client is
 * there; a unique value is not taken). What a change implies commits with the row and is
 * delivered once committed: a new per-minute rate is owed to the running subscription
 * (services/client-rates.ts); disabling or enabling, or a new billing mode or collection method
 * (whether the client needs a card on file), recomputes the client's access (services/access.ts).
 */
import type { StripePlatform } from '../collection/stripe/client';
import type { AnySql } from '../db/client';
import {
  disableClient,
  enableClient,
  getClient,
  insertClient,
  lockClient,
  updateClient as updateClientRow,
  type ClientFields,
  type ClientRow,
} from '../db/queries/clients';
import { newId } from '../lib/ids';
import { alreadyTaken, isUniqueViolation, notFound, type ApiError } from '../lib/errors';
import { clientAccessChanged } from './access';
import { checkClientRate, queueClientRateChange } from './client-rates';
import type { ServiceDeps } from './deps';

/** The write's result; `taken()` is thrown instead when the write hit a unique constraint. */
export async function unlessTaken<T>(write: Promise<T>, taken: () => ApiError): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (isUniqueViolation(err)) throw taken();
    throw err;
  }
}

/** The agency's own ids are unique per agency: a second use is a 409 naming the field. */
const externalIdUnique = <T>(write: Promise<T>, externalId: string | null | undefined) =>
  unlessTaken(write, () =>
    alreadyTaken('externalId', `another client already has externalId ${externalId}`),
  );

/** The client, or a 404 naming it. */
export async function requireClient(sql: AnySql, agencyId: string, id: string) {
  const client = await getClient(sql, agencyId, id);
  if (!client) throw notFound('client', id);
  return client;
}

type NewClient = Omit<ClientFields, 'disabled' | 'planId'>;

/** The platform's Stripe set-up, for the access rule on cards (null or absent: stripe mode off). */
type StripeDep = { stripe: StripePlatform | null };

/** Creates an enabled client without a plan. */
export async function createClient(
  deps: { sql: AnySql; platformRateMinorPerMinute: string },
  agencyId: string,
  fields: NewClient,
): Promise<ClientRow> {
  checkClientRate(fields.rateMinorPerMinute, deps.platformRateMinorPerMinute);
  return externalIdUnique(
    insertClient(deps.sql, agencyId, newId('cli'), { ...fields, disabled: false, planId: null }),
    fields.externalId,
  );
}

/**
 * Updates a client. The row, the rate it owes the running subscription and the access a new
 * billing mode or collection method implies commit together; the rate is delivered to the
 * workflow after commit (or by the worker's sweeper, should that fail), and so is the access
 * change's webhook.
 */
export async function updateClient(
  deps: ServiceDeps & StripeDep & { platformRateMinorPerMinute: string },
  agencyId: string,
  id: string,
  fields: Partial<NewClient>,
): Promise<ClientRow> {
  const { client, deliver, pushAccess } = await deps.sql.begin(async (tx) => {
    const before = await lockClient(tx, agencyId, id);
    if (!before) throw notFound('client', id);
    checkClientRate(fields.rateMinorPerMinute, deps.platformRateMinorPerMinute);
    const after = await externalIdUnique(
      updateClientRow(tx, agencyId, id, fields),
      fields.externalId,
    );
    if (!after) throw notFound('client', id);
    const deliver =
      after.rateMinorPerMinute !== before.rateMinorPerMinute
        ? await queueClientRateChange(deps, tx, agencyId, id, after.rateMinorPerMinute)
        : null;
    const pushAccess =
      after.billingMode !== before.billingMode || after.collectionMethod !== before.collectionMethod
        ? await clientAccessChanged(deps, tx, agencyId, id)
        : null;
    return { client: after, deliver, pushAccess };
  });
  await deliver?.();
  await pushAccess?.();
  return client;
}

/**
 * Disables or enables a client. The row and the access it implies (state, event, webhook outbox
 * row) commit together: an error leaves both as they were. 404 when there is no such client.
 */
export async function disableOrEnableClient(
  deps: Pick<ServiceDeps, 'sql' | 'temporal'> & StripeDep,
  agencyId: string,
  id: string,
  action: 'disable' | 'enable',
): Promise<ClientRow> {
  const change = action === 'disable' ? disableClient : enableClient;
  const done = await deps.sql.begin(async (tx) => {
    const client = await change(tx, agencyId, id);
    if (!client) return null;
    return { client, pushAccess: await clientAccessChanged(deps, tx, agencyId, id) };
  });
  if (!done) throw notFound('client', id);
  await done.pushAccess();
  return done.client;
}
