// `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database).
import { env } from '../config/env.ts';
import { openDatabase } from './database.ts';
import { migrate } from './migrate.ts';

const database = await openDatabase(env);
try {
  const { applied } = await migrate(database.url, (m) => console.log(m));
  console.log(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date');
} finally {
  await database.close();
}
