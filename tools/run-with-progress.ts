// Runs a long build step (go install, mvn) so the user can see it is alive: every output line is
// echoed to stderr with a `[tools] <tool>:` prefix, and a heartbeat reports elapsed seconds,
// because `go install` of the Temporal CLI can sit silently in the linker for minutes.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { log } from './common';

const HEARTBEAT_MS = 10_000;
// Maven prints colour resets even in batch mode with style.color=never; strip them from our log.
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const TAIL_LINES = 30;

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Resolves when the command exits 0; otherwise rejects with the last output lines attached. */
export function runWithProgress(
  tool: string,
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<void> {
  const started = Date.now();
  const tail: string[] = [];
  log(tool, `$ ${command} ${args.join(' ')}`);

  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const echo = (stream: Readable): void => {
      createInterface({ input: stream }).on('line', (raw) => {
        const line = raw.replace(ANSI_ESCAPE, '').trimEnd();
        if (!line) return;
        log(tool, line);
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
      });
    };
    echo(child.stdout);
    echo(child.stderr);

    const heartbeat = setInterval(() => {
      const secs = Math.round((Date.now() - started) / 1000);
      log(tool, `still running ${command}... ${secs}s elapsed`);
    }, HEARTBEAT_MS);
    // A heartbeat must never be what keeps Node alive after the child is gone.
    heartbeat.unref();

    child.once('error', (err) => {
      clearInterval(heartbeat);
      reject(new Error(`could not start ${command}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearInterval(heartbeat);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (code === 0) {
        log(tool, `${command} finished in ${secs}s`);
        resolvePromise();
        return;
      }
      const why = signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
      reject(new Error(`${command} ${why} after ${secs}s. Last output:\n${tail.join('\n')}`));
    });
  });
}
