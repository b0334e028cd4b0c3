/**
 * Config is parsed with zod at every entry point: a bad or missing value names the variable,
 * defaults fill the rest, and a real entry point exits 1 before connecting anywhere.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  apiConfigSchema,
  ConfigError,
  parseConfig,
  startConfigSchema,
  workerConfigSchema,
} from '../../lib/config';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const DB = 'postgres://tally:tally@127.0.0.1:5432/tally';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it.each([
    ['DATABASE_URL', { DATABASE_URL: 'mysql://root@localhost/tally' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    ['PORT', { DATABASE_URL: DB, PORT: '70000' }],
    ['PORT', { DATABASE_URL: DB, PORT: 'eighty' }],
    ['TEMPORAL_ADDRESS', { DATABASE_URL: DB, TEMPORAL_ADDRESS: 'localhost' }],
    [
      'PLATFORM_RATE_MINOR_PER_MINUTE',
      { DATABASE_URL: DB, PLATFORM_RATE_MINOR_PER_MINUTE: '0,15' },
    ],
    ['PLATFORM_RATE_MINOR_PER_MINUTE', { DATABASE_URL: DB, PLATFORM_RATE_MINOR_PER_MINUTE: '-1' }],
    ['TALLY_ADMIN_KEY', { DATABASE_URL: DB, TALLY_ADMIN_KEY: 'short' }],
  ])('rejects a bad %s and names it with the value', (name, env) => {
    const err = configError(() => parseConfig(apiConfigSchema, env));
    const line = err.message.split('\n').find((l) => l.trimStart().startsWith(`${name}:`));
    expect(line, err.message).toBeDefined();
    expect(line).toContain(JSON.stringify(env[name as keyof typeof env]));
  });

  it('says a required variable is missing', () => {
    const err = configError(() => parseConfig(workerConfigSchema, {}));
    expect(err.message).toMatch(/DATABASE_URL: .*\(missing\)/);
  });

  it('names every bad variable at once, not just the first', () => {
    const err = configError(() =>
      parseConfig(apiConfigSchema, { DATABASE_URL: 'x', PORT: '-1', LOG_LEVEL: 'loud' }),
    );
    for (const name of ['DATABASE_URL', 'PORT', 'LOG_LEVEL']) expect(err.message).toContain(name);
  });

  it('applies defaults for the API and the worker', () => {
    expect(parseConfig(apiConfigSchema, { DATABASE_URL: DB })).toMatchObject({
      DATABASE_URL: DB,
      TEMPORAL_ADDRESS: 'localhost:7233',
      TEMPORAL_NAMESPACE: 'default',
      PORT: 3000,
      HOST: '127.0.0.1',
      PLATFORM_RATE_MINOR_PER_MINUTE: '15',
      LOG_LEVEL: 'info',
    });
    const worker = parseConfig(workerConfigSchema, { DATABASE_URL: DB, PORT: 'ignored' });
    expect(worker.TEMPORAL_ADDRESS).toBe('localhost:7233');
    expect(worker).not.toHaveProperty('PORT');
  });

  it('leaves DATABASE_URL and TEMPORAL_ADDRESS unset for npm start, so it starts its own', () => {
    const config = parseConfig(startConfigSchema, {});
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
    expect(config).toMatchObject({
      PORT: 3000,
      TEMPORAL_PORT: 7233,
      TEMPORAL_UI_PORT: 8233,
      TALLY_POSTGRES_PORT: 5433,
      TALLY_DATA_DIR: '.data',
    });
  });

  it('treats an empty value as unset', () => {
    const config = parseConfig(startConfigSchema, { TEMPORAL_ADDRESS: '', PORT: '' });
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
    expect(config.PORT).toBe(3000);
  });

  it('rejects a port of 0 for the services npm start binds', () => {
    const err = configError(() => parseConfig(startConfigSchema, { TEMPORAL_UI_PORT: '0' }));
    expect(err.message).toContain('TEMPORAL_UI_PORT');
  });
});

const STRIPE = {
  STRIPE_SECRET_KEY: 'sk_test_platform123',
  STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_connect123',
  STRIPE_CONNECT_RETURN_URL: 'https://agency.example/stripe/return',
  STRIPE_CONNECT_REFRESH_URL: 'https://agency.example/stripe/refresh',
};

describe('the Stripe platform set-up', () => {
  it('is off (stripe: null) when every STRIPE_ variable is unset, for every entry point', () => {
    expect(parseConfig(apiConfigSchema, { DATABASE_URL: DB }).stripe).toBeNull();
    expect(parseConfig(workerConfigSchema, { DATABASE_URL: DB }).stripe).toBeNull();
    expect(parseConfig(startConfigSchema, {}).stripe).toBeNull();
  });

  it('parses the group into settings, with the optional parts defaulted', () => {
    for (const schema of [apiConfigSchema, workerConfigSchema, startConfigSchema]) {
      const config = parseConfig(schema, { DATABASE_URL: DB, ...STRIPE });
      expect(config.stripe).toEqual({
        secretKey: 'sk_test_platform123',
        connectWebhookSecret: 'whsec_connect123',
        connectReturnUrl: 'https://agency.example/stripe/return',
        connectRefreshUrl: 'https://agency.example/stripe/refresh',
        apiBase: null,
        flatFeeBps: 0,
      });
      // The secret lives in one place: the raw variables are not carried along.
      expect(Object.keys(config).filter((k) => k.startsWith('STRIPE_'))).toEqual([]);
    }
    const mock = parseConfig(apiConfigSchema, {
      DATABASE_URL: DB,
      ...STRIPE,
      STRIPE_API_BASE: 'http://127.0.0.1:12111',
      STRIPE_FLAT_FEE_BPS: '250',
    });
    expect(mock.stripe).toMatchObject({ apiBase: 'http://127.0.0.1:12111', flatFeeBps: 250 });
  });

  it.each([
    'STRIPE_CONNECT_WEBHOOK_SECRET',
    'STRIPE_CONNECT_RETURN_URL',
    'STRIPE_CONNECT_REFRESH_URL',
  ])('with the secret key set, a missing %s stops it naming the variable', (name) => {
    const env: Record<string, string> = { DATABASE_URL: DB, ...STRIPE };
    delete env[name];
    const err = configError(() => parseConfig(apiConfigSchema, env));
    expect(err.message).toMatch(
      new RegExp(`${name}: required when STRIPE_SECRET_KEY is set \\(missing\\)`),
    );
    expect(() => parseConfig(workerConfigSchema, env)).toThrow(name);
    expect(() => parseConfig(startConfigSchema, env)).toThrow(name);
  });

  it.each([
    ['STRIPE_SECRET_KEY', 'pk_test_publishable123'],
    ['STRIPE_SECRET_KEY', 'sk_test_'],
    ['STRIPE_CONNECT_WEBHOOK_SECRET', 'my-secret'],
    ['STRIPE_CONNECT_RETURN_URL', 'agency.example/return'],
    ['STRIPE_CONNECT_REFRESH_URL', 'ftp://agency.example/refresh'],
    ['STRIPE_API_BASE', 'localhost:12111'],
    ['STRIPE_FLAT_FEE_BPS', '2.5'],
    ['STRIPE_FLAT_FEE_BPS', '10001'],
    ['STRIPE_FLAT_FEE_BPS', '-1'],
  ])('rejects a malformed %s (%s) and names it with the value', (name, value) => {
    const err = configError(() =>
      parseConfig(apiConfigSchema, { DATABASE_URL: DB, ...STRIPE, [name]: value }),
    );
    const line = err.message.split('\n').find((l) => l.trimStart().startsWith(`${name}:`));
    expect(line, err.message).toBeDefined();
    expect(line).toContain(JSON.stringify(value));
  });

  it('refuses part of the group without the secret key, instead of quietly turning Stripe off', () => {
    const err = configError(() =>
      parseConfig(apiConfigSchema, {
        DATABASE_URL: DB,
        STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_connect123',
      }),
    );
    expect(err.message).toMatch(
      /STRIPE_SECRET_KEY: required when STRIPE_CONNECT_WEBHOOK_SECRET is set .*\(missing\)/,
    );
  });

  it('names a Stripe problem together with any other bad variable', () => {
    const err = configError(() =>
      parseConfig(apiConfigSchema, {
        DATABASE_URL: 'x',
        PORT: 'eighty', // a type error, which stops zod's object-level checks by default
        STRIPE_SECRET_KEY: 'sk_test_1',
      }),
    );
    for (const name of ['DATABASE_URL', 'PORT', 'STRIPE_CONNECT_WEBHOOK_SECRET']) {
      expect(err.message).toContain(name);
    }
  });
});

function run(script: string, env: Record<string, string>) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    // A clean environment: nothing from the developer's shell may make the config valid.
    const clean = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
    execFile(
      'npx',
      ['tsx', script],
      { cwd: repoRoot, env: { ...clean, ...env }, timeout: 30_000 },
      (err, _stdout, stderr) => {
        const code = err && typeof err.code === 'number' ? err.code : err ? null : 0;
        resolve({ code, stderr });
      },
    );
  });
}

describe('entry points fail fast on bad config', () => {
  it('worker/main.ts exits 1 naming DATABASE_URL', async () => {
    const { code, stderr } = await run('worker/main.ts', { DATABASE_URL: 'http://nope' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/DATABASE_URL: .*"http:\/\/nope"/);
  });

  it('api/main.ts exits 1 naming the missing Stripe variable, before connecting anywhere', async () => {
    const { code, stderr } = await run('api/main.ts', {
      DATABASE_URL: DB,
      STRIPE_SECRET_KEY: 'sk_test_platform123',
      STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_connect123',
      STRIPE_CONNECT_REFRESH_URL: 'https://agency.example/stripe/refresh',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/STRIPE_CONNECT_RETURN_URL: required when STRIPE_SECRET_KEY is set/);
  });

  it('scripts/start.ts exits 1 naming PORT, before starting anything', async () => {
    const dataDir = join(tmpdir(), `tally-config-test-${process.pid}-${Date.now()}`);
    const { code, stderr } = await run('scripts/start.ts', {
      PORT: 'eighty',
      TALLY_DATA_DIR: dataDir,
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/PORT: .*"eighty"/);
    expect(existsSync(dataDir)).toBe(false);
  });
});
