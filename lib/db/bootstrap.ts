// Which PostgreSQL BuildIt uses: DATABASE_URL if set, otherwise the embedded one under the data dir.
import { databaseUrlFromEnv, dataDirFromEnv, type Env } from '../config/env';
import { startEmbeddedPostgres } from './embedded';

export interface ResolvedDatabase {
  url: string;
  source: 'env' | 'embedded';
  /** true when this is the embedded PostgreSQL (started here or reused from another BuildIt process). */
  embedded: boolean;
  /** Where the embedded server keeps its data (see lib/db/embedded.ts); undefined with DATABASE_URL. */
  clusterDir?: string;
  /** Stops the embedded server if this process started it; no-op otherwise. */
  stop(): Promise<void>;
}

export interface ResolveDatabaseOptions {
  /** BuildIt data dir (embedded cluster lives in `<dataDir>/postgres`); default BUILDIT_DATA_DIR (lib/config). */
  dataDir?: string;
  /** Defaults to process.env. */
  env?: Env;
}

export async function resolveDatabase(options: ResolveDatabaseOptions = {}): Promise<ResolvedDatabase> {
  const env = options.env ?? process.env;
  const fromEnv = databaseUrlFromEnv(env);
  if (fromEnv) return { url: fromEnv, source: 'env', embedded: false, stop: async () => {} };
  const embedded = await startEmbeddedPostgres({ dataDir: options.dataDir ?? dataDirFromEnv(env) });
  return { url: embedded.url, source: 'embedded', embedded: true, clusterDir: embedded.clusterDir, stop: () => embedded.stop() };
}
