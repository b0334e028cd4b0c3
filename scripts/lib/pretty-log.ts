/** One short human line per log record for `npm start`; services in production keep pino's JSON. */
import { pino, type Logger } from 'pino';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

export function prettyLogger(level: string, name: string): Logger {
  return pino(
    { name, level, base: undefined },
    { write: (line: string) => void process.stdout.write(formatLine(line)) },
  );
}

/** `12:00:01.123 INFO  api: request method=GET path=/health status=200 ms=2.1` */
export function formatLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, name, msg, err, ...rest } = record;
  const clock = new Date(Number(time)).toISOString().slice(11, 23);
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const stack = (err as { stack?: string } | undefined)?.stack;
  return (
    `${clock} ${LEVELS[Number(level)] ?? String(level)} ${String(name)}: ${String(msg ?? '')}` +
    (extras ? ` ${extras}` : '') +
    (stack ? `\n${stack}` : '') +
    '\n'
  );
}
