/**
 * Text Postgres can store. `text` and `jsonb` refuse a NUL character (U+0000), and a lone UTF-16
 * surrogate has no UTF-8 form: either reaching a query makes Postgres fail the statement, which
 * would answer 500 for what is bad input. The API refuses such text up front, naming the field.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const UNSTORABLE_TEXT_MESSAGE =
  'must not contain a NUL character (\\u0000) or an unpaired surrogate';

/** True when `s` has no NUL and no unpaired surrogate. */
export function isStorableText(s: string): boolean {
  return !s.includes('\u0000') && !LONE_SURROGATE.test(s);
}

/**
 * The path of the first string or object key in `value` that is not storable text, or null. A key
 * at fault is named by its own path (its value is not looked at).
 */
export function findUnstorableText(value: unknown, path: string[] = []): string[] | null {
  if (typeof value === 'string') return isStorableText(value) ? null : path;
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], [...path, String(i)]);
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (!isStorableText(key)) return [...path, key];
    const found = findUnstorableText(item, [...path, key]);
    if (found) return found;
  }
  return null;
}
