/** Temporal connections and search-attribute registration, shared by API, worker and start. */
import { Client, Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions';

/** A client on `namespace` of the server at `address`. */
export async function connectTemporal(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace });
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
