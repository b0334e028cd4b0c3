/**
 * stripe-mock for the test run: started once by the global setup on a free loopback port (HTTP
 * and HTTPS both bound to 127.0.0.1, so nothing listens beyond this machine and parallel runs
 * never collide), stopped at teardown. A missing binary or a mock that does not come up fails
 * the run with a message that says why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ensureStripeMock } from '../../tools';

export interface StripeMockServer {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  stop(): Promise<void>;
}

const STARTUP_MS = 15_000;

/** Starts stripe-mock and resolves once it says where it listens. */
export async function startStripeMock(): Promise<StripeMockServer> {
  const binary = await ensureStripeMock();
  // An empty port lets the system choose; stripe-mock prints the address it bound.
  const child = spawn(binary, ['-http-addr', '127.0.0.1:', '-https-addr', '127.0.0.1:'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`stripe-mock (${binary}) did not start: ${why}\n${output.trim()}`));
    };
    const timer = setTimeout(() => fail(`no listening address after ${STARTUP_MS} ms`), STARTUP_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening for HTTP at address: (127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(`http://${match[1]}`);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
  });
  child.removeAllListeners('exit');
  // A run that dies without its teardown must not leave the mock behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    url,
    stop: async () => {
      process.off('exit', killOnExit);
      await stop(child);
    },
  };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
