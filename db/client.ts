/** The one place that builds a postgres.js client. A factory, so tests and tools make their own. */
import postgres from 'postgres';

export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;

export interface SqlOptions {
  max?: number;
  /** Silence NOTICE messages (migrations emit them for IF NOT EXISTS). */
  quiet?: boolean;
}

export function createSql(url: string, options: SqlOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    // bigint columns arrive as JS numbers: our money amounts fit safely (checked on the way in).
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (x: number | bigint) => x.toString(),
        parse: (x: string) => {
          const n = Number(x);
          if (!Number.isSafeInteger(n))
            throw new RangeError(`bigint ${x} exceeds the safe integer range`);
          return n;
        },
      },
    },
    onnotice: options.quiet === false ? undefined : () => {},
    connection: { application_name: 'tally' },
  });
}

/** Either the pool or a transaction: query functions accept both. */
export type AnySql = Sql | TransactionSql;

/** Connection-level failures: the server is down, restarting or unreachable (not a bad query). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  // admin_shutdown, crash_shutdown, cannot_connect_now (starting up or in recovery)
  '57P01',
  '57P02',
  '57P03',
]);

/**
 * Whether `err` says the database could not be reached (down, restarting, recovering), so the
 * API answers 503 "try again" instead of 500. SQLSTATE class 08 is "connection exception".
 * Follows `cause` and AggregateError members, since drivers and Node wrap these.
 */
export function isDatabaseUnreachable(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 5) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)))
    return true;
  if (err instanceof AggregateError && err.errors.some((e) => isDatabaseUnreachable(e, depth + 1)))
    return true;
  return isDatabaseUnreachable((err as { cause?: unknown }).cause, depth + 1);
}
