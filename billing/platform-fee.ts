/**
 * The platform's fee on a stripe-mode invoice, taken as Stripe's `application_fee_amount`: the
 * minutes the invoice charges (its usage and late-usage lines) at the platform rate, plus a share
 * in basis points of its flat lines (recurring fee, pack, one-time charge). Discount and tax lines
 * carry no fee. The exact sum is rounded once, half up, and never exceeds what the invoice asks
 * the client for (Stripe refuses a fee above the amount due).
 */
import { divideHalfUp, RATE_SCALE, rateToMicros, toMinor } from './money';

/** The part of a request line the fee reads. */
export interface FeeLine {
  kind: string;
  amountMinor: number;
  details: Record<string, unknown> | null;
}

export interface PlatformFeeInput {
  lines: readonly FeeLine[];
  totalMinor: number;
  /** Platform rate, minor units per minute (exact decimal string). */
  platformRateMinorPerMinute: string;
  /** Share of the flat lines, basis points (0 to 10000). */
  flatFeeBps: number;
}

const USAGE_KINDS: ReadonlySet<string> = new Set(['usage', 'late_usage']);
const FLAT_KINDS: ReadonlySet<string> = new Set(['recurring', 'pack', 'one_time']);

/**
 * The seconds a usage line charges, as a fraction: its billable seconds (included and wallet
 * minutes were paid for elsewhere: the flat fee or a pack, whose own fee is the flat share),
 * exactly where chats were converted (details.billableExact), else its whole billableSeconds.
 */
function billableSeconds(line: FeeLine): [bigint, bigint] {
  const exact = line.details?.['billableExact'] as
    { numerator?: unknown; denominator?: unknown } | undefined;
  if (
    exact &&
    typeof exact.numerator === 'string' &&
    typeof exact.denominator === 'string' &&
    /^\d+$/.test(exact.numerator) &&
    /^[1-9]\d*$/.test(exact.denominator)
  ) {
    return [BigInt(exact.numerator), BigInt(exact.denominator)];
  }
  const s = line.details?.['billableSeconds'];
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0) {
    throw new RangeError(`usage line without whole billableSeconds: ${JSON.stringify(s)}`);
  }
  return [BigInt(s), 1n];
}

/** The platform fee of one request in minor units: 0 <= fee <= max(total, 0). */
export function platformFeeMinor(input: PlatformFeeInput): number {
  const bps = input.flatFeeBps;
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) {
    throw new RangeError(`flatFeeBps must be 0 to 10000, not ${bps}`);
  }
  const rate = rateToMicros(input.platformRateMinorPerMinute);
  // Billable seconds of all usage lines as one fraction (chat lines may be fractional).
  let secondsNum = 0n;
  let secondsDen = 1n;
  let flatMinor = 0n;
  for (const line of input.lines) {
    if (USAGE_KINDS.has(line.kind)) {
      const [n, d] = billableSeconds(line);
      secondsNum = secondsNum * d + n * secondsDen;
      secondsDen *= d;
    } else if (FLAT_KINDS.has(line.kind) && line.amountMinor > 0)
      flatMinor += BigInt(line.amountMinor);
  }
  // One exact fraction over the common denominator 60 s x RATE_SCALE x 10000 bps x the seconds'
  // denominator, rounded once.
  const denominator = 60n * RATE_SCALE * 10_000n * secondsDen;
  const numerator =
    secondsNum * rate * 10_000n + flatMinor * BigInt(bps) * 60n * RATE_SCALE * secondsDen;
  const fee = toMinor(divideHalfUp(numerator, denominator));
  return Math.max(0, Math.min(fee, input.totalMinor));
}
