/** `buildit run` end to end: the real binary in a child process, in a scratch directory. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sleep } from '../../lib/async';
import type { RunEvent } from '../../lib/events/types';
import { dockerOrSkip } from '../../tests/support/engines';
import { findContainersByLabel } from '../../lib/engine/executors/docker';

const BIN = path.resolve(import.meta.dirname, '..', 'bin.mjs');
const EVENT_TYPES = new Set(['run.started', 'stage.queued', 'stage.waiting_approval', 'stage.started', 'stage.log', 'stage.finished', 'run.finished']);

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function scratch(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'buildit-cli-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  return dir;
}

function start(args: string[], cwd: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, 'run', ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, output: () => stdout };
}

function runCli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return start(args, cwd, env).done;
}

function parseNdjson(stdout: string): RunEvent[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as RunEvent);
}

const IMAGE = 'image "local/busybox:latest"';
/** Stages on the host: the tests of the CLI's own behaviour need no container engine. */
const LOCAL = ['--executor', 'local'];
const PIPELINE = `
pipeline "cli"
stage "lint" {
  ${IMAGE}
  run "echo lint ok"
}
stage "build" {
  needs "lint"
  ${IMAGE}
  run "mkdir -p dist && echo artifact-content > dist/out.txt"
  artifacts "dist/out.txt"
}
stage "test" {
  needs "build"
  ${IMAGE}
  run "cat dist/out.txt; cat input.txt"
}
stage "deploy" {
  needs "test"
  ${IMAGE}
  approval
  run "echo deploying"
}
`;

test('a successful run exits 0 and prints prefixed lines, stage ends with durations, and a summary', async (t) => {
  // No --executor: stages with an image run in containers, as on the server.
  if (!(await dockerOrSkip(t))) return;
  const dir = await scratch(t, { 'buildit.kdl': PIPELINE, 'input.txt': 'from-the-source-dir' });
  const { code, stdout, stderr } = await runCli(['--approve', 'deploy'], dir);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^\[lint\] +lint ok$/m);
  assert.match(stdout, /^\[test\] +artifact-content$/m, 'artifacts reach dependents');
  assert.match(stdout, /^\[test\] +from-the-source-dir$/m, 'the workspace is a copy of the current directory');
  assert.match(stdout, /^\[deploy\] +✔ succeeded in \d/m);
  assert.match(stdout, /^STAGE +STATUS +ATTEMPTS +DURATION/m);
  assert.match(stdout, /^build +succeeded +1 +\d/m);
  assert.match(stdout, /run succeeded in/);
  assert.ok(!stdout.includes('\u001b['), 'no colour when stdout is not a TTY');
  assert.ok(!existsSync(path.join(dir, 'dist')), 'the source directory is left untouched');
});

test('colour: FORCE_COLOR turns it on for a non-TTY, NO_COLOR always wins', async (t) => {
  const dir = await scratch(t, { 'buildit.kdl': PIPELINE, 'input.txt': 'x' });
  const coloured = await runCli([...LOCAL, '--only', 'lint'], dir, { FORCE_COLOR: '1' });
  assert.equal(coloured.code, 0, coloured.stderr);
  assert.match(coloured.stdout, new RegExp(String.raw`\u001b\[\d+m\[lint\]`));
  const plain = await runCli([...LOCAL, '--only', 'lint'], dir, { FORCE_COLOR: '1', NO_COLOR: '1' });
  assert.ok(!plain.stdout.includes('\u001b['));
});

test('--json prints only NDJSON events of the documented union, seq per stage from 1', async (t) => {
  const dir = await scratch(t, { 'buildit.kdl': PIPELINE, 'input.txt': 'x' });
  const { code, stdout, stderr } = await runCli([...LOCAL, '--json', '--approve', 'all'], dir);
  assert.equal(code, 0, stderr);
  const events = parseNdjson(stdout);
  assert.equal(events[0]!.type, 'run.started');
  assert.equal(events.at(-1)!.type, 'run.finished');
  const runId = events[0]!.runId;
  const seqs = new Map<string, number[]>();
  for (const event of events) {
    assert.ok(EVENT_TYPES.has(event.type), event.type);
    assert.equal(event.runId, runId);
    assert.ok(!Number.isNaN(Date.parse(event.time)));
    if (event.type === 'stage.log') seqs.set(event.stage, [...(seqs.get(event.stage) ?? []), event.seq]);
  }
  for (const [stage, list] of seqs)
    assert.deepEqual(
      list,
      list.map((_, i) => i + 1),
      stage,
    );
  assert.deepEqual(
    events.filter((e) => e.type === 'stage.finished').map((e) => (e.type === 'stage.finished' ? [e.stage, e.status] : [])),
    [
      ['lint', 'succeeded'],
      ['build', 'succeeded'],
      ['test', 'succeeded'],
      ['deploy', 'succeeded'],
    ],
  );
});

test('without --approve and without a terminal, approval stages are skipped with the reason', async (t) => {
  const dir = await scratch(t, { 'buildit.kdl': PIPELINE, 'input.txt': 'x' });
  const { code, stdout } = await runCli([...LOCAL, '--json'], dir);
  assert.equal(code, 0);
  const deploy = parseNdjson(stdout).find((e) => e.type === 'stage.finished' && e.stage === 'deploy');
  assert.deepEqual(deploy && deploy.type === 'stage.finished' ? [deploy.status, deploy.reason] : null, [
    'skipped',
    'approval required: pass --approve all|STAGE',
  ]);
});

test('--only runs the named stages and what they need', async (t) => {
  const dir = await scratch(t, { 'buildit.kdl': PIPELINE, 'input.txt': 'x' });
  const { code, stdout } = await runCli([...LOCAL, '--json', '--only', 'build'], dir);
  assert.equal(code, 0);
  const started = parseNdjson(stdout)
    .filter((e) => e.type === 'stage.started')
    .map((e) => (e.type === 'stage.started' ? e.stage : ''));
  assert.deepEqual(started, ['lint', 'build']);
});

test('exit codes: 1 failed, 2 invalid pipeline or usage', async (t) => {
  const failing = `pipeline "f"\nstage "bad" {\n  ${IMAGE}\n  run "exit 4"\n}\nstage "fine" {\n  ${IMAGE}\n  run "true"\n}\n`;
  const dir = await scratch(t, {
    'buildit.kdl': PIPELINE,
    'failing.kdl': failing,
    'invalid.kdl': 'pipeline "x"\nstage "a" {\n  needs "nope"\n  run "true"\n}\n',
  });
  const failed = await runCli([...LOCAL, 'failing.kdl'], dir);
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /\[bad\] +✖ failed in .*: exit code 4/);
  assert.match(failed.stdout, /run failed/);

  const invalid = await runCli(['invalid.kdl'], dir);
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /^invalid\.kdl:3:\d+: error: .*nope/m);

  assert.equal((await runCli(['missing.kdl'], dir)).code, 2);
  const unknownStage = await runCli(['--only', 'nope'], dir);
  assert.equal(unknownStage.code, 2);
  assert.match(unknownStage.stderr, /no stage "nope"/);
  assert.equal((await runCli(['--var', 'novalue'], dir)).code, 2);
  assert.equal((await runCli(['--executor', 'podman'], dir)).code, 2);
  assert.equal((await runCli(['--approve', 'nope'], dir)).code, 2);
});

test('a pipeline whose triggers do not match runs nothing, says why, and exits 0', async (t) => {
  const pipeline = `pipeline "gated" {\n  on "push" branches="main"\n}\nstage "a" {\n  ${IMAGE}\n  run "echo ran"\n}\n`;
  const dir = await scratch(t, { 'buildit.kdl': pipeline });
  const offBranch = await runCli([...LOCAL, '--branch', 'dev', '--event', 'push'], dir);
  assert.equal(offBranch.code, 0, offBranch.stderr);
  assert.match(offBranch.stderr, /does not run for this trigger/);
  assert.ok(!offBranch.stdout.includes('ran'));
  const onMain = await runCli([...LOCAL, '--branch', 'main', '--event', 'push'], dir);
  assert.equal(onMain.code, 0, onMain.stderr);
  assert.match(onMain.stdout, /\[a\] +ran/);
});

test('without --event, a pipeline a push of this branch would not run, but that has on "manual", runs as a manual trigger', async (t) => {
  const pipeline = `pipeline "by-hand" {\n  on "push" branches="main"\n  on "manual"\n}\nstage "a" {\n  ${IMAGE}\n  run "echo ran"\n}\n`;
  const dir = await scratch(t, { 'buildit.kdl': pipeline });
  const implicit = await runCli([...LOCAL, '--branch', 'dev'], dir);
  assert.equal(implicit.code, 0, implicit.stderr);
  assert.match(implicit.stderr, /running it as a manual trigger/);
  assert.match(implicit.stdout, /\[a\] +ran/);
  // An explicit --event is taken as asked, never swapped.
  const explicit = await runCli([...LOCAL, '--branch', 'dev', '--event', 'push'], dir);
  assert.match(explicit.stderr, /does not run for this trigger/);
  assert.ok(!explicit.stdout.includes('ran'));
});

test('--tag runs a tag trigger: tag filters, `when tag=`, `${git.tag}` through the environment, optional needs', async (t) => {
  const pipeline = `pipeline "rel" {
  on "push" branches="main"
  on "tag" tags="v*"
}
stage "lint" {
  ${IMAGE}
  run "echo linted"
  when branch="main"
}
stage "publish" {
  needs "lint" optional=#true
  ${IMAGE}
  run "echo \\"published \${git.tag}\\""
  when tag="v*"
}
`;
  const dir = await scratch(t, { 'buildit.kdl': pipeline });
  const finished = (stdout: string) =>
    Object.fromEntries(parseNdjson(stdout).flatMap((e) => (e.type === 'stage.finished' ? [[e.stage, [e.status, e.reason ?? null]]] : [])));
  // --tag alone means the event "tag" (a pushed tag has no branch: lint's `when branch=` is false, and publish runs without it).
  const tagged = await runCli([...LOCAL, '--json', '--tag', 'v1.2.0'], dir);
  assert.equal(tagged.code, 0, tagged.stderr);
  assert.deepEqual(finished(tagged.stdout), {
    lint: ['skipped', 'when branch="main": the trigger has no branch'],
    publish: ['succeeded', null],
  });
  assert.ok(parseNdjson(tagged.stdout).some((e) => e.type === 'stage.log' && e.line === 'published v1.2.0'));
  const hostile = 'v1"; touch pwned-tag; echo "';
  const quoted = await runCli([...LOCAL, '--json', '--event', 'tag', '--tag', hostile], dir);
  assert.equal(quoted.code, 0, quoted.stderr);
  assert.ok(parseNdjson(quoted.stdout).some((e) => e.type === 'stage.log' && e.line === `published ${hostile}`));
  assert.ok(!existsSync(path.join(dir, 'pwned-tag')));
  const other = await runCli([...LOCAL, '--event', 'tag', '--tag', 'nightly'], dir);
  assert.equal(other.code, 0);
  assert.match(other.stderr, /tag "nightly" does not match the `on "tag"` tag filter "v\*"/);
  assert.equal((await runCli([...LOCAL, '--event', 'tag'], dir)).code, 2, 'a tag trigger needs a tag (none points at HEAD here)');
});

test('--only does not follow optional needs: a selected optional need is waited for, an unselected one is left out', async (t) => {
  const pipeline = `pipeline "opt"
stage "lint" {
  ${IMAGE}
  run "sleep 0.3; echo linted"
}
stage "publish" {
  needs "lint" optional=#true
  ${IMAGE}
  run "echo published"
}
`;
  const dir = await scratch(t, { 'buildit.kdl': pipeline });
  const order = (stdout: string) => parseNdjson(stdout).flatMap((e) => (e.type === 'stage.finished' ? [`${e.stage}:${e.status}`] : []));
  const alone = await runCli([...LOCAL, '--json', '--event', 'manual', '--only', 'publish'], dir);
  assert.equal(alone.code, 0, alone.stderr);
  assert.deepEqual(order(alone.stdout), ['publish:succeeded']);
  const both = await runCli([...LOCAL, '--json', '--event', 'manual', '--only', 'publish', 'lint'], dir);
  assert.equal(both.code, 0, both.stderr);
  assert.deepEqual(order(both.stdout), ['lint:succeeded', 'publish:succeeded']);
});

test('--fail-fast cancels the other stages and exits 1', async (t) => {
  const pipeline = `pipeline "ff"\nstage "bad" {\n  ${IMAGE}\n  run "sleep 0.2; exit 1"\n}\nstage "long" {\n  ${IMAGE}\n  run "sleep 30"\n}\n`;
  const dir = await scratch(t, { 'buildit.kdl': pipeline });
  const { code, stdout } = await runCli([...LOCAL, '--fail-fast', '--json'], dir);
  assert.equal(code, 1);
  const long = parseNdjson(stdout).find((e) => e.type === 'stage.finished' && e.stage === 'long');
  assert.equal(long?.type === 'stage.finished' ? long.status : null, 'cancelled');
});

test('a multi-line secret from --secret-file never appears in stdout, stderr or NDJSON', async (t) => {
  const key = ['-----BEGIN PRIVATE KEY-----', 'TXVsdGktbGluZS1zZWNyZXQtb25l', 'TXVsdGktbGluZS1zZWNyZXQtdHdv', '-----END PRIVATE KEY-----'];
  const pipeline = `pipeline "s"\nstage "leak" {\n  ${IMAGE}\n  secret "KEY" "TOKEN"\n  run "echo \\"$KEY\\"; echo \\"$KEY\\" >&2; echo token=$TOKEN; exit 1"\n}\n`;
  const dir = await scratch(t, {
    'buildit.kdl': pipeline,
    'secrets.env': `# test secrets\nKEY<<EOF\n${key.join('\n')}\nEOF\n`,
    'secrets.json': JSON.stringify({ TOKEN: 'json-token-value' }),
  });
  for (const mode of [[], ['--json']]) {
    const { code, stdout, stderr } = await runCli([...LOCAL, ...mode, '--secret-file', 'secrets.env', '--secret-file', 'secrets.json'], dir);
    assert.equal(code, 1);
    assert.match(stdout, /token=\*\*\*/);
    for (const fragment of [...key, 'json-token-value']) {
      assert.ok(!stdout.includes(fragment) && !stderr.includes(fragment), `${fragment} leaked (${mode.join(' ')})`);
    }
  }
  const missing = await runCli([...LOCAL, '--json'], dir);
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /missing secrets \\"KEY\\", \\"TOKEN\\"/);
});

test('a second run reuses the cache; --workspace runs in place', async (t) => {
  const pipeline = `pipeline "c"\ncache "deps" key="k1" path="deps"\nstage "use" {\n  ${IMAGE}\n  cache "deps"\n  run "cat deps/stamp 2>/dev/null || echo miss"\n  run "echo stamped > deps/stamp; echo written > here.txt"\n}\n`;
  const dir = await scratch(t, { 'buildit.kdl': pipeline });
  const cacheDir = path.join(dir, '.cache-root');
  const first = await runCli(LOCAL, dir, { BUILDIT_CACHE_DIR: cacheDir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /\[use\] +miss/);
  const second = await runCli([...LOCAL, '--workspace', dir], dir, { BUILDIT_CACHE_DIR: cacheDir });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /\[use\] +stamped/);
  assert.equal(await readFile(path.join(dir, 'here.txt'), 'utf8'), 'written\n');
});

test('at a terminal, approval stages are asked one at a time: y runs, anything else skips', async (t) => {
  const pipeline = `pipeline "ask"\nstage "deploy" {\n  ${IMAGE}\n  approval\n  run "echo deploying-now"\n}\nstage "other" {\n  ${IMAGE}\n  approval\n  run "echo other-now"\n}\n`;
  const dir = await scratch(t, { 'buildit.kdl': pipeline });
  // `script` gives the child a pseudo-terminal, so stdin and stderr are TTYs as for a person.
  const child = spawn('script', ['-qefc', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} run`, '/dev/null'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const answers = new Map([
    ['Approve stage deploy? [y/N]', 'y\n'],
    ['Approve stage other? [y/N]', 'no\n'],
  ]);
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk;
    for (const [question, answer] of answers) {
      if (output.includes(question)) {
        answers.delete(question);
        child.stdin.write(answer);
      }
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, output);
  assert.equal(answers.size, 0, 'both questions were asked');
  assert.match(output, /\[deploy\] +deploying-now/);
  assert.match(output, /\[other\] +○ skipped: approval denied/);
  assert.ok(!output.includes('other-now'));
});

/** Waits until the child printed a `stage.log` line containing `text` (NDJSON). */
async function waitForLog(output: () => string, text: string): Promise<RunEvent[]> {
  for (let i = 0; i < 300; i++) {
    const events = parseNdjson(output().split('\n').slice(0, -1).join('\n'));
    if (events.some((e) => e.type === 'stage.log' && e.line.includes(text))) return events;
    await sleep(50);
  }
  throw new Error(`no log line "${text}" in time:\n${output()}`);
}

const SLEEPER = `pipeline "sleepy"\nstage "sleeper" {\n  ${IMAGE}\n  run "echo started-sleeping; sleep 60"\n}\nstage "later" {\n  needs "sleeper"\n  ${IMAGE}\n  run "true"\n}\n`;

test('SIGINT cancels a local run: stages stopped, exit 130 within 5 s', async (t) => {
  const dir = await scratch(t, { 'buildit.kdl': SLEEPER });
  const run = start([...LOCAL, '--json'], dir);
  await waitForLog(run.output, 'started-sleeping');
  const interruptedAt = Date.now();
  run.child.kill('SIGINT');
  const { code, stdout } = await run.done;
  assert.equal(code, 130);
  assert.ok(Date.now() - interruptedAt < 5_000);
  const finished = parseNdjson(stdout).filter((e) => e.type === 'stage.finished');
  assert.deepEqual(
    finished.map((e) => (e.type === 'stage.finished' ? [e.stage, e.status] : [])),
    [
      ['sleeper', 'cancelled'],
      ['later', 'cancelled'],
    ],
  );
});

test('SIGINT cancels a docker run: exit 130 within 5 s, no container of the run is left', async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const dir = await scratch(t, { 'buildit.kdl': SLEEPER });
  const run = start(['--json', '--executor', 'docker'], dir);
  const events = await waitForLog(run.output, 'started-sleeping');
  const runId = events[0]!.runId;
  assert.equal((await findContainersByLabel(docker, { 'buildit.run': runId })).length, 1);
  const interruptedAt = Date.now();
  run.child.kill('SIGINT');
  const { code } = await run.done;
  assert.equal(code, 130);
  assert.ok(Date.now() - interruptedAt < 5_000, `took ${Date.now() - interruptedAt} ms`);
  assert.deepEqual(await findContainersByLabel(docker, { 'buildit.run': runId }), []);
});

/** Kills the process group of the stage that wrote its shell's pid to `pidFile` (if it still runs). */
async function killStageGroup(pidFile: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  const stat = pid ? await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '') : '';
  const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  if (pgid > 1) process.kill(-pgid, 'SIGKILL');
}

test('a second SIGINT exits at once with 130, even while a stage ignores SIGTERM', async (t) => {
  const stubborn = `pipeline "stubborn"\nstage "stuck" {\n  ${IMAGE}\n  run "echo $$ > pid.txt; trap '' TERM; echo started-sleeping; while true; do sleep 0.1; done"\n}\n`;
  const dir = await scratch(t, { 'buildit.kdl': stubborn });
  const run = start([...LOCAL, '--json', '--workspace', dir], dir);
  try {
    await waitForLog(run.output, 'started-sleeping');
    run.child.kill('SIGINT');
    await sleep(200);
    const secondAt = Date.now();
    run.child.kill('SIGINT');
    const { code, stderr } = await run.done;
    assert.equal(code, 130);
    assert.ok(Date.now() - secondAt < 1_000, `took ${Date.now() - secondAt} ms`);
    assert.match(stderr, /interrupted again, exiting now/);
  } finally {
    // "Exit at once" leaves the stage's processes behind by design; they are ours to clean up.
    run.child.kill('SIGKILL');
    await killStageGroup(path.join(dir, 'pid.txt'));
  }
});

/** Alive and not a zombie (an orphaned zombie may wait a while for PID 1 to reap it). */
async function processAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

test('a second SIGINT kills the local stage processes at once and exits 130', async (t) => {
  // The sleep ignores SIGTERM (inherited through exec), so the first Ctrl-C alone cannot stop it.
  const pipeline = `pipeline "killed"\nstage "sleeper" {\n  ${IMAGE}\n  run "trap '' TERM; echo pid=$$; exec sleep 300"\n}\n`;
  const dir = await scratch(t, { 'buildit.kdl': pipeline });
  const run = start([...LOCAL, '--json', '--workspace', dir], dir);
  let pid = 0;
  try {
    const events = await waitForLog(run.output, 'pid=');
    const line = events.find((e) => e.type === 'stage.log' && e.line.startsWith('pid='));
    pid = Number(line?.type === 'stage.log' ? line.line.slice(4) : 0);
    assert.ok(pid > 1 && (await processAlive(pid)), `stage pid ${pid} runs`);
    run.child.kill('SIGINT');
    await sleep(100);
    const secondAt = Date.now();
    run.child.kill('SIGINT');
    const { code, stderr } = await run.done;
    assert.equal(code, 130, stderr);
    assert.ok(Date.now() - secondAt < 2_000, `took ${Date.now() - secondAt} ms`);
    assert.match(stderr, /interrupted again/);
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      alive = await processAlive(pid);
      if (alive) await sleep(20);
    }
    assert.equal(alive, false, `the stage's sleep (pid ${pid}) is gone`);
  } finally {
    run.child.kill('SIGKILL');
    if (pid > 1 && (await processAlive(pid))) process.kill(pid, 'SIGKILL');
  }
});

test('a second SIGINT force-removes the containers of a docker run and exits 130', async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  // The stage ignores SIGTERM, so the first Ctrl-C alone would take the whole stop grace period.
  const stubborn = `pipeline "stubborn"\nstage "sleeper" {\n  ${IMAGE}\n  run "trap '' TERM; echo started-sleeping; sleep 60"\n}\n`;
  const dir = await scratch(t, { 'buildit.kdl': stubborn });
  const run = start(['--json', '--executor', 'docker'], dir);
  let runId = '';
  try {
    const events = await waitForLog(run.output, 'started-sleeping');
    runId = events[0]!.runId;
    assert.equal((await findContainersByLabel(docker, { 'buildit.run': runId })).length, 1);
    run.child.kill('SIGINT');
    await sleep(100);
    const secondAt = Date.now();
    run.child.kill('SIGINT');
    const { code, stderr } = await run.done;
    assert.equal(code, 130, stderr);
    assert.ok(Date.now() - secondAt < 3_000, `took ${Date.now() - secondAt} ms`);
    assert.match(stderr, /interrupted again/);
    assert.deepEqual(await findContainersByLabel(docker, { 'buildit.run': runId }), []);
  } finally {
    run.child.kill('SIGKILL');
    if (runId) {
      for (const container of await findContainersByLabel(docker, { 'buildit.run': runId })) {
        await docker
          .getContainer(container.id)
          .remove({ force: true })
          .catch(() => {});
      }
    }
  }
});

test('executors are chosen as on the server: an image means a container, a stage `executor` wins, --executor moves the others', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const pipeline = `pipeline "where"\nstage "boxed" {\n  ${IMAGE}\n  run "true"\n}\nstage "host" {\n  executor "local"\n  run "true"\n}\n`;
  const dir = await scratch(t, { 'buildit.kdl': pipeline });
  const executors = (stdout: string) => Object.fromEntries(parseNdjson(stdout).flatMap((e) => (e.type === 'stage.started' ? [[e.stage, e.executor]] : [])));
  const byDefault = await runCli(['--json'], dir);
  assert.equal(byDefault.code, 0, byDefault.stderr);
  assert.deepEqual(executors(byDefault.stdout), { boxed: 'docker', host: 'local' });
  const moved = await runCli([...LOCAL, '--json'], dir);
  assert.equal(moved.code, 0, moved.stderr);
  assert.deepEqual(executors(moved.stdout), { boxed: 'local', host: 'local' });
});

test('a deploy, build or stack stage fails at once, without starting, and fails the run', async (t) => {
  const pipeline = `pipeline "ship"\nstage "lint" {\n  executor "local"\n  run "echo linted"\n}\nstage "ship" needs="lint" { deploy environment="staging" service="web"; }\nstage "after" needs="ship" {\n  executor "local"\n  run "echo never"\n}\n`;
  const dir = await scratch(t, { 'buildit.kdl': pipeline });
  const { code, stdout, stderr } = await runCli(['--json'], dir);
  assert.equal(code, 1, stderr);
  assert.match(stderr, /buildit\.kdl:\d+:\d+: warning: stage kind "deploy" is not supported yet/);
  const events = parseNdjson(stdout);
  const finished = Object.fromEntries(events.flatMap((e) => (e.type === 'stage.finished' ? [[e.stage, [e.status, e.reason ?? null]]] : [])));
  assert.deepEqual(finished, {
    lint: ['succeeded', null],
    ship: ['failed', 'stage kind "deploy" is not supported yet'],
    after: ['skipped', 'needs "ship" failed'],
  });
  assert.ok(!events.some((e) => e.type === 'stage.started' && e.stage === 'ship'), 'the deploy stage never starts');
  assert.deepEqual(events.at(-1)!.type === 'run.finished' && events.at(-1), { ...events.at(-1), status: 'failed' });
});

test('hostile values stay data: variables, branch, matrix values with shell metacharacters are printed, never run', async (t) => {
  const hostile = `x"; touch pwned; echo "$(touch pwned2)\`touch pwned3\`'; touch pwned4; '`;
  const pipeline = `pipeline "inj"\nvariable "v"\nstage "s" {\n  executor "local"\n  matrix { m "a;touch pwned5" "$(touch pwned6)"; }\n  run "echo v=\${var.v}"\n  run "echo \\"b=\${git.branch} m=\${matrix.m}\\""\n}\n`;
  const dir = await scratch(t, { 'buildit.kdl': pipeline });
  const { code, stdout, stderr } = await runCli(['--json', '--workspace', dir, '--var', `v=${hostile}`, '--branch', hostile, '--event', 'manual'], dir);
  assert.equal(code, 0, stderr);
  const lines = parseNdjson(stdout).flatMap((e) => (e.type === 'stage.log' && e.stream === 'stdout' ? [e.line] : []));
  assert.ok(lines.includes(`v=${hostile}`), lines.join('\n'));
  assert.ok(lines.includes(`b=${hostile} m=a;touch pwned5`), lines.join('\n'));
  assert.ok(lines.includes(`b=${hostile} m=$(touch pwned6)`), lines.join('\n'));
  for (const file of ['pwned', 'pwned2', 'pwned3', 'pwned4', 'pwned5', 'pwned6'])
    assert.ok(!existsSync(path.join(dir, file)), `${file} was created: a value ran as code`);
});

test('a stage on the kubernetes executor, which does not exist yet, fails with that reason and fails the run', async (t) => {
  const pipeline = `pipeline "k8s"\nstage "k" {\n  executor "kubernetes"\n  ${IMAGE}\n  run "echo never"\n}\n`;
  const dir = await scratch(t, { 'buildit.kdl': pipeline });
  const { code, stdout, stderr } = await runCli(['--json'], dir);
  assert.equal(code, 1, stderr);
  assert.match(stderr, /warning: executor "kubernetes" is not supported yet/);
  const finished = parseNdjson(stdout).find((e) => e.type === 'stage.finished');
  assert.deepEqual(finished?.type === 'stage.finished' && [finished.status, finished.reason], [
    'failed',
    'executor "kubernetes" is not supported yet: use docker',
  ]);
});
