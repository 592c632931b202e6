/**
 * The production build of the web app, and when it is stale.
 * `npm run build` builds unconditionally; `npm start` calls `buildWebIfStale`, which rebuilds only when the
 * sources the build is made from changed since the last build (a `git pull`, an edit), so nobody is
 * served an old build by accident.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { messageOf } from '../lib/errors';

const root = path.resolve(import.meta.dirname, '..');
const WEB_SOURCES = ['app', 'components', 'lib', 'public', 'next.config.ts', 'postcss.config.mjs', 'package-lock.json', 'tsconfig.json'];
const distDir = path.join(root, process.env.BUILDIT_NEXT_DIST_DIR || '.next');
const FINGERPRINT_FILE = path.join(distDir, 'buildit-sources.sha256');

function listFiles(entry: string): string[] {
  const full = path.join(root, entry);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [entry];
  return readdirSync(full, { withFileTypes: true })
    .filter((child) => child.name !== 'generated' && !child.name.startsWith('.'))
    .flatMap((child) => (child.isDirectory() ? listFiles(path.join(entry, child.name)) : [path.join(entry, child.name)]));
}

function webSourceFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of WEB_SOURCES.flatMap(listFiles).sort())
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(path.join(root, file)));
  return hash.digest('hex');
}

export async function buildWeb(env: NodeJS.ProcessEnv, onLine: (line: string) => void): Promise<void> {
  const build = spawn(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'build'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [build.stdout, build.stderr]) createInterface({ input: stream }).on('line', onLine);
  const code = await new Promise<number | null>((resolve) => build.once('exit', resolve));
  if (code !== 0) throw new Error(`next build failed (exit ${code}); see the build output above`);
  // Read after the build: next build itself may edit tsconfig.json (its types of another distDir).
  writeFileSync(FINGERPRINT_FILE, webSourceFingerprint());
}

export async function buildWebIfStale(env: NodeJS.ProcessEnv, onLine: (line: string) => void): Promise<void> {
  const built = existsSync(path.join(distDir, 'BUILD_ID')) && existsSync(FINGERPRINT_FILE) ? readFileSync(FINGERPRINT_FILE, 'utf8') : null;
  if (built === webSourceFingerprint()) return;
  onLine(`${built === null ? 'no production build found' : 'sources changed since the last build'}: running \`next build\` (about a minute)`);
  await buildWeb(env, onLine);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  buildWeb({ ...process.env, NODE_ENV: 'production' }, (line) => console.log(line)).catch((error: unknown) => {
    console.error(messageOf(error));
    process.exit(1);
  });
}
