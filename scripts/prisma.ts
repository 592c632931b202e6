// `npm run prisma -- <args>` and `postinstall` (`prisma generate`): the real Prisma CLI, run with
// CHECKPOINT_DISABLE=1 and, when the native schema engine is missing (offline installs), the WASM
// stand-in scripts/prisma-schema-engine.mjs. The logic lives in lib/db/prisma-cli.ts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { prismaCliPath, runPrisma } from '../lib/db/prisma-cli';

export { chooseSchemaEngine, findNativeSchemaEngine, prismaCliPath, prismaEnv, repoRoot, runPrisma, schemaEngineStandinPath } from '../lib/db/prisma-cli';
export type { Env, RunPrismaOptions, RunPrismaResult, SchemaEngineChoice } from '../lib/db/prisma-cli';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (!existsSync(prismaCliPath)) {
    process.stderr.write(`prisma CLI not found at ${prismaCliPath}: run \`npm install\` first.\n`);
    process.exit(1);
  }
  const result = await runPrisma(args, { stdio: 'inherit' });
  process.exit(result.code);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
