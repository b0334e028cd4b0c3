/**
 * A real Temporal client for API tests whose routes never call Temporal (catalog, clients,
 * keys): a lazy connection to a port nothing listens on, without the retry interceptor, so a
 * route that did call Temporal would fail at once instead of hanging.
 */
import { Client, Connection } from '@temporalio/client';

export function unreachableTemporalClient(): Client {
  return new Client({
    connection: Connection.lazy({ address: '127.0.0.1:9', interceptors: [] }),
  });
}
