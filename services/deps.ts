/** What the services are handed by their caller (the API, a background loop, a test). */
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/client';
import type { Logger } from '../lib/logger';

export interface ServiceDeps {
  sql: Sql;
  temporal: Client;
  log: Logger;
}
