/**
 * `npm start` for real: spawns scripts/start.ts with its own data dir and free ports, waits for
 * the ready banner, checks the API, Postgres, the Temporal dev server and its Web UI, runs the
 * thin slice through the in-process worker, presses Ctrl-C (SIGINT to the process group, as a
 * terminal does) and checks nothing it started is left. A second start finds the data intact.
 * If the Temporal CLI cannot be provisioned, start.ts exits with the provisioning error and this
 * test fails showing it.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { getFreePort } from '../../lib/ports';
import { isAlive } from '../../scripts/lib/processes';
import {
  AgencyIdAttr,
  SEARCH_ATTRIBUTES,
  subscriptionWorkflowId,
} from '../../workflows/definitions';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
// Generous: on a cold tool cache, start.ts builds the Temporal CLI with Go first.
const READY_TIMEOUT_MS = 15 * 60_000;

interface Stack {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let dataDir: string;
let ports: { api: number; temporal: number; ui: number; postgres: number };
const started: Stack[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tally-start-'));
  // Run as root, embedded Postgres drops to the `postgres` user, which must reach its data dir.
  await chmod(dataDir, 0o755);
  ports = {
    api: await getFreePort(),
    temporal: await getFreePort(),
    ui: await getFreePort(),
    postgres: await getFreePort(),
  };
});

afterAll(async () => {
  // Only after a failure is anything still running: kill the whole tree, whatever its groups.
  for (const stack of started) {
    if (stack.child.exitCode !== null || stack.child.signalCode !== null) continue;
    for (const pid of descendants(stack.child.pid!)) kill(pid, 'SIGKILL');
    kill(stack.child.pid!, 'SIGKILL');
  }
  await rm(dataDir, { recursive: true, force: true });
}, 60_000);

function startStack(): Stack {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TALLY_DATA_DIR: dataDir,
    PORT: String(ports.api),
    TEMPORAL_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    TALLY_POSTGRES_PORT: String(ports.postgres),
    LOG_LEVEL: 'warn',
  };
  // The run must start its own Postgres and Temporal, whatever the developer's shell says.
  for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TALLY_ADMIN_KEY'])
    delete env[name];
  // detached: its own process group, so we can Ctrl-C the group like a terminal does.
  const child = spawn('npx', ['tsx', 'scripts/start.ts'], {
    cwd: repoRoot,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const stack = { child, output: () => text, exited };
  started.push(stack);
  return stack;
}

async function waitForReady(stack: Stack): Promise<string> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const match = /Tally is ready in ([\d.]+) s[\s\S]*Ctrl-C stops everything/.exec(stack.output());
    if (match) return stack.output();
    if (stack.child.exitCode !== null || stack.child.signalCode !== null) {
      throw new Error(`npm start exited before it was ready. Its output:\n${stack.output()}`);
    }
    if (Date.now() > deadline) throw new Error(`not ready in time. Output:\n${stack.output()}`);
    await sleep(100);
  }
}

/**
 * Ctrl-C as a terminal sends it: SIGINT to every process in the foreground group. Resolves true
 * when the stack stopped cleanly: start.ts exits 0, and npm (npx) then re-raises SIGINT on itself,
 * as it does for every script stopped by Ctrl-C.
 */
async function pressCtrlC(stack: Stack): Promise<boolean> {
  process.kill(-stack.child.pid!, 'SIGINT');
  const timeout = sleep(60_000).then(() => {
    throw new Error(`npm start did not exit within 60 s after Ctrl-C:\n${stack.output()}`);
  });
  const { code, signal } = await Promise.race([stack.exited, timeout]);
  return (code === 0 || signal === 'SIGINT') && stack.output().includes('[start] stopped\n');
}

/** Every process below `root`, found through parent pids (the runner has its own group). */
function descendants(root: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of rows) {
      if (ppid === parent && !found.includes(pid)) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

function commandOf(pid: number): string {
  try {
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function api(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${ports.api}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function temporalClient(): Promise<Client> {
  const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
  return new Client({ connection });
}

// What the first run creates and the second run must find.
const made = { agencyKey: '', agencyId: '', planId: '', subscriptionId: '', requestId: '' };

describe('npm start', () => {
  it(
    'brings everything up, runs the thin slice, and Ctrl-C leaves nothing running',
    async () => {
      const stack = startStack();
      const banner = await waitForReady(stack);
      const apiUrl = `http://127.0.0.1:${ports.api}`;
      for (const line of [
        `API          ${apiUrl}`,
        `API docs     ${apiUrl}/docs`,
        `OpenAPI      ${apiUrl}/openapi.json`,
        `Health       ${apiUrl}/health`,
        `Temporal UI  http://127.0.0.1:${ports.ui}`,
        `Temporal     127.0.0.1:${ports.temporal}`,
        `Postgres     postgres://tally:****@127.0.0.1:${ports.postgres}/`,
        `Admin key    ${join(dataDir, 'admin-key')} (new)`,
      ])
        expect(banner).toContain(line);

      const health = await fetch(`${apiUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok', postgres: 'up', temporal: 'up' });
      expect((await fetch(`http://127.0.0.1:${ports.ui}/`)).status).toBe(200);
      expect((await fetch(`${apiUrl}/openapi.json`)).status).toBe(200);
      expect((await fetch(`${apiUrl}/docs`)).status).toBe(200);

      // The generated admin key: owner-only, and it creates agencies.
      const keyFile = join(dataDir, 'admin-key');
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      const adminKey = readFileSync(keyFile, 'utf8').trim();
      const agency = await api('POST', '/v1/agencies', adminKey, { name: 'Start Test Agency' });
      expect(agency.status).toBe(201);
      made.agencyKey = agency.body.apiKey.key;
      made.agencyId = agency.body.agency.id;

      // Tally's custom search attributes are registered on the dev server.
      const temporal = await temporalClient();
      const listed = await temporal.connection.operatorService.listSearchAttributes({
        namespace: 'default',
      });
      expect(Object.keys(listed.customAttributes ?? {})).toEqual(
        expect.arrayContaining(Object.keys(SEARCH_ATTRIBUTES)),
      );

      // The thin slice through the in-process worker: the first cycle request lands in Postgres.
      const plan = await api('POST', '/v1/plans', made.agencyKey, {
        name: 'Starter',
        tier: 'starter',
        currency: 'USD',
        flatFeeMinor: 4900,
        includedMinutes: 500,
        rhythm: 'month',
        dueDays: 7,
        graceDays: 5,
      });
      expect(plan.status).toBe(201);
      made.planId = plan.body.id;
      const client = await api('POST', '/v1/clients', made.agencyKey, {
        name: 'Dental Co',
        email: 'ops@dental.example',
        billingMode: 'manual',
      });
      expect(client.status).toBe(201);
      const sub = await api('POST', '/v1/subscriptions', made.agencyKey, {
        clientId: client.body.id,
        planId: plan.body.id,
      });
      expect(sub.status).toBe(201);
      made.subscriptionId = sub.body.id;
      const request = await waitFor(async () => {
        const page = await api(
          'GET',
          `/v1/payment-requests?subscriptionId=${sub.body.id}`,
          made.agencyKey,
        );
        return page.body.data[0] as { id: string; totalMinor: number } | undefined;
      }, 'the first cycle payment request');
      expect(request.totalMinor).toBe(4900);
      made.requestId = request.id;
      await temporal.connection.close();

      // Everything npm start runs, recorded before the Ctrl-C.
      const tree = descendants(stack.child.pid!);
      const commands = tree.map(commandOf);
      expect(commands.some((c) => c.includes('start-dev') && c.includes(`${ports.temporal}`))).toBe(
        true,
      );
      expect(commands.some((c) => /postgres -D /.test(c) && c.includes(dataDir))).toBe(true);
      expect(commands.some((c) => c.includes('start-runner'))).toBe(true);

      expect(await pressCtrlC(stack), stack.output()).toBe(true);
      const left = tree.filter(isAlive).map((pid) => `${pid} ${commandOf(pid)}`);
      expect(left, 'processes left running after Ctrl-C').toEqual([]);
      expect(isAlive(stack.child.pid!)).toBe(false);
    },
    READY_TIMEOUT_MS + 120_000,
  );

  it('starts again on the same data dir with the data intact', async () => {
    expect(made.subscriptionId, 'needs the first test').not.toBe('');
    const stack = startStack();
    const banner = await waitForReady(stack);
    expect(banner).toContain('database schema up to date');
    expect(banner).not.toContain('(new)');

    // Postgres kept the agency, its key, the plan and the payment request.
    const plan = await api('GET', `/v1/plans/${made.planId}`, made.agencyKey);
    expect(plan.status).toBe(200);
    const request = await api('GET', `/v1/payment-requests/${made.requestId}`, made.agencyKey);
    expect(request.status).toBe(200);
    expect(request.body.totalMinor).toBe(4900);

    // Temporal kept the workflow, findable by the search attributes the README tells operators
    // to use in the Web UI.
    const temporal = await temporalClient();
    const description = await temporal.workflow
      .getHandle(subscriptionWorkflowId(made.subscriptionId))
      .describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.typedSearchAttributes.get(AgencyIdAttr)).toBe(made.agencyId);
    const found = await waitFor(async () => {
      const ids: string[] = [];
      for await (const wf of temporal.workflow.list({ query: `AgencyId = "${made.agencyId}"` }))
        ids.push(wf.workflowId);
      return ids.length > 0 ? ids : undefined;
    }, 'a visibility query on AgencyId');
    expect(found).toEqual([subscriptionWorkflowId(made.subscriptionId)]);
    await temporal.connection.close();

    const tree = descendants(stack.child.pid!);
    expect(await pressCtrlC(stack), stack.output()).toBe(true);
    expect(tree.filter(isAlive)).toEqual([]);
  }, 180_000);
  it('restarts a killed Temporal dev server and Postgres from their data; 503 meanwhile', async () => {
    expect(made.subscriptionId, 'needs the first test').not.toBe('');
    const stack = startStack();
    await waitForReady(stack);
    const runState = () =>
      JSON.parse(readFileSync(join(dataDir, 'start.json'), 'utf8')) as {
        temporal: number;
        postgres: number;
      };
    const before = runState();

    // Postgres dies: the API says 503 "unavailable" (never 500), then recovers by itself.
    kill(before.postgres, 'SIGKILL');
    const down = await waitFor(async () => {
      const res = await api('GET', `/v1/plans/${made.planId}`, made.agencyKey);
      return res.status === 200 ? undefined : res;
    }, 'an answer while Postgres is down');
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('unavailable');
    await waitFor(
      async () => (/\[start\] Postgres restarted/.test(stack.output()) ? true : undefined),
      'the Postgres restart in the log',
      60_000,
    );
    const plan = await waitFor(async () => {
      const res = await api('GET', `/v1/plans/${made.planId}`, made.agencyKey);
      return res.status === 200 ? res : undefined;
    }, 'the API back after the Postgres restart');
    expect(plan.body.id).toBe(made.planId);
    expect(runState().postgres).not.toBe(before.postgres);

    // The dev server dies (its whole group): restarted from its SQLite file, the workflow is
    // still there, and the in-process worker serves it again (a query answers).
    process.kill(-before.temporal, 'SIGKILL');
    await waitFor(
      async () =>
        /\[start\] Temporal dev server restarted/.test(stack.output()) ? true : undefined,
      'the dev server restart in the log',
      90_000,
    );
    expect(stack.output()).toMatch(
      /\[start\] Temporal dev server stopped on its own \(killed by SIGKILL/,
    );
    expect(runState().temporal).not.toBe(before.temporal);
    const temporal = await temporalClient();
    const handle = temporal.workflow.getHandle(subscriptionWorkflowId(made.subscriptionId));
    expect((await handle.describe()).status.name).toBe('RUNNING');
    const view = await waitFor(
      async () => {
        const res = await api(
          'GET',
          `/v1/subscriptions/${made.subscriptionId}?live=true`,
          made.agencyKey,
        );
        return res.status === 200 ? res : undefined;
      },
      'the workflow answering a query after the dev server restart',
      90_000,
    );
    expect(view.body.live.status).toBe('active');
    await temporal.connection.close();
    expect(stack.child.exitCode, stack.output()).toBeNull();

    const tree = descendants(stack.child.pid!);
    expect(await pressCtrlC(stack), stack.output()).toBe(true);
    expect(tree.filter(isAlive)).toEqual([]);
  }, 300_000);
});
