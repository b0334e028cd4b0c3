/**
 * Replay fixtures: workflow histories stored as JSON (protobuf JSON of temporal.api.history.v1
 * History). Written and read with the proto classes of @temporalio/proto, so 64-bit ids come
 * back as Longs and the replay worker takes them as they are.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';

const { History } = proto.temporal.api.history.v1;
type History = proto.temporal.api.history.v1.IHistory;

export const historiesDir = fileURLToPath(new URL('./histories/', import.meta.url));

/** The JSON of a history; worker identities (pid@host) are replaced, they say where it ran. */
export function historyToFixture(history: History): string {
  const json = History.fromObject(history).toJSON();
  return JSON.stringify(json, (k, v) => (k === 'identity' ? 'recorder' : v), 1) + '\n';
}

export function historyFromFixture(json: string): History {
  return History.fromObject(JSON.parse(json));
}

/** Every fixture in the directory, named by file, for Worker.runReplayHistories. */
export async function loadFixtures(
  dir = historiesDir,
): Promise<{ workflowId: string; history: History }[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      workflowId: file,
      history: historyFromFixture(await readFile(`${dir}${file}`, 'utf8')),
    })),
  );
}

/**
 * The fixture files a recording replaces: every one when no scenario is named (a full
 * re-recording), else only the runs (`<scenario>.run<n>.json`) of the scenarios named.
 */
export function fixturesReplaced(files: string[], named: ReadonlySet<string>): string[] {
  const json = files.filter((f) => f.endsWith('.json'));
  if (named.size === 0) return json;
  return json.filter((f) => named.has(f.replace(/\.run\d+\.json$/, '')));
}
