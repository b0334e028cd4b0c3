/**
 * Money rules. Amounts are integers in the currency's minor unit (JS numbers, checked safe).
 * Rates may be finer than a minor unit, so they travel as exact decimal strings
 * ("12.5" minor units per minute) and are computed with BigInt in millionths.
 *
 * Rounding rule (the only one): each invoice line is rounded once, half up (away from zero),
 * to the minor unit; totals are sums of rounded lines, so lines always add up to the total.
 */

/** ISO 4217 minor-unit exponents where they differ from two. */
const EXPONENTS: Record<string, number> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

const KNOWN_CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && KNOWN_CURRENCIES.has(code);
}

/** Number of decimal places of the currency's minor unit (USD 2, JPY 0, KWD 3). */
export function currencyExponent(code: string): number {
  return EXPONENTS[code] ?? 2;
}

export const RATE_SCALE = 1_000_000n;
const RATE_PATTERN = /^(\d{1,14})(?:\.(\d{1,6}))?$/;

export function isRate(value: string): boolean {
  return RATE_PATTERN.test(value);
}

/** Parses a decimal rate string into millionths of a minor unit. */
export function rateToMicros(rate: string): bigint {
  const match = RATE_PATTERN.exec(rate);
  if (!match) throw new RangeError(`not a decimal rate: ${JSON.stringify(rate)}`);
  const fraction = (match[2] ?? '').padEnd(6, '0');
  return BigInt(match[1]!) * RATE_SCALE + BigInt(fraction);
}

/** Formats millionths back into the shortest exact decimal string. */
export function microsToRate(micros: bigint): string {
  const whole = micros / RATE_SCALE;
  const fraction = (micros % RATE_SCALE).toString().padStart(6, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

/** Normalises a rate string ("015.50" -> "15.5"). */
export function normalizeRate(rate: string): string {
  return microsToRate(rateToMicros(rate));
}

export function compareRates(a: string, b: string): number {
  const x = rateToMicros(a);
  const y = rateToMicros(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Divides non-negative numerator by positive denominator, rounding half up. */
export function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  const q = (n * 2n + denominator) / (denominator * 2n);
  return negative ? -q : q;
}

export function toMinor(value: bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n))
    throw new RangeError(`amount ${value} exceeds the safe integer range`);
  return n;
}

export function assertMinor(value: number, what = 'amount'): number {
  if (!Number.isSafeInteger(value))
    throw new RangeError(`${what} must be an integer number of minor units`);
  return value;
}

/** Amount for `seconds` of usage at `rate` minor units per minute, rounded once (half up). */
export function usageAmountMinor(seconds: number, rateMinorPerMinute: string): number {
  return toMinor(
    divideHalfUp(BigInt(seconds) * rateToMicros(rateMinorPerMinute), 60n * RATE_SCALE),
  );
}

/**
 * An exact, possibly fractional number of seconds: numerator / denominator (bigint decimal
 * strings, so it travels as JSON). Chat mode meters chats / chats-per-minute minutes, which is
 * rarely a whole second (1 chat at 7 per minute is 60/7 s); the usage line is billed from this
 * exact value so it is rounded once, to the minor unit, and never first to a whole second.
 */
export interface ExactSeconds {
  numerator: string;
  denominator: string;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a < 0n ? -a : a;
}

/** numerator / denominator seconds in lowest terms (denominator positive). */
export function exactSeconds(numerator: bigint, denominator: bigint): ExactSeconds {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  const g = gcd(numerator, denominator) || 1n;
  return { numerator: String(numerator / g), denominator: String(denominator / g) };
}

/** Amount for an exact number of seconds at `rate` minor units per minute, rounded once. */
export function exactUsageAmountMinor(seconds: ExactSeconds, rateMinorPerMinute: string): number {
  return toMinor(
    divideHalfUp(
      BigInt(seconds.numerator) * rateToMicros(rateMinorPerMinute),
      BigInt(seconds.denominator) * 60n * RATE_SCALE,
    ),
  );
}

/**
 * The amount of a usage quantity: from its exact seconds where it has them (chat mode), else
 * from its whole seconds. One rounding either way.
 */
export function billedUsageMinor(
  q: { billableSeconds: number; billableExact?: ExactSeconds | null | undefined },
  rateMinorPerMinute: string,
): number {
  return q.billableExact
    ? exactUsageAmountMinor(q.billableExact, rateMinorPerMinute)
    : usageAmountMinor(q.billableSeconds, rateMinorPerMinute);
}

/** `percent` (decimal string, e.g. "12.5") of an amount, rounded once (half up). */
export function percentOfMinor(amountMinor: number, percent: string): number {
  return toMinor(divideHalfUp(BigInt(amountMinor) * rateToMicros(percent), 100n * RATE_SCALE));
}

/** Formats minor units for people ("$12.34" style without locale guessing: "12.34 USD"). */
export function formatMinor(amountMinor: number, currency: string): string {
  const exp = currencyExponent(currency);
  const sign = amountMinor < 0 ? '-' : '';
  const abs = Math.abs(amountMinor)
    .toString()
    .padStart(exp + 1, '0');
  const major = exp === 0 ? abs : `${abs.slice(0, -exp)}.${abs.slice(-exp)}`;
  return `${sign}${major} ${currency}`;
}
