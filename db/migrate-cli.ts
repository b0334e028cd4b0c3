/** `npm run migrate`: applies pending migrations to DATABASE_URL. */
import { z } from 'zod';
import { configPieces, loadConfigOrExit } from '../lib/config';
import { createSql } from './client';
import { migrate } from './migrate';

const config = loadConfigOrExit(z.object({ DATABASE_URL: configPieces.DATABASE_URL }));
const sql = createSql(config.DATABASE_URL, { max: 1 });
try {
  const applied = await migrate(sql);
  console.log(
    applied.length ? `applied migrations ${applied.join(', ')}` : 'database is up to date',
  );
} finally {
  await sql.end();
}
