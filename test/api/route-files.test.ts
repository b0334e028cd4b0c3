/**
 * A URL leads to its file: every route lives in the most specific route file its path names.
 * `/clients/{id}/packs/{packId}/apply` is in api/routes/clients/packs.ts because that file
 * exists; `/plans/{id}/archive` is in api/routes/plans.ts because api/routes/plans/archive.ts
 * does not. And no route file imports another (shared schemas live in api/presenters/).
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROUTES = join(import.meta.dirname, '../../api/routes');
/** The route table mounts the files; it registers no route of its own. */
const TABLE = 'v1.ts';

function routeFiles(dir = ROUTES): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? routeFiles(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [relative(ROUTES, join(dir, e.name))]
        : [],
  );
}

/** The file a path belongs in: the longest run of its literal segments that names a file. */
function fileFor(path: string): string | null {
  const literal = path.split('/').filter((s) => s !== '' && !s.startsWith(':'));
  for (let n = literal.length; n > 0; n--) {
    const candidate = `${literal.slice(0, n).join('/')}.ts`;
    if (existsSync(join(ROUTES, candidate))) return candidate;
  }
  return null;
}

interface Registered {
  method: string;
  path: string;
}

/** The routes a route file registers, read from the apps its exported `...Routes()` build. */
async function routesOf(file: string): Promise<Registered[]> {
  const mod = (await import(join(ROUTES, file))) as Record<string, unknown>;
  const found: Registered[] = [];
  for (const [name, value] of Object.entries(mod)) {
    if (!name.endsWith('Routes') || typeof value !== 'function' || value.length > 0) continue;
    const app = (value as () => { routes: Registered[] })();
    for (const r of app.routes) if (r.method !== 'ALL') found.push(r);
  }
  return found;
}

const files = routeFiles().filter((f) => f !== TABLE);

describe('route files', () => {
  it('are found, and each registers routes', async () => {
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) expect(await routesOf(file), file).not.toEqual([]);
  });

  it.each(files)('%s holds only routes whose path leads to it', async (file) => {
    const misplaced = (await routesOf(file))
      .map((r) => ({ route: `${r.method} ${r.path}`, belongsIn: fileFor(r.path) }))
      .filter((r) => r.belongsIn !== file);
    expect(misplaced).toEqual([]);
  });

  it.each(files)('%s imports no other route file', (file) => {
    const source = readFileSync(join(ROUTES, file), 'utf8');
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    const routeImports = imports.filter((spec) => {
      if (!spec.startsWith('.')) return false;
      const target = relative(ROUTES, join(ROUTES, file, '..', spec));
      return !target.startsWith('..');
    });
    expect(routeImports).toEqual([]);
  });
});
