// stripe-mock: Stripe's official API mock, which serves the real OpenAPI spec so the `stripe`
// SDK can be exercised offline. There is no SDK-side download to fall back to, so the lookup is
// env var, PATH, cache, then `go install`.
import { ensureGoTool, type GoToolSpec } from './go-tool';

export const stripeMockSpec: GoToolSpec = {
  tool: 'stripe-mock',
  binary: 'stripe-mock',
  envVar: 'TALLY_STRIPE_MOCK',
  // @latest on purpose: stripe-mock's embedded OpenAPI spec should track the `stripe` package,
  // which we keep current. (v0.203.0 at the time of writing.)
  goPackage: 'github.com/stripe/stripe-mock@latest',
};

/**
 * Path to the `stripe-mock` binary. Lookup: `$TALLY_STRIPE_MOCK` (must be executable),
 * `stripe-mock` on PATH, `<cache>/bin/stripe-mock`, else `go install` into the cache; throws a
 * `ToolUnavailableError` saying how to get it otherwise.
 */
export function ensureStripeMock(): Promise<string> {
  return ensureGoTool(stripeMockSpec);
}
