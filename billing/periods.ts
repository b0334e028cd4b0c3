/**
 * Billing periods. All period arithmetic is in UTC: a period starts at the subscription's start
 * instant and each boundary keeps its UTC time of day. Monthly and yearly boundaries are anchored
 * to the start date, never chained, with month ends clamped: a Jan 31 start renews on Feb 28 (29
 * in leap years), then Mar 31. Agencies that bill by local midnight pass a start instant at
 * local midnight; boundaries then stay at that UTC time.
 */

export type Rhythm = 'day' | 'week' | 'month' | 'year';

export interface Cadence {
  rhythm: Rhythm;
  intervalCount: number;
}

export interface Period {
  index: number;
  startMs: number;
  endMs: number;
}

const DAY_MS = 86_400_000;

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

function addMonthsClamped(anchorMs: number, months: number): number {
  const a = new Date(anchorMs);
  const total = a.getUTCMonth() + months;
  const year = a.getUTCFullYear() + Math.floor(total / 12);
  const month = ((total % 12) + 12) % 12;
  const day = Math.min(a.getUTCDate(), daysInMonth(year, month));
  return Date.UTC(
    year,
    month,
    day,
    a.getUTCHours(),
    a.getUTCMinutes(),
    a.getUTCSeconds(),
    a.getUTCMilliseconds(),
  );
}

/** The n-th period boundary after `anchorMs` (boundary 0 is the anchor itself). */
export function boundaryMs(anchorMs: number, cadence: Cadence, n: number): number {
  const steps = n * cadence.intervalCount;
  switch (cadence.rhythm) {
    case 'day':
      return anchorMs + steps * DAY_MS;
    case 'week':
      return anchorMs + steps * 7 * DAY_MS;
    case 'month':
      return addMonthsClamped(anchorMs, steps);
    case 'year':
      return addMonthsClamped(anchorMs, steps * 12);
  }
}

/** Period number `index` (0-based) of a subscription anchored at `anchorMs`. */
export function periodAt(anchorMs: number, cadence: Cadence, index: number): Period {
  return {
    index,
    startMs: boundaryMs(anchorMs, cadence, index),
    endMs: boundaryMs(anchorMs, cadence, index + 1),
  };
}

/** The period containing `atMs` (periods before the anchor are not defined: returns period 0). */
export function periodContaining(anchorMs: number, cadence: Cadence, atMs: number): Period {
  let index = 0;
  // Coarse estimate, then step: cheap and exact whatever the rhythm.
  const approx = { day: DAY_MS, week: 7 * DAY_MS, month: 28 * DAY_MS, year: 365 * DAY_MS }[
    cadence.rhythm
  ];
  index = Math.max(0, Math.floor((atMs - anchorMs) / (approx * cadence.intervalCount)) - 1);
  while (boundaryMs(anchorMs, cadence, index + 1) <= atMs) index++;
  while (index > 0 && boundaryMs(anchorMs, cadence, index) > atMs) index--;
  return periodAt(anchorMs, cadence, index);
}

export function addDaysMs(ms: number, days: number): number {
  return ms + days * DAY_MS;
}
