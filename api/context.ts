/** Typed context variables, set once by middleware. */
import type { Client } from '@temporalio/client';
import type { StripePlatform } from '../collection/stripe/client';
import type { Sql } from '../db/client';
import type { Logger } from '../lib/logger';

export interface ApiDeps {
  sql: Sql;
  temporal: Client;
  log: Logger;
  platformRateMinorPerMinute: string;
  adminKey: string | undefined;
  /** The platform's Stripe set-up; null or absent: stripe mode is off. */
  stripe: StripePlatform | null;
}

export type KeyKind = 'agency' | 'ingest';

export interface AppEnv {
  Variables: {
    requestId: string;
    deps: ApiDeps;
    /** Set by the auth middleware on /v1 routes. */
    agencyId: string;
    keyKind: KeyKind;
  };
}
