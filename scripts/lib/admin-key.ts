/** The platform admin key for `npm start`: generated once, kept in `<data>/admin-key` (0600). */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface AdminKey {
  key: string;
  /** Where it is kept; null when it came from TALLY_ADMIN_KEY. */
  path: string | null;
  created: boolean;
}

/** TALLY_ADMIN_KEY when given; else the key in `<data>/admin-key`, created on first use. */
export async function loadOrCreateAdminKey(
  dataDir: string,
  fromEnv: string | undefined,
): Promise<AdminKey> {
  if (fromEnv) return { key: fromEnv, path: null, created: false };
  const path = join(dataDir, 'admin-key');
  const existing = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (existing !== null) {
    const key = existing.trim();
    // Same rule as TALLY_ADMIN_KEY in lib/config.ts.
    if (key.length < 24)
      throw new Error(
        `${path} holds a key shorter than 24 characters; delete the file to get a new one`,
      );
    return { key, path, created: false };
  }
  const key = `tadm_${randomBytes(24).toString('base64url')}`;
  // 'wx': never overwrite a key a concurrent start just wrote; 0600: it creates agencies.
  await writeFile(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, path, created: true };
}
