import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

/** Runs `script` (with `createLogger` in scope) in a child process whose stdout is a pipe; resolves with its exit and output. */
function runWithLogger(script: string, options: { closeReader?: boolean; env?: Record<string, string> } = {}) {
  const logModule = JSON.stringify(path.join(import.meta.dirname, 'index.ts'));
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', `import(${logModule}).then(({ createLogger }) => { ${script} })`], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  if (options.closeReader) child.stdout.destroy();
  else child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

test('JSON lines on stdout, with the name and bindings, at the level of BUILDIT_LOG_LEVEL', async () => {
  const run = runWithLogger("const log = createLogger('worker', { workerId: 'w1' }); log.debug('hidden'); log.warn({ n: 1 }, 'shown');", {
    env: { BUILDIT_LOG_LEVEL: 'warn' },
  });
  assert.equal(await run.exited, 0, run.output().stderr);
  const lines = run
    .output()
    .stdout.trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.length, 1);
  assert.deepEqual({ ...lines[0], time: undefined }, { level: 40, name: 'worker', workerId: 'w1', n: 1, msg: 'shown', time: undefined });
});

test('a process whose stdout reader is gone still exits (pino would retry the write at exit forever)', async () => {
  // Logs after its reader closed, then exits at once: with pino's buffered default destination the lines
  // left in the buffer are flushed at exit, and the flush retries EPIPE forever.
  const run = runWithLogger(
    "const log = createLogger('worker'); setTimeout(() => { for (let i = 0; i < 5; i++) log.info({ i }, 'line'); process.exit(3); }, 300);",
    {
      closeReader: true,
    },
  );
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
  const result = await Promise.race([run.exited, timeout]);
  if (result === 'timeout') run.child.kill('SIGKILL');
  assert.equal(result, 3, run.output().stderr);
});
