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
