// Prisma CLI configuration (Prisma 7 reads the datasource URL from here, not from schema.prisma).
// DATABASE_URL is read with `??` rather than Prisma's env(), which throws when the variable is unset:
// `prisma generate` (postinstall) must work on a machine with no database configured.
// Run the CLI through `npm run prisma -- ...` (scripts/prisma.ts), which also supplies a schema engine.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
  },
  datasource: {
    // Harmless default: nothing listens there unless you run it; commands that need a database say so.
    url: process.env.DATABASE_URL ?? 'postgresql://buildit@127.0.0.1:5432/buildit',
  },
});
