// Prisma CLI configuration (used for migrate diff/status with the offline schema engine).
// The service itself never runs the Prisma CLI: it applies migrations with src/db/migrate.ts.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' },
});
