/**
 * Configuration, parsed with zod at each entry point. A bad or missing value stops the process
 * with a message naming the variable, before anything connects anywhere.
 */
import { z } from 'zod';

const decimalRate = z
  .string()
  .regex(/^\d+(\.\d{1,6})?$/, 'a decimal number of minor units per minute, e.g. "15" or "12.5"');

// No default here: `npm start` must tell "unset" (start a dev server) from a given address.
const temporalAddress = z.string().regex(/^[\w.-]+:\d{1,5}$/, 'host:port, e.g. localhost:7233');
const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

/** Pieces shared by the entry points; each entry point picks what it needs. */
export const configPieces = {
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'a postgres:// connection URL' }),
  TEMPORAL_ADDRESS: temporalAddress.default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Key that may create agencies (POST /v1/agencies). Unset: agencies only via `npm run tally`. */
  TALLY_ADMIN_KEY: z.string().min(24, 'at least 24 characters').optional(),
  /** The platform's price per minute, minor units (default 15 = $0.15/min). */
  PLATFORM_RATE_MINOR_PER_MINUTE: decimalRate.default('15'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  STRIPE_API_KEY: z.string().min(1).optional(),
  STRIPE_API_BASE: z.url().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /**
   * `paused` stops signaling workflows of stored usage (ingest goes on; the outbox keeps what is
   * owed until dispatch resumes, and period closes read Postgres anyway). For operations and the
   * crash test.
   */
  USAGE_DISPATCH: z.enum(['on', 'paused']).default('on'),
  /**
   * Usage signals per second across all workflows (each workflow at most every 250 ms). Each
   * costs Temporal a workflow task; under an ingest burst a lower budget coalesces more batches
   * per signal and leaves the CPU to ingestion. 200 suits a small (2-core) deployment.
   */
  USAGE_SIGNALS_PER_SECOND: z.coerce.number().int().min(1).max(100_000).default(200),
} as const;

export const apiConfigSchema = z.object({
  DATABASE_URL: configPieces.DATABASE_URL,
  TEMPORAL_ADDRESS: configPieces.TEMPORAL_ADDRESS,
  TEMPORAL_NAMESPACE: configPieces.TEMPORAL_NAMESPACE,
  PORT: configPieces.PORT,
  HOST: configPieces.HOST,
  TALLY_ADMIN_KEY: configPieces.TALLY_ADMIN_KEY,
  PLATFORM_RATE_MINOR_PER_MINUTE: configPieces.PLATFORM_RATE_MINOR_PER_MINUTE,
  LOG_LEVEL: configPieces.LOG_LEVEL,
  USAGE_DISPATCH: configPieces.USAGE_DISPATCH,
  USAGE_SIGNALS_PER_SECOND: configPieces.USAGE_SIGNALS_PER_SECOND,
});
export type ApiConfig = z.infer<typeof apiConfigSchema>;

export const workerConfigSchema = z.object({
  DATABASE_URL: configPieces.DATABASE_URL,
  TEMPORAL_ADDRESS: configPieces.TEMPORAL_ADDRESS,
  TEMPORAL_NAMESPACE: configPieces.TEMPORAL_NAMESPACE,
  PLATFORM_RATE_MINOR_PER_MINUTE: configPieces.PLATFORM_RATE_MINOR_PER_MINUTE,
  LOG_LEVEL: configPieces.LOG_LEVEL,
  STRIPE_API_KEY: configPieces.STRIPE_API_KEY,
  STRIPE_API_BASE: configPieces.STRIPE_API_BASE,
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

/** `npm start`: everything optional, since it starts what is missing. */
export const startConfigSchema = z.object({
  DATABASE_URL: configPieces.DATABASE_URL.optional(),
  /** Set: use that server. Unset: start the dev server on TEMPORAL_PORT / TEMPORAL_UI_PORT. */
  TEMPORAL_ADDRESS: temporalAddress.optional(),
  TEMPORAL_NAMESPACE: configPieces.TEMPORAL_NAMESPACE,
  PORT: configPieces.PORT,
  HOST: configPieces.HOST,
  TEMPORAL_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  /** Embedded Postgres (when DATABASE_URL is unset): fixed, so the data dir's server is findable. */
  TALLY_POSTGRES_PORT: port(5433),
  TALLY_DATA_DIR: z.string().min(1).default('.data'),
  TALLY_ADMIN_KEY: configPieces.TALLY_ADMIN_KEY,
  PLATFORM_RATE_MINOR_PER_MINUTE: configPieces.PLATFORM_RATE_MINOR_PER_MINUTE,
  LOG_LEVEL: configPieces.LOG_LEVEL,
  USAGE_DISPATCH: configPieces.USAGE_DISPATCH,
});
export type StartConfig = z.infer<typeof startConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `env` with `schema`; throws a ConfigError that names every bad variable. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  // Empty strings count as unset, as a shell user means by `FOO= npm start`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const value = cleaned[name];
    const shown = value === undefined ? 'missing' : `got ${JSON.stringify(value)}`;
    return `  ${name}: ${issue.message} (${shown})`;
  });
  return failConfig(lines);
}

function failConfig(lines: string[]): never {
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/** For entry points: parse or print the problem and exit 1. */
export function loadConfigOrExit<S extends z.ZodType>(schema: S): z.infer<S> {
  try {
    return parseConfig(schema);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
