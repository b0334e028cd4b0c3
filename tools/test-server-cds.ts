// AppCDS for the Java test server. The SDK gives the server 5 s to answer gRPC, and on a busy
// 2-core CI machine a cold JVM spends most of its ~1 s startup loading and verifying ~8k classes
// from 40 jars. A dynamic CDS archive (JDK 13+) lets later JVMs map those classes pre-parsed.
// We record it once at provisioning time: start the server with -XX:ArchiveClassesAtExit, drive a
// few real gRPC calls so the request path's classes are archived too, then stop it with SIGTERM
// (the JVM writes the archive on orderly exit, including on SIGTERM).
import { spawn, type ChildProcess } from 'node:child_process';
import { rename, rm, stat } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { log, sleep } from './common';

const TOOL = 'test-server';

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => resolveConnect(false));
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    if (await canConnect(port)) return;
    await sleep(50);
  }
  throw new Error(`server did not listen on port ${port} within ${timeoutMs / 1000}s`);
}

/** Best effort: without @temporalio/client we still archive the startup classes (most of the win). */
async function exerciseGrpc(port: number): Promise<void> {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  try {
    const client = new Client({ connection });
    const handle = await client.workflow.start('cdsTraining', {
      taskQueue: 'cds-training',
      workflowId: `cds-training-${process.pid}`,
    });
    await handle.describe();
    await handle.terminate('CDS training run');
  } finally {
    await connection.close();
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveExit();
    });
  });
}

/**
 * Records a CDS archive at `archivePath` (atomically). Returns false, after logging why, if it
 * could not: the wrapper then simply runs without one (slower start, same behaviour).
 */
export async function buildCdsArchive(
  jvmArgs: readonly string[],
  archivePath: string,
): Promise<boolean> {
  const tmp = `${archivePath}.tmp-${process.pid}`;
  const port = await freePort();
  log(TOOL, 'recording a class-data-sharing archive to cut JVM startup (a few seconds, once)');
  const child = spawn('java', [`-XX:ArchiveClassesAtExit=${tmp}`, ...jvmArgs, String(port)], {
    // The JVM prints harmless CDS warnings about old classes while dumping: keep them quiet.
    stdio: 'ignore',
  });
  try {
    await waitForPort(port, child, 30_000);
    await exerciseGrpc(port).catch((err: unknown) => {
      log(TOOL, `gRPC warm-up skipped (${err instanceof Error ? err.message : String(err)})`);
    });
    child.kill('SIGTERM');
    await waitForExit(child, 60_000);
    const size = (await stat(tmp)).size;
    await rename(tmp, archivePath);
    log(TOOL, `wrote ${archivePath} (${Math.round(size / 1e6)} MB)`);
    return true;
  } catch (err) {
    log(TOOL, `WARNING: no CDS archive, startup will be ~2x slower: ${String(err)}`);
    return false;
  } finally {
    child.kill('SIGKILL');
    await rm(tmp, { force: true });
  }
}
