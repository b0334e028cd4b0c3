/**
 * Money and dates on the portal in the reader's locale (the browser's Accept-Language) and the
 * client's currency. Amounts go to Intl as exact decimal strings built from the integer minor
 * units, never through a float.
 */
import { currencyExponent } from '../../billing/money';

/** The first well-formed locale of an Accept-Language header, else en-US. */
export function localeOf(acceptLanguage: string | undefined): string {
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]!.trim();
    if (!tag || tag === '*') continue;
    try {
      const [canonical] = Intl.getCanonicalLocales(tag);
      if (canonical) return canonical;
    } catch {
      // not a language tag: try the next one
    }
  }
  return 'en-US';
}

/** `value` (a non-negative decimal string or integer) divided by 10^exp, exactly. */
function shift(value: string, exp: number): string {
  const negative = value.startsWith('-');
  const [int, frac = ''] = (negative ? value.slice(1) : value).split('.');
  const digits = (int! + frac).replace(/^0+(?=\d)/, '');
  const point = digits.length - frac.length - exp;
  const padded = point <= 0 ? '0'.repeat(1 - point) + digits : digits;
  const at = Math.max(point, 1);
  const out = `${padded.slice(0, at)}.${padded.slice(at)}`.replace(/\.?0*$/, '') || '0';
  return negative ? `-${out}` : out;
}

export interface Formatter {
  locale: string;
  /** An amount in minor units of `currency`. */
  money(amountMinor: number, currency: string): string;
  /** A rate in minor units per minute (exact decimal string), e.g. "$0.05". */
  rate(rateMinorPerMinute: string, currency: string): string;
  date(d: Date | string | null): string;
}

export function formatter(locale: string): Formatter {
  const dates = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
  const moneyOf = (value: string, currency: string, maxDigits: number) =>
    new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: currencyExponent(currency),
      maximumFractionDigits: maxDigits,
    }).format(value as unknown as number);
  return {
    locale,
    money: (amountMinor, currency) =>
      moneyOf(
        shift(String(amountMinor), currencyExponent(currency)),
        currency,
        currencyExponent(currency),
      ),
    rate: (rate, currency) =>
      moneyOf(shift(rate, currencyExponent(currency)), currency, currencyExponent(currency) + 6),
    date: (d) => (d === null ? '\u2013' : dates.format(typeof d === 'string' ? new Date(d) : d)),
  };
}
