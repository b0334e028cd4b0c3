/**
 * docker-compose.yml and the Dockerfile, checked without a Docker engine: every service is there
 * and wired to the others, the API and worker config parses with the same zod schemas their entry
 * points use, every Tally search attribute is created with the right type, and every file the
 * stack runs or mounts exists in the repo.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { apiConfigSchema, parseConfig, workerConfigSchema } from '../../lib/config';
import { searchAttributeFlags } from '../../tools/search-attribute-flags';
import { SEARCH_ATTRIBUTES } from '../../workflows/definitions';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number> | string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;

/** Compose's `${VAR:-default}` and `${VAR}` as `docker compose up` sees them with no overrides. */
function interpolate(value: string): string {
  return value.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_m, _name, fallback: string | undefined) =>
    fallback === undefined ? '' : fallback,
  );
}

function envOf(name: string): Record<string, string> {
  const env = services[name]?.environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string])
    : Object.entries(env).map(([k, v]) => [k, String(v)] as [string, string]);
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v)]));
}

const command = (name: string) => (services[name]?.command ?? []).map(interpolate);
const imageOf = (name: string) => services[name]?.image ?? '';

describe('docker-compose.yml', () => {
  it('has every service of the production-like stack', () => {
    expect(imageOf('postgres')).toMatch(/^postgres:16/);
    expect(imageOf('temporal')).toMatch(/^temporalio\/auto-setup:/);
    expect(imageOf('temporal-admin-tools')).toMatch(/^temporalio\/admin-tools:/);
    expect(imageOf('temporal-ui')).toMatch(/^temporalio\/ui:/);
    expect(services.api?.build).toBe('.');
    expect(services.worker?.build).toBe('.');
  });

  it.each(['api', 'worker'])('%s reaches the compose Postgres and Temporal', (name) => {
    const env = envOf(name);
    const db = new URL(env.DATABASE_URL!);
    expect(db.hostname).toBe('postgres');
    expect(services[db.hostname]).toBeDefined();
    expect(db.port).toBe('5432');
    // The role, password and database the init script creates from the postgres service's env.
    const init = read('docker/postgres/init-databases.sh');
    expect(init).toContain(`CREATE ROLE ${db.username} LOGIN PASSWORD :'tally_password'`);
    expect(init).toContain(`CREATE DATABASE ${db.pathname.slice(1)} OWNER ${db.username};`);
    expect(init).toContain('tally_password="$TALLY_DB_PASSWORD"');
    expect(db.password).toBe(envOf('postgres').TALLY_DB_PASSWORD);

    const [host, port] = env.TEMPORAL_ADDRESS!.split(':');
    expect(imageOf(host!)).toMatch(/^temporalio\/auto-setup:/);
    expect(port).toBe('7233');
    expect(env.TEMPORAL_NAMESPACE).toBe(envOf('temporal').DEFAULT_NAMESPACE);

    // Both wait for a healthy database and for the search attributes to exist.
    expect(services[name]!.depends_on).toMatchObject({
      postgres: { condition: 'service_healthy' },
      'temporal-admin-tools': { condition: 'service_completed_successfully' },
    });
  });

  it('gives the API and the worker a config their entry points accept', () => {
    const api = parseConfig(apiConfigSchema, envOf('api'));
    expect(api.HOST).toBe('0.0.0.0');
    expect(services.api!.ports!.map(interpolate)).toContain(`${api.PORT}:${api.PORT}`);
    expect(services.api!.healthcheck!.test.join(' ')).toContain(`:${api.PORT}/health`);
    const worker = parseConfig(workerConfigSchema, envOf('worker'));
    expect(worker.DATABASE_URL).toBe(api.DATABASE_URL);
    expect(worker.TEMPORAL_ADDRESS).toBe(api.TEMPORAL_ADDRESS);
  });

  it('passes the Stripe Connect set-up to the API and the worker: off unless given', () => {
    const settings = [
      'STRIPE_SECRET_KEY',
      'STRIPE_CONNECT_WEBHOOK_SECRET',
      'STRIPE_CONNECT_RETURN_URL',
      'STRIPE_CONNECT_REFRESH_URL',
      'STRIPE_FLAT_FEE_BPS',
    ];
    for (const name of ['api', 'worker']) {
      const raw = services[name]?.environment as Record<string, string>;
      for (const v of settings) expect(raw[v], `${name} ${v}`).toBe(`\${${v}:-}`);
    }
    expect(parseConfig(apiConfigSchema, envOf('api')).stripe).toBeNull();
    const given = {
      ...envOf('api'),
      STRIPE_SECRET_KEY: 'sk_test_123',
      STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_123',
      STRIPE_CONNECT_RETURN_URL: 'https://agency.example/stripe/return',
      STRIPE_CONNECT_REFRESH_URL: 'https://agency.example/stripe/refresh',
    };
    expect(parseConfig(apiConfigSchema, given).stripe).not.toBeNull();
  });

  it('runs Temporal on its own Postgres databases, owned by its own role', () => {
    const env = envOf('temporal');
    expect(env.DB).toBe('postgres12');
    expect(env.POSTGRES_SEEDS).toBe('postgres');
    expect(env.POSTGRES_PWD).toBe(envOf('postgres').TEMPORAL_DB_PASSWORD);
    const init = read('docker/postgres/init-databases.sh');
    expect(init).toContain(`CREATE ROLE ${env.POSTGRES_USER} LOGIN`);
    for (const db of [env.DBNAME, env.VISIBILITY_DBNAME])
      expect(init).toContain(`CREATE DATABASE ${db} OWNER ${env.POSTGRES_USER};`);
    expect(services.temporal!.depends_on).toMatchObject({
      postgres: { condition: 'service_healthy' },
    });
  });

  it('creates every Tally search attribute, with its type, in the namespace Tally uses', () => {
    const args = [
      ...(services['temporal-admin-tools']!.entrypoint ?? []),
      ...command('temporal-admin-tools'),
    ];
    expect(args.slice(0, 4)).toEqual(['temporal', 'operator', 'search-attribute', 'create']);
    expect(args[args.indexOf('--namespace') + 1]).toBe(envOf('api').TEMPORAL_NAMESPACE);
    const created = new Map<string, string>();
    args.forEach((arg, i) => {
      if (arg === '--name') {
        expect(args[i + 2]).toBe('--type');
        created.set(args[i + 1]!, args[i + 3]!);
      }
    });
    // The CLI's spelling of each type, as the dev server gets them from npm start.
    const expected = new Map(
      searchAttributeFlags()
        .filter((a) => a !== '--search-attribute')
        .map((pair) => pair.split('=') as [string, string]),
    );
    expect(expected.size).toBe(Object.keys(SEARCH_ATTRIBUTES).length);
    expect(created).toEqual(expected);
    expect(envOf('temporal-admin-tools').TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(services['temporal-admin-tools']!.depends_on).toMatchObject({
      temporal: { condition: 'service_healthy' },
    });
  });

  it('serves the Temporal UI on 8080 against the compose server', () => {
    expect(envOf('temporal-ui').TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(services['temporal-ui']!.ports!.map(interpolate)).toContain('127.0.0.1:8080:8080');
  });

  it('waits only on services that exist, and on health only where a healthcheck is defined', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services[dependency], `${name} depends on ${dependency}`).toBeDefined();
        if (condition === 'service_healthy')
          expect(services[dependency]!.healthcheck, `${dependency} healthcheck`).toBeDefined();
      }
    }
  });

  it('passes commands and healthchecks as plain string lists', () => {
    // A stray ": " in an unquoted YAML item silently turns it into a mapping.
    for (const [name, service] of Object.entries(services)) {
      for (const list of [service.command, service.entrypoint, service.healthcheck?.test]) {
        if (list === undefined) continue;
        expect(Array.isArray(list), name).toBe(true);
        for (const item of list) expect(typeof item, `${name}: ${String(item)}`).toBe('string');
      }
    }
  });

  it('mounts only files that exist in the repo', () => {
    const mounts = Object.values(services).flatMap((s) => s.volumes ?? []);
    const binds = mounts.map((m) => m.split(':')[0]!).filter((src) => src.startsWith('./'));
    expect(binds.length).toBeGreaterThan(0);
    for (const src of binds) expect(existsSync(join(root, src)), src).toBe(true);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds on node:20-slim with a clean npm ci', () => {
    expect(dockerfile).toMatch(/^FROM node:20-slim$/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('runs scripts that exist, for the API and the worker', () => {
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    const scripts = [cmd, command('api'), command('worker')].map((args) => {
      expect(args.slice(0, 2)).toEqual(['npx', 'tsx']);
      return args[2]!;
    });
    expect(scripts).toEqual(['api/main.ts', 'api/main.ts', 'worker/main.ts']);
    for (const script of scripts) expect(existsSync(join(root, script)), script).toBe(true);
  });

  it('keeps dependencies and local data out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const path of ['node_modules', '.data', '.git', '.env']) expect(ignored).toContain(path);
  });
});
