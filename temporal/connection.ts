/**
 * Temporal connections: connecting, probing a server, telling "unreachable" from "refused", and
 * registering search attributes; shared by API, worker and start.
 */
import { Client, Connection, ServiceError } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions';

/** A client on `namespace` of the server at `address`. */
export async function connectTemporal(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace });
}

/** gRPC codes of a Temporal server that is down or did not answer in time. */
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/** A Temporal call that failed because the server could not be reached, not because it refused. */
export function isTemporalUnreachable(err: unknown): boolean {
  const code =
    err instanceof ServiceError ? (err.cause as { code?: unknown } | undefined)?.code : undefined;
  return code === UNAVAILABLE || code === DEADLINE_EXCEEDED;
}

/** Whether the server at `address` answers gRPC and knows `namespace` (within about a second). */
export async function temporalAnswers(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await connection.workflowService.getSystemInfo({});
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => {});
  }
}

/**
 * Registers Tally's custom search attributes on a server (dev server or a self-hosted one);
 * already-registered attributes are left as they are.
 */
export async function registerSearchAttributes(client: Client, namespace: string): Promise<void> {
  const { IndexedValueType } = await import('@temporalio/proto').then(
    (m) => m.default.temporal.api.enums.v1,
  );
  // The Java time-skipping test server implements AddSearchAttributes but not List: there,
  // register everything (a fresh server knows none).
  const existing = await client.connection.operatorService
    .listSearchAttributes({ namespace })
    .catch((err: { code?: number }) => {
      if (err.code === 12 /* UNIMPLEMENTED */) return { customAttributes: {} };
      throw err;
    });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !known.has(name));
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map(([name, type]) => [
        name,
        type === 'KEYWORD'
          ? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
          : IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
      ]),
    ),
  });
}
