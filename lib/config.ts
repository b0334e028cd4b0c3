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

const httpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });

/**
 * The Stripe Connect platform set-up, one group: all unset means stripe mode is off (manual and
 * track-only clients work as before, stripe-mode routes answer 409); STRIPE_SECRET_KEY set means
 * every required variable must be there and well formed. Optional: STRIPE_API_BASE (another API
 * host, e.g. stripe-mock) and STRIPE_FLAT_FEE_BPS.
 */
export const stripePieces = {
  /** The platform's secret (or restricted) key: sk_test_..., sk_live_..., rk_.... */
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\w+$/, 'a Stripe secret key, e.g. sk_test_...')
    .optional(),
  /** Signing secret of the Connect webhook endpoint (POST /stripe/webhooks). */
  STRIPE_CONNECT_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_\S+$/, 'a webhook signing secret, whsec_...')
    .optional(),
  /** Where Stripe sends the agency's browser after onboarding (shows nothing we trust). */
  STRIPE_CONNECT_RETURN_URL: httpUrl.optional(),
  /** Where Stripe sends the browser when an onboarding link expired: ask for a fresh one. */
  STRIPE_CONNECT_REFRESH_URL: httpUrl.optional(),
  /**
   * Where a client's card set-up (Checkout in setup mode) returns on success and on cancel, when
   * the caller of POST /v1/clients/{id}/payment-method/setup gives none (the portal usually does).
   */
  STRIPE_SETUP_SUCCESS_URL: httpUrl.optional(),
  STRIPE_SETUP_CANCEL_URL: httpUrl.optional(),
  /** Base URL of the Stripe API (default https://api.stripe.com), e.g. http://127.0.0.1:12111. */
  STRIPE_API_BASE: httpUrl.optional(),
  /**
   * The platform fee on flat amounts (recurring fees, packs, one-time charges), in basis points
   * of the amount (default 0: none). The per-minute part of the fee is always minutes x
   * PLATFORM_RATE_MINOR_PER_MINUTE.
   */
  STRIPE_FLAT_FEE_BPS: z.coerce
    .number()
    .int('a whole number of basis points')
    .min(0)
    .max(10_000, 'at most 10000 (100%)')
    .optional(),
} as const;

/** Stripe Connect platform settings; `null` where stripe mode is off. */
export interface StripeSettings {
  secretKey: string;
  connectWebhookSecret: string;
  connectReturnUrl: string;
  connectRefreshUrl: string;
  /** null: Stripe's own API. */
  apiBase: string | null;
  /** Platform fee on flat amounts, basis points (0 to 10000). */
  flatFeeBps: number;
  /** Default return URLs of a card set-up session; absent: the caller must give them. */
  setupSuccessUrl?: string;
  setupCancelUrl?: string;
}

type StripeVars = { [K in keyof typeof stripePieces]?: z.output<(typeof stripePieces)[K]> };
const requiredWithKey = [
  'STRIPE_CONNECT_WEBHOOK_SECRET',
  'STRIPE_CONNECT_RETURN_URL',
  'STRIPE_CONNECT_REFRESH_URL',
] as const;

/** Names each missing or orphaned variable of the Stripe group. */
function checkStripeGroup(env: StripeVars, ctx: z.RefinementCtx): void {
  const given = (Object.keys(stripePieces) as (keyof StripeVars)[]).filter(
    (name) => env[name] !== undefined,
  );
  if (env.STRIPE_SECRET_KEY === undefined) {
    // A forgotten key would turn stripe mode off without a word: say so instead.
    if (given.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['STRIPE_SECRET_KEY'],
        message: `required when ${given.join(', ')} ${given.length > 1 ? 'are' : 'is'} set (unset them all for no Stripe)`,
      });
    }
    return;
  }
  for (const name of requiredWithKey) {
    if (env[name] === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: 'required when STRIPE_SECRET_KEY is set',
      });
    }
  }
}

/** The config without the raw STRIPE_* variables, carrying `stripe` instead. */
function splitStripe<E extends object>(
  env: E & StripeVars,
): Omit<E, keyof StripeVars> & { stripe: StripeSettings | null } {
  const {
    STRIPE_SECRET_KEY,
    STRIPE_CONNECT_WEBHOOK_SECRET,
    STRIPE_CONNECT_RETURN_URL,
    STRIPE_CONNECT_REFRESH_URL,
    STRIPE_API_BASE,
    STRIPE_FLAT_FEE_BPS,
    STRIPE_SETUP_SUCCESS_URL,
    STRIPE_SETUP_CANCEL_URL,
    ...rest
  } = env;
  // checkStripeGroup has made sure the required ones are there when the key is.
  const stripe: StripeSettings | null = STRIPE_SECRET_KEY
    ? {
        secretKey: STRIPE_SECRET_KEY,
        connectWebhookSecret: STRIPE_CONNECT_WEBHOOK_SECRET!,
        connectReturnUrl: STRIPE_CONNECT_RETURN_URL!,
        connectRefreshUrl: STRIPE_CONNECT_REFRESH_URL!,
        apiBase: STRIPE_API_BASE ?? null,
        flatFeeBps: STRIPE_FLAT_FEE_BPS ?? 0,
        ...(STRIPE_SETUP_SUCCESS_URL ? { setupSuccessUrl: STRIPE_SETUP_SUCCESS_URL } : {}),
        ...(STRIPE_SETUP_CANCEL_URL ? { setupCancelUrl: STRIPE_SETUP_CANCEL_URL } : {}),
      }
    : null;
  return { ...rest, stripe };
}

/**
 * An entry point's schema with the Stripe group: the parsed config carries `stripe`
 * (StripeSettings or null) instead of the raw STRIPE_* variables.
 */
function withStripe<T extends z.ZodRawShape>(shape: T) {
  return (
    z
      .object({ ...shape, ...stripePieces })
      // Presence checks only, so they may run when another variable failed: all problems at once.
      .superRefine((env, ctx) => checkStripeGroup(env as StripeVars, ctx), { when: () => true })
      .transform((env) => splitStripe(env as z.output<z.ZodObject<T>> & StripeVars))
  );
}

export const apiConfigSchema = withStripe({
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

export const workerConfigSchema = withStripe({
  DATABASE_URL: configPieces.DATABASE_URL,
  TEMPORAL_ADDRESS: configPieces.TEMPORAL_ADDRESS,
  TEMPORAL_NAMESPACE: configPieces.TEMPORAL_NAMESPACE,
  PLATFORM_RATE_MINOR_PER_MINUTE: configPieces.PLATFORM_RATE_MINOR_PER_MINUTE,
  LOG_LEVEL: configPieces.LOG_LEVEL,
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

/** `npm start`: everything optional, since it starts what is missing. */
export const startConfigSchema = withStripe({
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
