/** `npm run tally`: the admin CLI creates agencies and keys in the database it is pointed at. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useTestApi } from '../helpers/api';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;

const { db, api } = useTestApi();

function tally(args: string[], env: Record<string, string | undefined> = { DATABASE_URL: db.url }) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const { DATABASE_URL: _ignored, ...inherited } = process.env;
    execFile(
      tsx,
      ['scripts/tally.ts', ...args],
      { cwd: root, env: { ...inherited, ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run tally -- create-agency', () => {
  it('creates an agency whose printed key works, shown once', async () => {
    const out = await tally([
      'create-agency',
      '--name',
      'CLI Agency',
      '--webhook-url',
      'https://cli.example/hooks',
      '--json',
    ]);
    expect(out.code, out.stderr).toBe(0);
    const created = JSON.parse(out.stdout);
    expect(created.apiKey).toMatch(/^tly_live_/);
    const me = await api.call('GET', '/v1/agency', undefined, created.apiKey);
    expect(me.body).toMatchObject({
      id: created.agencyId,
      name: 'CLI Agency',
      webhookUrl: 'https://cli.example/hooks',
    });
    const [row] = await db.sql`select webhook_secret from agencies where id = ${created.agencyId}`;
    expect(row!.webhook_secret).toBe(created.webhookSecret);
  });

  it('prints a readable summary without --json', async () => {
    const out = await tally(['create-agency', '--name', 'Readable']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Created agency agy_\w+ \(Readable\)/);
    expect(out.stdout).toContain('not shown again');
  });

  it('fails clearly without DATABASE_URL, and on bad arguments, creating nothing', async () => {
    const before = (await db.sql`select count(*)::int as n from agencies`)[0]!.n;
    const noDb = await tally(['create-agency', '--name', 'Nope'], {});
    expect(noDb.code).toBe(1);
    expect(noDb.stderr).toContain('DATABASE_URL');
    const noName = await tally(['create-agency']);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('--name is required');
    const badUrl = await tally(['create-agency', '--name', 'X', '--webhook-url', 'ftp://x']);
    expect(badUrl.code).toBe(2);
    const unknown = await tally(['make-coffee']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command');
    expect((await db.sql`select count(*)::int as n from agencies`)[0]!.n).toBe(before);
  });
});

describe('npm run tally -- create-key', () => {
  it('issues an ingest key for an existing agency, and refuses an unknown one', async () => {
    const out = await tally(['create-key', '--agency', api.agencyId, '--kind', 'ingest', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const { apiKey } = JSON.parse(out.stdout);
    expect(apiKey).toMatch(/^tly_ingest_/);
    expect((await api.call('GET', '/v1/agency', undefined, apiKey)).status).toBe(403);
    const missing = await tally(['create-key', '--agency', 'agy_missing']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no agency agy_missing');
  });
});
