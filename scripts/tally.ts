/**
 * `npm run tally -- <command>`: platform admin commands against DATABASE_URL.
 *
 *   create-agency --name <name> [--webhook-url <url>] [--json]
 *       Creates an agency; prints its id, first API key and webhook secret, once.
 *   create-key --agency <id> [--kind agency|ingest] [--name <name>] [--json]
 *       Issues another key for an agency (e.g. when every agency key was lost).
 *
 * The bootstrap path that needs no admin key: whoever can reach the database is the operator.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createSql } from '../db/client';
import { migrate } from '../db/migrate';
import { createAgency, getAgency, insertApiKey } from '../db/queries/agencies';
import { configPieces, parseConfig, ConfigError } from '../lib/config';

const USAGE = `usage:
  npm run tally -- create-agency --name <name> [--webhook-url <url>] [--json]
  npm run tally -- create-key --agency <agency id> [--kind agency|ingest] [--name <name>] [--json]

Needs DATABASE_URL (the Postgres Tally uses; \`npm start\` prints it).`;

class UsageError extends Error {}

const argsSchemas = {
  'create-agency': z.object({
    name: z.string({ error: '--name is required' }).trim().min(1, '--name must not be empty'),
    'webhook-url': z
      .url({ protocol: /^https?$/, error: '--webhook-url must be an http(s) URL' })
      .optional(),
  }),
  'create-key': z.object({
    agency: z.string({ error: '--agency is required' }).min(1),
    kind: z.enum(['agency', 'ingest'], { error: '--kind is agency or ingest' }).default('agency'),
    name: z.string().trim().min(1).optional(),
  }),
};

function parse<K extends keyof typeof argsSchemas>(command: K, values: Record<string, unknown>) {
  const result = argsSchemas[command].safeParse(values);
  if (!result.success) throw new UsageError(result.error.issues.map((i) => i.message).join('\n'));
  return result.data as z.infer<(typeof argsSchemas)[K]>;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'webhook-url': { type: 'string' },
      agency: { type: 'string' },
      kind: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (!(command in argsSchemas)) throw new UsageError(`unknown command "${command}"`);
  const { json, help: _help, ...rest } = values;
  // Arguments first: a typo is reported before anything connects.
  const args =
    command === 'create-agency'
      ? { command: 'create-agency' as const, ...parse('create-agency', rest) }
      : { command: 'create-key' as const, ...parse('create-key', rest) };

  const { DATABASE_URL } = parseConfig(z.object({ DATABASE_URL: configPieces.DATABASE_URL }));
  const sql = createSql(DATABASE_URL, { max: 2 });
  try {
    await migrate(sql);
    if (args.command === 'create-agency') {
      const { agency, apiKey, webhookSecret } = await createAgency(sql, {
        name: args.name,
        webhookUrl: args['webhook-url'] ?? null,
      });
      if (json) {
        console.log(
          JSON.stringify({
            agencyId: agency.id,
            name: agency.name,
            apiKeyId: apiKey.id,
            apiKey: apiKey.key,
            webhookSecret,
          }),
        );
      } else {
        console.log(`Created agency ${agency.id} (${agency.name})`);
        console.log(`  API key:        ${apiKey.key}`);
        console.log(`  Webhook secret: ${webhookSecret}`);
        console.log('Store both now: they are not shown again.');
      }
    } else {
      if (!(await getAgency(sql, args.agency))) throw new UsageError(`no agency ${args.agency}`);
      const key = await insertApiKey(sql, args.agency, args.kind, args.name ?? null);
      if (json) {
        console.log(JSON.stringify({ apiKeyId: key.id, kind: key.kind, apiKey: key.key }));
      } else {
        console.log(`Created ${key.kind} key ${key.id} for agency ${args.agency}`);
        console.log(`  API key: ${key.key}`);
        console.log('Store it now: it is not shown again.');
      }
    }
    return 0;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`${err.message}\n\n${USAGE}`);
    process.exitCode = 1;
  } else if (
    err instanceof UsageError ||
    (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(err);
    process.exitCode = 1;
  }
}
