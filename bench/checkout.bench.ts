/**
 * Checkout cost: a run's SECOND checkout of a repository (the mirror in the data dir already has the
 * commit: `git init` + `git fetch --depth=1 file://MIRROR SHA` + `git checkout`, lib/source/mirror.ts) as a
 * ratio to a plain `git clone` of the same repository from the same `git daemon` on 127.0.0.1 (measured in
 * the same run). The repository is made here: 5,000 files, 200 commits. Goal: under 1x (both write the same 5,000 files, which dominates: the mirror saves the network transfer and the history). A second line
 * shows the full-history checkout from the mirror (cloneDepth 0).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NO_CREDENTIALS } from '../lib/source/git';
import { checkoutFromMirror, MirrorStore } from '../lib/source/mirror';
import { startGitDaemon } from '../tests/checkout/support';
import { compare } from './support';

const FILES = 5_000;
const COMMITS = 200;

const root = mkdtempSync(path.join(os.tmpdir(), 'buildit-bench-checkout-'));
const env = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b', LC_ALL: 'C' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();

const repo = path.join(root, 'repos', 'big.git');
mkdirSync(repo, { recursive: true });
git(repo, 'init', '--quiet', '--initial-branch=main');
const fileName = (i: number) => path.join(repo, `dir${i % 50}`, `file${i}.txt`);
for (let i = 0; i < FILES; i++) {
  mkdirSync(path.dirname(fileName(i)), { recursive: true });
  writeFileSync(fileName(i), `file ${i}\n${'content line\n'.repeat(20)}`);
}
git(repo, 'add', '-A');
git(repo, 'commit', '--quiet', '-m', 'commit 1');
for (let c = 2; c <= COMMITS; c++) {
  for (let k = 0; k < 25; k++) {
    const i = (c * 37 + k * 101) % FILES;
    writeFileSync(fileName(i), `file ${i} changed in commit ${c}\n${'content line\n'.repeat(20)}`);
  }
  git(repo, 'commit', '--quiet', '-am', `commit ${c}`);
}
const sha = git(repo, 'rev-parse', 'HEAD');
const daemon = await startGitDaemon(path.join(root, 'repos'));
const url = daemon.url('big.git');
const mirrors = new MirrorStore(path.join(root, 'mirrors'));
const first = await mirrors.ensureCommit(url, sha, { credentials: NO_CREDENTIALS }); // the first checkout made the mirror
console.log(`${FILES} files, ${COMMITS} commits, served by git daemon at ${url}`);

let n = 0;
const scratch = () => path.join(root, 'work', String(++n));
async function fromMirror(depth: number): Promise<void> {
  const workspace = scratch();
  const mirror = await mirrors.ensureCommit(url, sha, { credentials: NO_CREDENTIALS });
  await checkoutFromMirror({ workspace, url, mirrorDir: mirror.dir, sha: mirror.sha, depth, submodules: false, credentials: NO_CREDENTIALS });
  rmSync(workspace, { recursive: true, force: true });
}
function plainClone(): void {
  const workspace = scratch();
  git(root, 'clone', '--quiet', url, workspace);
  rmSync(workspace, { recursive: true, force: true });
}

try {
  if (first.sha !== sha) throw new Error('mirror has the wrong commit');
  const result = await compare('second checkout from the mirror (depth 1) vs plain git clone', () => fromMirror(1), plainClone, {
    runs: 7,
    warmup: 1,
    goal: 1,
  });
  await compare('second checkout from the mirror (full history) vs plain git clone', () => fromMirror(0), plainClone, { runs: 5, warmup: 1 });
  process.exitCode = result.ratio < 1 ? 0 : 1;
} finally {
  await daemon.stop();
  rmSync(root, { recursive: true, force: true });
}
